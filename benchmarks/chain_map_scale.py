"""Wall time of a compiled chain mapping over 2,000 generated items offline (a Distributed Map of Express children).

Figures; exits non-zero when the chain does not succeed or a result is missing. Run as
``PYTHONPATH=layers/runtime:functions uv run python benchmarks/chain_map_scale.py [items]``.

The chain: a JSON step listing ``items`` objects, then a map (``max_items`` = ``items``, over the inline bound, so a
Distributed Map) asking the SIMULATED Bedrock stand-in about each one, in the offline runner with the real handlers
and S3 emulated by moto. It checks what issue #9 asks: the execution succeeds, the map's results come back by
reference, and the results read back through the manifest hold every item. The time is the runner's (moto's engine,
JSONata evaluated in Python for every state of every child), not the service's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
DEFAULT_ITEMS = 2000


def _chain(items: int) -> dict[str, Any]:
    return {
        "name": "map-scale",
        "defaults": {"model_id": CLAUDE},
        "steps": [
            {"name": "list", "prompt": "List the items", "output": {"format": "json"}},
            {
                "map": {
                    "name": "each",
                    "items": "steps.list.json.items",
                    "max_items": items,
                    "max_concurrency": 40,
                    "step": {"name": "ask", "prompt": "Item {{ item_index }}: {{ item.n }}"},
                }
            },
        ],
    }


def main() -> None:
    items = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ITEMS
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))  # the dev-only tools/ package, as the other benchmarks do
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415
    from sfn_offline.chain_standin import JsonAnswers  # noqa: PLC0415
    from sfn_offline.engine import run_definition  # noqa: PLC0415
    from sfn_offline.functions import handlers_for  # noqa: PLC0415
    from sfn_offline.session import offline_environment  # noqa: PLC0415
    from sfn_offline.template import load_template  # noqa: PLC0415

    from companion.adapters.s3 import default_client  # noqa: PLC0415
    from companion.chains import load_chain  # noqa: PLC0415
    from companion.chains.compiler import compile_chain, machine_input  # noqa: PLC0415
    from companion.steps.preprocess import read_map_results  # noqa: PLC0415
    from tools.chain.machine import substituted  # noqa: PLC0415

    template = load_template(ROOT / "template.yaml")
    definition = substituted(compile_chain(load_chain(_chain(items))), template)
    bedrock = JsonAnswers({"List the items": {"items": [{"n": n} for n in range(items)]}})
    with offline_environment(), mock_aws():
        default_client.cache_clear()
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in template.buckets.values():
            s3.create_bucket(Bucket=bucket)
        started = time.perf_counter()
        result = run_definition(
            definition, machine_input({}), functions=handlers_for(template), bedrock=bedrock, timeout=3600
        )
        seconds = time.perf_counter() - started
        if result.status != "SUCCEEDED":
            raise SystemExit(f"the chain did not succeed: {result.error}")
        reference = result.output["steps"]["each"]

        def read(uri: str) -> bytes:
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body

        results = read_map_results(reference["ref"], reference["ref"].removeprefix("s3://").partition("/")[0], read)
        default_client.cache_clear()
    if len(results) != items or any(item is None for item in results):
        raise SystemExit(f"{len(results)} results read back, {sum(item is None for item in results)} missing")
    sys.stdout.write(
        f"Compiled chain over {items:,} generated items (Distributed Map, Express children; Bedrock SIMULATED)\n"
        f"  status {result.status}, results by reference ({reference['ref'].rsplit('/', 1)[-1]}), "
        f"{len(results):,} read back\n"
        f"  {seconds:.1f} s wall, {items / seconds:.1f} items/s, {len(bedrock.calls):,} model calls\n"
    )


if __name__ == "__main__":
    main()
