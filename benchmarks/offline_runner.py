"""Wall time of the offline Step Functions runner (``sfn_offline.engine.run_definition``): start-up and per run.

Figures, no assertions. Run as ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/offline_runner.py``.

- *start-up*: importing the runner, then the first run of the chain (moto's ASL parser, the handlers' imports, the
  touch points installed), both measured once in this fresh interpreter.
- *3-step chain*: Lambda pre-process -> ``bedrock:invokeModel`` -> Lambda post-process, inline path (no S3 offload),
  the real handlers loaded by ``tools.local_lambda.load_handler``, Bedrock answered by ``BedrockStandIn``, the offload
  bucket created in ``mock_aws``. Median of repeated runs after the first.
- *100-item Map*: an inline Map over 100 items whose iteration is a Pass, then a tiny in-process Lambda.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("OFFLINE_RUNNER_ROOT") or Path(__file__).resolve().parent.parent)

BUCKET = "offline-runner-benchmark"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
_ROUNDS = 15


def _environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "offline",
            "AWS_SECRET_ACCESS_KEY": "offline",
            "AWS_DEFAULT_REGION": "us-east-1",
            "OFFLOAD_BUCKET": BUCKET,
            "OFFLOAD_PREFIX": "offload/",
            "POWERTOOLS_SERVICE_NAME": "sfn-bedrock-companion",
            "POWERTOOLS_METRICS_NAMESPACE": "SfnBedrockCompanionBenchmark",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


def _invoke(function: str, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload": payload},
        **fields,
    }


CHAIN: dict[str, Any] = {
    "StartAt": "Preprocess Prompt",
    "States": {
        "Preprocess Prompt": _invoke(
            "PreprocessPromptFunction",
            {
                "execution_name.$": "$$.Execution.Name",
                "step": "answer",
                "model_id.$": "$.model_id",
                "prompt.$": "$.prompt",
                "variables.$": "$.variables",
                "inference": {"max_tokens": 200},
            },
            ResultSelector={"request.$": "$.Payload.request"},
            ResultPath="$.prepared",
            Next="Invoke Model",
        ),
        "Invoke Model": {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Parameters": {"ModelId.$": "$.prepared.request.ModelId", "Body.$": "$.prepared.request.Body"},
            "ResultSelector": {"text.$": "$.Body.content[0].text", "stop_reason.$": "$.Body.stop_reason"},
            "ResultPath": "$.answer",
            "Next": "Postprocess Result",
        },
        "Postprocess Result": _invoke(
            "PostprocessResultFunction",
            {"model_id.$": "$.model_id", "result.$": "$.answer"},
            OutputPath="$.Payload",
            End=True,
        ),
    },
}
CHAIN_INPUT: dict[str, Any] = {"model_id": CLAUDE, "prompt": "Say hello to {{ who }}", "variables": {"who": "Ada"}}


def _map(iteration: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Iterate", "States": {"Iterate": {**iteration, "End": True}}},
                "End": True,
            }
        },
    }


MAP_OF_PASS = _map({"Type": "Pass", "Parameters": {"n.$": "$"}})
MAP_OF_LAMBDA = _map(
    {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "Double", "Payload": {"n.$": "$"}},
        "OutputPath": "$.Payload",
    }
)
MAP_INPUT = {"items": list(range(100))}


def _double(event: dict[str, Any], context: Any) -> int:  # noqa: ARG001  (the Lambda calling convention)
    return int(event["n"]) * 2


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The handlers print EMF metrics to stdout, as in Lambda: keep them out of the figures."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _median_ms(run: Callable[[], Any], rounds: int = _ROUNDS) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    _environment()
    # The documented command puts only the layer and the functions on the path; the runner lives in tools/.
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    from sfn_offline.engine import run_definition  # noqa: PLC0415  (timed: the runner's import cost)

    import_ms = (time.perf_counter() - started) * 1000

    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415
    from sfn_offline.bedrock_standin import BedrockStandIn  # noqa: PLC0415

    from tools.local_lambda import FUNCTIONS, load_handler  # noqa: PLC0415

    bedrock = BedrockStandIn()
    with mock_aws(), _quiet():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)

        def chain() -> Any:
            handlers = {logical_id: load_handler(logical_id) for logical_id in FUNCTIONS}
            # A name of its own: the pre-process handler requires $$.Execution.Name.
            result = run_definition(
                CHAIN, CHAIN_INPUT, functions=handlers, bedrock=bedrock, execution_name=f"bench-{uuid.uuid4().hex}"
            )
            if result.status != "SUCCEEDED":
                raise RuntimeError(f"chain {result.status}: {result.error} {result.cause}")
            return result

        started = time.perf_counter()
        chain()
        first_ms = (time.perf_counter() - started) * 1000
        chain_ms, chain_min = _median_ms(chain)

        def map_of(definition: dict[str, Any]) -> Callable[[], Any]:
            def run() -> Any:
                result = run_definition(definition, MAP_INPUT, functions={"Double": _double})
                if result.status != "SUCCEEDED" or len(result.output) != len(MAP_INPUT["items"]):
                    raise RuntimeError(f"map {result.status}: {result.error} {result.cause}")
                return result

            return run

        map_of(MAP_OF_PASS)()
        pass_ms, pass_min = _median_ms(map_of(MAP_OF_PASS), rounds=5)
        lambda_ms, lambda_min = _median_ms(map_of(MAP_OF_LAMBDA), rounds=5)

    print(f"python {sys.version.split()[0]}")
    print(f"runner import                     {import_ms:8.1f} ms")
    print(f"first run of the chain (start-up) {first_ms:8.1f} ms")
    print(f"3-step chain, median of {_ROUNDS}        {chain_ms:8.1f} ms   (min {chain_min:.1f})")
    print(f"100-item Map of Pass, median of 5 {pass_ms:8.1f} ms   (min {pass_min:.1f})")
    print(f"100-item Map of Lambda, median 5  {lambda_ms:8.1f} ms   (min {lambda_min:.1f})")


if __name__ == "__main__":
    main()
