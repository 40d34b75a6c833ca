"""The deployed functions, invoked through the Lambda API with the same sample events as the unit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.deployed
EVENTS = Path(__file__).resolve().parents[2] / "events"


def _invoke(function_arn: str, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    import boto3

    response = boto3.client("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def _event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / "lambda" / f"{name}.json").read_text())
    return loaded


def test_postprocess_returns_validated_json(stack_outputs: dict[str, str]) -> None:
    payload, error = _invoke(stack_outputs["PostprocessResultFunctionArn"], _event("postprocess_result"))
    assert error is None, payload
    assert payload["json"]["title"]


def test_a_large_prompt_is_offloaded_to_the_stacks_bucket(stack_outputs: dict[str, str]) -> None:
    import boto3

    event = _event("preprocess_prompt")
    event["variables"]["steps"]["research"]["text"] = "n" * 300 * 1024
    payload, error = _invoke(stack_outputs["PreprocessPromptFunctionArn"], event)
    assert error is None, payload
    bucket, key = payload["request"]["Input"]["S3Uri"][len("s3://") :].split("/", 1)
    assert bucket == stack_outputs["PayloadBucketName"]
    head = boto3.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "application/json"


def test_a_named_error_reaches_the_caller_as_its_class_name(stack_outputs: dict[str, str]) -> None:
    event = _event("postprocess_result") | {"model_id": "openai.gpt-9"}
    payload, error = _invoke(stack_outputs["PostprocessResultFunctionArn"], event)
    assert error == "Unhandled"
    assert payload["errorType"] == "UnknownModelFamilyError"
