"""A whole prompt chain step offline: the project's real handlers around a Bedrock invokeModel task."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sfn_offline.engine import ExecutionResult, run_definition

from tools.local_lambda import FUNCTIONS, load_handler

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
THROTTLING_RETRY = [
    {
        "ErrorEquals": ["Bedrock.ThrottlingException"],
        "IntervalSeconds": 2,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL",
    }
]
ANSWER_SELECTOR = {"text.$": "$.Body.content[0].text", "stop_reason.$": "$.Body.stop_reason"}


def _invoke(function: str, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload": payload},
        **fields,
    }


def _ask(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::bedrock:invokeModel",
        "Parameters": {"ModelId.$": "$.prepared.request.ModelId", **request},
        "ResultSelector": ANSWER_SELECTOR,
        "ResultPath": "$.answer",
        "Retry": THROTTLING_RETRY,
        "Next": "Postprocess Result",
    }


CHAIN_STEP: dict[str, Any] = {
    "StartAt": "Prepare Step",
    "States": {
        "Prepare Step": {
            "Type": "Pass",
            "Parameters": {
                "step": "answer",
                "model_id.$": "$.model_id",
                "prompt.$": "$.prompt",
                "variables.$": "$.variables",
            },
            "Next": "Preprocess Prompt",
        },
        "Preprocess Prompt": _invoke(
            "PreprocessPromptFunction",
            {
                "execution_name.$": "$$.Execution.Name",
                "step.$": "$.step",
                "model_id.$": "$.model_id",
                "prompt.$": "$.prompt",
                "variables.$": "$.variables",
                "inference": {"max_tokens": 200},
            },
            ResultSelector={"request.$": "$.Payload.request", "offloaded.$": "$.Payload.offloaded"},
            ResultPath="$.prepared",
            Catch=[{"ErrorEquals": ["InputValidationError"], "ResultPath": "$.error", "Next": "Report Rejection"}],
            Next="Choose Request Source",
        ),
        "Choose Request Source": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.prepared.offloaded", "BooleanEquals": True, "Next": "Invoke Model From S3"}],
            "Default": "Invoke Model Inline",
        },
        "Invoke Model Inline": _ask({"Body.$": "$.prepared.request.Body"}),
        "Invoke Model From S3": _ask({"Input": {"S3Uri.$": "$.prepared.request.Input.S3Uri"}}),
        "Postprocess Result": _invoke(
            "PostprocessResultFunction",
            {"model_id.$": "$.model_id", "result.$": "$.answer"},
            OutputPath="$.Payload",
            Next="Done",
        ),
        "Done": {"Type": "Succeed"},
        "Report Rejection": {"Type": "Pass", "OutputPath": "$.error", "End": True},
    },
}


@pytest.fixture
def handlers() -> dict[str, Any]:
    return {logical_id: load_handler(logical_id) for logical_id in FUNCTIONS}


def run_chain(prompt: str, variables: dict[str, Any], handlers: dict[str, Any], bedrock: Any) -> ExecutionResult:
    return run_definition(
        CHAIN_STEP,
        {"model_id": CLAUDE, "prompt": prompt, "variables": variables},
        functions=handlers,
        bedrock=bedrock,
        execution_name="chain-e2e",
    )


def test_small_prompt_goes_inline_to_the_model(handlers: dict[str, Any], bedrock: Any, s3: Any) -> None:
    # Given a small prompt
    # When the step runs
    result = run_chain("Say hello to {{ who }}", {"who": "Ada"}, handlers, bedrock)
    # Then the rendered Claude body reached the model inline and the post-processed answer is the output
    assert result.status == "SUCCEEDED", result.cause
    [call] = bedrock.calls
    assert call["state_name"] == "Invoke Model Inline"
    assert call["body"]["messages"][-1]["content"] in (
        "Say hello to Ada",
        [{"type": "text", "text": "Say hello to Ada"}],
    )
    assert call["body"]["max_tokens"] == 200
    assert result.output["text"] == "Say hello to Ada"
    assert result.output["stop_reason"] == "end_turn"


def test_large_prompt_is_offloaded_and_read_back_from_s3(handlers: dict[str, Any], bedrock: Any, s3: Any) -> None:
    # Given a variable rendered twice into a > 300 KiB prompt (the execution input itself must stay under 256 KiB)
    document = "lorem ipsum " * (150 * 1024 // 12)
    bedrock.answer = "a short summary"
    # When the step runs
    result = run_chain("{{ doc }}\n---\n{{ doc }}", {"doc": document}, handlers, bedrock)
    # Then the request went through S3, under this execution's name, and the model got the whole body from there
    assert result.status == "SUCCEEDED", result.cause
    [call] = bedrock.calls
    assert call["state_name"] == "Invoke Model From S3"
    sent = json.dumps(call["body"])
    assert len(sent) > 300 * 1024
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="companion-test-payloads")["Contents"]]
    assert any("chain-e2e" in key for key in keys)
    assert result.output["text"] == "a short summary"


def test_throttled_model_is_retried_until_it_answers(handlers: dict[str, Any], bedrock: Any, s3: Any) -> None:
    # Given a model that throttles twice
    bedrock.throttle = 2
    # When the step runs
    result = run_chain("Say hello", {}, handlers, bedrock)
    # Then three attempts reached the model and the third answer went through
    assert result.status == "SUCCEEDED", result.cause
    assert [call["attempt"] for call in bedrock.calls] == [0, 1, 2]
    assert result.output["text"] == "Say hello"


def test_invalid_step_input_is_caught_by_name(handlers: dict[str, Any], bedrock: Any, s3: Any) -> None:
    # Given an empty prompt, which the pre-process handler rejects with InputValidationError
    # When the step runs
    result = run_chain("", {}, handlers, bedrock)
    # Then the Catch took the error by its class name and the model was never called
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "InputValidationError"
    assert json.loads(result.output["Cause"])["errorType"] == "InputValidationError"
    assert bedrock.calls == []
