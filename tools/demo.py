"""The main job, offline: the three companion Lambdas on the sample events, against S3 emulated by moto.

What is real: the handlers, the layer's code, Powertools, boto3 talking to moto's S3. What is simulated: Bedrock.
In steps 1-4 a sample answer (events/bedrock/claude.json, written by hand in the shape Bedrock returns) is put at
the Output.S3Uri the way Step Functions would; step 5 runs a three-step chain
(layers/runtime/companion/chain_library/outline-draft-critique.json) through the template's
PromptChainStateMachine with the offline runner, whose Bedrock stand-in answers with
deterministic placeholder text, and with fixed sample JSON for the chain's two JSON steps. No model is called.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
BUCKET = "sfn-bedrock-companion-payloads-dev"


def _offline_environment(verbose: bool) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "offline",
            "AWS_SECRET_ACCESS_KEY": "offline",
            "AWS_DEFAULT_REGION": "us-east-1",
            "OFFLOAD_BUCKET": BUCKET,
            "POWERTOOLS_SERVICE_NAME": "sfn-bedrock-companion",
            "POWERTOOLS_METRICS_NAMESPACE": "SfnBedrockCompanion",
            "POWERTOOLS_LOG_LEVEL": "INFO" if verbose else "WARNING",
        }
    )


def _event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / "lambda" / f"{name}.json").read_text())
    return loaded


def _show(title: str, value: Any) -> None:
    print(f"\n== {title}")
    print(json.dumps(value, indent=2, ensure_ascii=False)[:3000])


def run(verbose: bool) -> None:
    _offline_environment(verbose)
    import boto3  # noqa: PLC0415  (after the environment is set: boto3 reads it)
    from moto import mock_aws  # noqa: PLC0415

    from tools.local_lambda import invoke as invoke_handler  # noqa: PLC0415

    def invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        # EMF metrics are printed to stdout, as in Lambda; shown only with --verbose.
        sink = io.StringIO()
        with contextlib.redirect_stdout(sys.stdout if verbose else sink):
            return invoke_handler(logical_id, event)

    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)

        prepared = invoke("PreprocessPromptFunction", _event("preprocess_prompt"))
        _show("1. pre-process prompt: a small prompt stays inline, Output.S3Uri assigned", prepared)

        large = _event("preprocess_prompt")
        large["variables"]["steps"]["research"]["text"] = "Notes on payload limits. " * 12_500  # ~300 KiB
        large["step"] = "outline-large"
        offloaded = invoke("PreprocessPromptFunction", large)
        request_uri = offloaded["request"]["Input"]["S3Uri"]
        stored = s3.get_object(Bucket=BUCKET, Key=request_uri.split("/", 3)[3])
        _show(
            "2. pre-process prompt: a ~300 KiB prompt goes to S3 as Input.S3Uri",
            {
                "request": offloaded["request"],
                "body_bytes": offloaded["body_bytes"],
                "s3_object": {"ContentType": stored["ContentType"], "ContentLength": stored["ContentLength"]},
            },
        )

        # Stand-in for the Bedrock task: a sample answer written where Step Functions would write it.
        answer = json.loads((EVENTS / "bedrock" / "claude.json").read_text())["Body"]
        output_key = prepared["output_s3_uri"].split("/", 3)[3]
        s3.put_object(Bucket=BUCKET, Key=output_key, Body=json.dumps(answer).encode(), ContentType="application/json")
        resolve_event = _event("resolve_output") | {"output_s3_uri": prepared["output_s3_uri"]}
        _show(
            "3. resolve output: the offloaded answer read back and normalized",
            invoke("ResolveOutputFunction", resolve_event),
        )

        _show(
            "4. post-process result: JSON pulled out of prose and fences, checked against the step's schema",
            invoke("PostprocessResultFunction", _event("postprocess_result")),
        )
    print("\n== 5. a three-step chain (outline -> draft -> critique) in the packaged PromptChainStateMachine,")
    print("   run by the offline runner: Bedrock is the stand-in (deterministic placeholder text, not a model); the")
    print("   outline and critique steps, which must answer JSON, get fixed sample JSON from it", flush=True)
    status = _run_chain()
    print("\nAll three Lambdas ran offline, alone and in the state machine. No model was called: step 3 used a sample")
    print("answer, step 5 the Bedrock stand-in.")
    if status != 0:
        raise SystemExit(status)


SAMPLE_JSON_ANSWERS = {
    "Write an outline": {
        "title": "Prompt chains on Step Functions",
        "sections": ["Why chain prompts", "Staying under 256 KiB", "Re-prompting invalid JSON"],
    },
    "Critique this draft": {"score": 6, "strengths": ["clear structure"], "issues": ["simulated text, no content"]},
}


def _run_chain() -> int:
    """Runs events/statemachine/prompt_chain.json (the plan companion.chains.execution_input computes) offline."""
    from unittest import mock  # noqa: PLC0415

    from tools.offline import bedrock_standin  # noqa: PLC0415
    from tools.offline.chain_standin import JsonAnswers  # noqa: PLC0415
    from tools.offline.cli import main as offline_runner  # noqa: PLC0415

    with mock.patch.object(bedrock_standin, "BedrockStandIn", return_value=JsonAnswers(SAMPLE_JSON_ANSWERS)):
        return offline_runner(
            ["run", "PromptChainStateMachine", "--input", str(EVENTS / "statemachine" / "prompt_chain.json")]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="show the handlers' structured logs and EMF metrics")
    run(parser.parse_args().verbose)


if __name__ == "__main__":
    main()
