"""At DEBUG, the most verbose configuration any deployment may choose, no log line holds a prompt or an answer."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from companion.adapters.stepfunctions import default_client as sfn_client
from tools.local_lambda import LocalLambdaContext

CANARY = "canary-7f3a9c-user-text"
BUCKET = "companion-test-payloads"
CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:"
Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def debug_everywhere(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """What Lambda does with ApplicationLogLevel DEBUG (the root logger), and Powertools with POWERTOOLS_LOG_LEVEL."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("STANDARD_STATE_MACHINE_ARN", MACHINE + "Chain")
    monkeypatch.setenv("EXPRESS_STATE_MACHINE_ARN", MACHINE + "ChainExpress")
    monkeypatch.setenv("CHAIN_STATE_MACHINE_ARN_PREFIX", MACHINE + "chain-")
    caplog.set_level(logging.DEBUG)
    from companion.observability import logger

    logger.setLevel(logging.DEBUG)


def _claude_answer(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _proxy(method: str, path: str, body: str | None) -> dict[str, Any]:
    return {"httpMethod": method, "path": path, "headers": {}, "body": body, "isBase64Encoded": False}


def test_no_log_line_at_debug_holds_the_prompt_or_the_answer(
    debug_everywhere: None,
    s3: Any,
    invoke: Invoke,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a prompt and answers that carry a canary, through every function that sees user text, at DEBUG
    answer = json.dumps({"title": CANARY, "points": [CANARY] * 3})
    s3.put_object(Bucket=BUCKET, Key="offload/responses/e/s.json", Body=json.dumps(_claude_answer(answer)))
    prompt = {
        "execution_name": "e",
        "step": "s",
        "model_id": CLAUDE,
        "prompt": f"Tell me about {CANARY} and {{{{ input.topic }}}}",
        "variables": {"input": {"topic": CANARY}},
        "offload": {"max_inline_bytes": 1024, "output_to_s3": True},
    }
    post = {"model_id": CLAUDE, "result": _claude_answer(answer), "output": {"format": "json"}}
    resolve = {"model_id": CLAUDE, "output_s3_uri": f"s3://{BUCKET}/offload/responses/e/s.json"}
    with mock_aws():
        sfn_client.cache_clear()
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        for name in ("Chain", "chain-outline-draft-critique"):
            sfn.create_state_machine(name=name, definition=definition, roleArn="arn:aws:iam::123456789012:role/r")
        chain_api = importlib.import_module("chain_api.app")
        chain_api.machines.cache_clear()  # built from this test's environment, not an earlier test's
        api = chain_api.lambda_handler
        context = LocalLambdaContext(function_name="ChainApiFunction")
        # When the step functions run (one offloads the prompt to S3, one reads the answer back) and the API starts
        # a chain with the canary in its variables and reads it back
        invoke("PreprocessPromptFunction", prompt)
        invoke("PostprocessResultFunction", post)
        invoke("ResolveOutputFunction", resolve)
        body = json.dumps({"chain": "outline-draft-critique", "variables": {"topic": CANARY, "audience": CANARY}})
        started = json.loads(api(_proxy("POST", "/chains", body), context)["body"])
        api(_proxy("GET", f"/chains/{started['executionId']}", None), context)
        sfn_client.cache_clear()
    # Then the calls went through (the canary did reach S3 and Step Functions) and no captured line holds it
    assert started["status"] == "RUNNING"
    records = [r for r in caplog.records if not r.name.startswith("moto")]  # moto is the test's AWS, not deployed
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in records) + capsys.readouterr().out
    assert logged, "the handlers logged nothing at DEBUG: the test would prove nothing"
    assert CANARY not in logged
