"""The main job, offline: a prompt chain started from an API Gateway event, and the three companion Lambdas alone.

What is real: the handlers (the chain API's too), the layer's code, Powertools, boto3 talking to moto's S3 and Step
Functions, the chain's compiled machine from the template run by moto's interpreter (sfn_offline). What is simulated:
Bedrock. In steps 1-4 a sample answer (events/bedrock/claude.json, written by hand in the shape Bedrock returns) is
put at the Output.S3Uri the way Step Functions would. Step 5 hands the API Gateway event events/api/start_chain.json
(POST /chains) to the real ChainApiFunction handler, which starts the three-step chain outline-draft-critique
(layers/runtime/companion/chains/library/) on its own compiled machine in the offline stack; the
Bedrock stand-in answers with deterministic placeholder text, and with fixed sample JSON for the chain's two JSON
steps. No model is called.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

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
    status = run_chain_from_api_event(sys.stdout)
    print("\nAll four Lambdas ran offline, alone and behind the API and the state machine. No model was called: step 3")
    print("used a sample answer, step 5 the Bedrock stand-in.")
    if status != 0:
        raise SystemExit(status)


# Scripted JSON for the chain's two JSON steps, keyed by a marker of their prompts (sfn_offline/chain_standin.py);
# the api command takes the same file with --json-answers.
SAMPLE_JSON_ANSWERS: dict[str, Any] = json.loads(
    (ROOT / "tools" / "json_answers" / "outline-draft-critique.json").read_text()
)
CHAIN_TIMEOUT_SECONDS = 120
_TEXT_CHARS = 160


def run_chain_from_api_event(out: IO[str]) -> int:
    """Step 5: POST /chains (events/api/start_chain.json) through the real ChainApiFunction into the offline stack.

    Prints the API's answer, the execution's progress state by state, the final answer (each step's result) read back
    with GET /chains/{id}, and the execution summary with its estimated AWS cost. Returns 0 when the chain succeeded.
    """
    from moto import mock_aws  # noqa: PLC0415
    from sfn_offline import report  # noqa: PLC0415
    from sfn_offline.chain_standin import JsonAnswers  # noqa: PLC0415
    from sfn_offline.cli import load_template_file, memory_of  # noqa: PLC0415
    from sfn_offline.functions import handlers_for  # noqa: PLC0415
    from sfn_offline.session import HandlerOutput, offline_environment  # noqa: PLC0415
    from sfn_offline.stack import OfflineStack  # noqa: PLC0415

    from tools.generate_chains import logical_prefix  # noqa: PLC0415

    event = json.loads((EVENTS / "api" / "start_chain.json").read_text())
    template = load_template_file(str(ROOT / "template.yaml"), [])
    chain = json.loads(event["body"])["chain"]
    machine = template.state_machines[f"{logical_prefix(chain)}ChainStateMachine"]
    recorder = report.RunRecorder()
    out.write("\n== 5. POST /chains: the API Gateway event events/api/start_chain.json, handled by the real\n")
    out.write(f"   ChainApiFunction, starts the packaged chain {chain} (outline, draft, critique) on its own\n")
    out.write(f"   compiled machine, {machine.logical_id} (offline stack: moto runs it). Bedrock is SIMULATED:\n")
    out.write("   placeholder text, and fixed sample JSON for the two steps that must answer JSON.\n")
    with offline_environment(), contextlib.redirect_stdout(HandlerOutput(None)), mock_aws():
        handlers = recorder.wrap_functions(handlers_for(template), memory_of(template))
        bedrock = recorder.wrap_bedrock(JsonAnswers(SAMPLE_JSON_ANSWERS))
        with OfflineStack(template, functions=handlers, bedrock=bedrock) as stack:
            api = stack.functions["ChainApiFunction"]
            started = api(event, None)
            body = json.loads(started["body"])
            out.write(f"\n{event['httpMethod']} {event['path']} -> {started['statusCode']} {json.dumps(body)}\n")
            if started["statusCode"] != HTTPStatus.ACCEPTED:
                return 1
            out.write(f"\n== 6. {machine.logical_id}: progress, state by state\n")
            result = stack.wait(body["executionArn"], CHAIN_TIMEOUT_SECONDS, on_event=report.ProgressPrinter(out))
            described = api(_get_chain_event(event, body["executionId"]), None)
    answer = json.loads(described["body"])
    out.write(f"\n== 7. GET /chains/{{id}} -> {described['statusCode']}: {answer.get('status')}\n")
    for name, step in (answer.get("output") or {}).get("steps", {}).items():
        parsed = step.get("json")
        shown = (
            json.dumps(parsed, ensure_ascii=False) if parsed is not None else " ".join(str(step.get("text")).split())
        )
        out.write(f"  {name}: {shown if len(shown) <= _TEXT_CHARS else shown[: _TEXT_CHARS - 1] + '…'}\n")
    if result.status != "SUCCEEDED":
        out.write(f"  error: {result.error}\n  cause: {result.cause}\n")
    out.write("\n")
    summary = report.summarize(
        status=result.status,
        seconds=_seconds(result),
        history=result.history,
        definition_bytes=len(json.dumps(machine.definition)),
        recorder=recorder,
        prices=report.load_prices(),
    )
    out.write(report.render_summary(summary) + "\n")
    return 0 if result.status == "SUCCEEDED" else 1


def _get_chain_event(post: dict[str, Any], execution_id: str) -> dict[str, Any]:
    """The GET /chains/{id} proxy event a client would send after the POST (same API, stage and caller)."""
    headers = {"Accept": "application/json", "Host": post["headers"]["Host"]}
    context = post["requestContext"] | {"httpMethod": "GET", "resourcePath": "/chains/{id}", "requestId": "demo-get"}
    return post | {
        "resource": "/chains/{id}",
        "path": f"/chains/{execution_id}",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "pathParameters": {"id": execution_id},
        "requestContext": context | {"path": f"/v1/chains/{execution_id}"},
        "body": None,
    }


def _seconds(result: Any) -> float:
    if result.started_at is None or result.stopped_at is None:
        return 0.0
    return float((result.stopped_at - result.started_at).total_seconds())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="show the handlers' structured logs and EMF metrics")
    run(parser.parse_args().verbose)


if __name__ == "__main__":
    main()
