"""This project's plugin for the offline runner (``sfn-offline``): what the runner cannot know about the project.

Named in pyproject.toml under ``[tool.sfn-offline] plugins``. Dev tooling: it may import both the runtime layer
(``companion``) and the runner's public plugin API; neither of those imports the other.

- ``import_paths``: the runtime layer's source folder, so this module's hooks can import ``companion``.
- ``before_run``/``after_run``: the handlers cache their boto3 clients across invocations (the adapters'
  ``default_client``); one built under an earlier emulation would reach a dead backend, so both are forgotten when a
  session opens and when it closes.
- ``token_usage``: the run summary counts tokens the way the project's Lambdas read them (``companion.codec``).
- ``json_schema_for``: the SIMULATED Bedrock answers the packaged chains' JSON steps with JSON valid for each step's
  schema (``tools.chain.answers``), so they run to SUCCEEDED with no answers file.
- ``fine_tuning_costs``: the summary prices customization jobs and Provisioned Throughput with the layer's own
  fine-tuning price table and estimate (``companion.finetune.costs``), as the deployed fine-tuning summary does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sfn_offline.plugin import Plugin


def _import_paths(project_dir: Path) -> Iterable[Path]:
    return [project_dir / "layers" / "runtime"]


def _forget_cached_clients() -> None:
    from companion.adapters import s3, stepfunctions  # noqa: PLC0415  (importable once import_paths applied)

    s3.default_client.cache_clear()
    stepfunctions.default_client.cache_clear()


def _token_usage(answer: Any, model_id: str) -> tuple[int | None, int | None] | None:
    from companion.codec import decode  # noqa: PLC0415
    from companion.errors import CompanionError  # noqa: PLC0415

    try:
        result = decode(answer, model_id)
    except CompanionError:
        return None  # not an answer the codec reads: the runner's own reading decides
    return result.input_tokens, result.output_tokens


@functools.cache
def _packaged_chooser() -> Any:
    from tools.chain.answers import packaged_chooser  # noqa: PLC0415

    return packaged_chooser()


def _json_schema_for(state_name: str, body: Any) -> Any:
    return _packaged_chooser()(state_name, body)


def _fine_tuning_costs() -> Any:
    from companion.finetune import costs  # noqa: PLC0415

    return costs


plugin = Plugin(
    name="sfn-bedrock-companion",
    import_paths=_import_paths,
    before_run=_forget_cached_clients,
    after_run=_forget_cached_clients,
    token_usage=_token_usage,
    json_schema_for=_json_schema_for,
    fine_tuning_costs=_fine_tuning_costs,
)
