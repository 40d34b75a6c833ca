"""The offline engine behaves as AWS documents for each gap closed over moto: small definitions, one behaviour each."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from sfn_offline import moto_engine
from sfn_offline.engine import run_definition

INVOKE_MODEL = "arn:aws:states:::bedrock:invokeModel"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
CLAUDE_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "hi"}],
}


class InputValidationError(Exception):
    """Same class name as the project's: Step Functions matches errors by name only."""


def machine(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A definition chaining ``states`` in order; the last one ends the execution."""
    body: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        chained = dict(state)
        if chained["Type"] not in {"Choice", "Succeed", "Fail"} and not {"Next", "End"} & chained.keys():
            last = index + 1 == len(states)
            chained.update({"End": True} if last else {"Next": states[index + 1][0]})
        body[name] = chained
    return {"StartAt": states[0][0], "States": body}


def bedrock_task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": INVOKE_MODEL, **fields}


# --- 1. Lambda tasks ---------------------------------------------------------------------------------------------


def test_lambda_invoke_puts_the_handler_result_in_payload() -> None:
    # Given a lambda:invoke task and an in-process handler
    seen: list[tuple[dict[str, Any], str]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((event, context.function_name))
        return {"doubled": event["n"] * 2}

    definition = machine(
        (
            "Double",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "DoubleFunction", "Payload": {"n.$": "$.n"}},
            },
        )
    )
    # When it runs
    result = run_definition(definition, {"n": 21}, functions={"DoubleFunction": handler})
    # Then the handler got the Payload and its return value is $.Payload, with the status code beside it
    assert result.status == "SUCCEEDED"
    assert seen == [({"n": 21}, "DoubleFunction")]
    assert result.output["Payload"] == {"doubled": 42}
    assert result.output["StatusCode"] == 200


def test_function_arn_resource_returns_the_handler_result_itself() -> None:
    # Given the legacy form: the function ARN as the Resource, handlers registered by name
    arn = "arn:aws:lambda:us-east-1:123456789012:function:Greet"
    definition = machine(("Greet", {"Type": "Task", "Resource": arn}))
    # When it runs
    result = run_definition(definition, {"who": "Ada"}, functions={"Greet": lambda event, _: f"hello {event['who']}"})
    # Then the state's result is the handler's return value, not an Invoke response
    assert result.status == "SUCCEEDED"
    assert result.output == "hello Ada"


def test_handler_exception_is_caught_by_its_class_name() -> None:
    # Given a handler raising InputValidationError and a Catch on that name
    def reject(event: dict[str, Any], context: Any) -> None:
        raise InputValidationError("prompt: field required")

    definition = machine(
        (
            "Validate",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Reject", "Payload.$": "$"},
                "Catch": [{"ErrorEquals": ["InputValidationError"], "ResultPath": "$.error", "Next": "Rejected"}],
                "Next": "Accepted",
            },
        ),
        ("Accepted", {"Type": "Succeed"}),
        ("Rejected", {"Type": "Pass", "OutputPath": "$.error"}),
    )
    # When it runs
    result = run_definition(definition, {}, functions={"Reject": reject})
    # Then the runtime's error envelope reached the Catch: Error is the class name, Cause the envelope JSON
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "InputValidationError"
    cause = json.loads(result.output["Cause"])
    assert cause["errorType"] == "InputValidationError"
    assert cause["errorMessage"] == "prompt: field required"
    assert isinstance(cause["stackTrace"], list)


def test_unhandled_handler_error_matches_states_task_failed_and_retries() -> None:
    # Given a handler that fails twice and a Retry on States.TaskFailed
    attempts: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> str:
        attempts.append(len(attempts))
        if len(attempts) < 3:
            raise ValueError("transient")
        return "ok"

    definition = machine(
        (
            "Flaky",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Flaky"},
                "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 5, "MaxAttempts": 2}],
                "OutputPath": "$.Payload",
            },
        )
    )
    # When it runs without sleeping
    result = run_definition(definition, {}, functions={"Flaky": flaky})
    # Then it succeeds on the third attempt
    assert (result.status, result.output, len(attempts)) == ("SUCCEEDED", "ok", 3)


def test_unknown_error_fails_the_execution_with_the_class_name() -> None:
    def broken(event: dict[str, Any], context: Any) -> None:
        raise KeyError("model_id")

    definition = machine(
        ("Broken", {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "B"}})
    )
    result = run_definition(definition, {}, functions={"B": broken})
    assert (result.status, result.error) == ("FAILED", "KeyError")
    assert json.loads(result.cause or "{}")["errorType"] == "KeyError"


# --- 2. bedrock:invokeModel --------------------------------------------------------------------------------------


def test_invoke_model_returns_the_parsed_body(bedrock: Any) -> None:
    # Given an invokeModel task with an inline Body
    definition = machine(("Ask", bedrock_task(Parameters={"ModelId": CLAUDE, "Body": CLAUDE_BODY})))
    # When it runs
    result = run_definition(definition, {}, bedrock=bedrock)
    # Then the result is {Body: <parsed JSON>, ContentType}, and the backend saw the state and the first attempt
    assert result.status == "SUCCEEDED"
    assert result.output["ContentType"] == "application/json"
    assert result.output["Body"]["content"][0]["text"] == "hi"
    assert bedrock.calls == [
        {"kind": "invoke_model", "state_name": "Ask", "attempt": 0, "model_id": CLAUDE, "body": CLAUDE_BODY}
    ]


def test_invoke_model_reads_input_and_writes_output_in_s3(bedrock: Any, s3: Any) -> None:
    # Given a request body offloaded to S3 and an Output.S3Uri
    s3.put_object(Bucket="runner-test-payloads", Key="req.json", Body=json.dumps(CLAUDE_BODY).encode())
    parameters = {
        "ModelId": CLAUDE,
        "Input": {"S3Uri": "s3://runner-test-payloads/req.json"},
        "Output": {"S3Uri": "s3://runner-test-payloads/resp.json"},
    }
    # When it runs inside the caller's mock
    result = run_definition(machine(("Ask", bedrock_task(Parameters=parameters))), {}, bedrock=bedrock)
    # Then the backend got the body from S3, the answer went to S3, and the result only points at it
    assert result.status == "SUCCEEDED"
    assert bedrock.calls[0]["body"] == CLAUDE_BODY
    stored = json.loads(s3.get_object(Bucket="runner-test-payloads", Key="resp.json")["Body"].read())
    assert stored["content"][0]["text"] == "hi"
    assert result.output == {
        "Body": {"S3Uri": "s3://runner-test-payloads/resp.json"},
        "ContentType": "application/json",
    }


def test_body_and_input_together_fail_with_a_validation_error(bedrock: Any) -> None:
    parameters = {"ModelId": CLAUDE, "Body": CLAUDE_BODY, "Input": {"S3Uri": "s3://b/k.json"}}
    result = run_definition(machine(("Ask", bedrock_task(Parameters=parameters))), {}, bedrock=bedrock)
    assert (result.status, result.error) == ("FAILED", "Bedrock.ValidationException")
    assert bedrock.calls == []


def test_throttling_is_retried_with_the_attempt_index(bedrock: Any) -> None:
    # Given a backend that throttles twice and a Retry on Bedrock.ThrottlingException
    bedrock.throttle = 2
    retry = [
        {"ErrorEquals": ["Bedrock.ThrottlingException"], "IntervalSeconds": 3, "MaxAttempts": 3, "BackoffRate": 2.0}
    ]
    definition = machine(("Ask", bedrock_task(Parameters={"ModelId": CLAUDE, "Body": CLAUDE_BODY}, Retry=retry)))
    # When it runs
    result = run_definition(definition, {}, bedrock=bedrock)
    # Then three attempts, numbered 0, 1, 2, reached the backend, and the third answered
    assert result.status == "SUCCEEDED"
    assert [call["attempt"] for call in bedrock.calls] == [0, 1, 2]
    failed = [e["taskFailedEventDetails"] for e in result.history if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["Bedrock.ThrottlingException"] * 2


def test_exhausted_throttling_fails_with_the_bedrock_error_name(bedrock: Any) -> None:
    bedrock.throttle = 10
    retry = [{"ErrorEquals": ["Bedrock.ThrottlingException"], "MaxAttempts": 1}]
    definition = machine(("Ask", bedrock_task(Parameters={"ModelId": CLAUDE, "Body": CLAUDE_BODY}, Retry=retry)))
    result = run_definition(definition, {}, bedrock=bedrock)
    assert (result.status, result.error) == ("FAILED", "Bedrock.ThrottlingException")
    assert result.cause == "Rate exceeded (attempt 1)"
    assert len(bedrock.calls) == 2


# --- 3. aws-sdk Bedrock actions ----------------------------------------------------------------------------------


def test_converse_sdk_integration_reaches_the_backend_in_pascal_case(bedrock: Any) -> None:
    request = {"ModelId": CLAUDE, "Messages": [{"Role": "user", "Content": [{"Text": "hi"}]}]}
    definition = machine(
        (
            "Converse",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:bedrockruntime:converse",
                "Parameters": request,
                "ResultSelector": {"text.$": "$.Output.Message.Content[0].Text", "stop.$": "$.StopReason"},
            },
        )
    )
    result = run_definition(definition, {}, bedrock=bedrock)
    assert result.status == "SUCCEEDED"
    assert result.output == {"text": "conversed", "stop": "end_turn"}
    assert bedrock.calls[0]["request"] == request


def test_control_plane_action_and_its_errors(bedrock: Any) -> None:
    # Given an aws-sdk:bedrock action the backend rejects, with a Catch on the Bedrock error name
    definition = machine(
        (
            "Get",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:bedrock:getProvisionedModelThroughput",
                "Parameters": {"ProvisionedModelId": "pm-1"},
                "Catch": [{"ErrorEquals": ["Bedrock.ValidationException"], "Next": "Caught"}],
            },
        ),
        ("Caught", {"Type": "Pass", "Result": "caught"}),
    )
    result = run_definition(definition, {}, bedrock=bedrock)
    # Then the action name reached the backend in PascalCase and its error was caught by name
    assert (result.status, result.output) == ("SUCCEEDED", "caught")
    assert bedrock.calls[0]["action"] == "GetProvisionedModelThroughput"
    assert bedrock.calls[0]["request"] == {"ProvisionedModelId": "pm-1"}


def test_customization_job_sync_waits_for_completion(bedrock: Any) -> None:
    parameters = {
        "BaseModelIdentifier": "amazon.nova-lite-v1:0:300k",
        "CustomModelName": "m1",
        "JobName": "job1",
        "RoleArn": "arn:aws:iam::123456789012:role/bedrock",
        "TrainingDataConfig": {"S3Uri": "s3://b/train.jsonl"},
        "OutputDataConfig": {"S3Uri": "s3://b/out/"},
    }
    definition = machine(
        (
            "Train",
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:createModelCustomizationJob.sync",
                "Parameters": parameters,
            },
        )
    )
    result = run_definition(definition, {}, bedrock=bedrock)
    assert result.status == "SUCCEEDED"
    assert result.output["Status"] == "Completed"
    assert [call["action"] for call in bedrock.calls] == [
        "CreateModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
    ]


# --- 4. JSONPath definite vs indefinite --------------------------------------------------------------------------


def test_definite_paths_return_values_and_indefinite_paths_return_lists() -> None:
    # Given a task whose ResultSelector mixes definite and indefinite paths
    data = {
        "content": [{"type": "text", "text": "hello"}, {"type": "tool_use", "text": "t"}],
        "stop_reason": "end_turn",
    }
    selector = {
        "first.$": "$.Payload.content[0].text",
        "stop.$": "$.Payload.stop_reason",
        "block.$": "$.Payload.content[1]",
        "all.$": "$.Payload.content[*].text",
        "slice.$": "$.Payload.content[0:1].type",
        "filtered.$": "$.Payload.content[?(@.type == 'text')].text",
        "deep.$": "$..stop_reason",
    }
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "Answer"},
        "ResultSelector": selector,
    }
    # When it runs
    result = run_definition(machine(("Select", task)), {}, functions={"Answer": lambda event, _: data})
    # Then names and single indices give values; wildcards, slices, filters and descendants give lists
    assert result.status == "SUCCEEDED"
    assert result.output == {
        "first": "hello",
        "stop": "end_turn",
        "block": {"type": "tool_use", "text": "t"},
        "all": ["hello", "t"],
        "slice": ["text"],
        "filtered": ["hello"],
        "deep": ["end_turn"],
    }


def test_a_missing_definite_path_fails_the_state() -> None:
    definition = machine(("Select", {"Type": "Pass", "Parameters": {"b.$": "$.b[0].c"}}))
    result = run_definition(definition, {"a": 1})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


# --- 5. Choice without a match -----------------------------------------------------------------------------------


def test_choice_without_match_or_default_fails_with_no_choice_matched() -> None:
    definition = machine(
        ("Route", {"Type": "Choice", "Choices": [{"Variable": "$.kind", "StringEquals": "a", "Next": "A"}]}),
        ("A", {"Type": "Succeed"}),
    )
    result = run_definition(definition, {"kind": "b"})
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")


def test_choice_with_default_still_takes_it() -> None:
    definition = machine(
        (
            "Route",
            {"Type": "Choice", "Choices": [{"Variable": "$.kind", "StringEquals": "a", "Next": "A"}], "Default": "B"},
        ),
        ("A", {"Type": "Pass", "Result": "a", "End": True}),
        ("B", {"Type": "Pass", "Result": "b", "End": True}),
    )
    assert run_definition(definition, {"kind": "z"}).output == "b"


# --- 6. Scalar outputs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["done", 7, None, True, ["x"]])
def test_scalar_outputs_come_back_as_json_values(value: Any) -> None:
    result = run_definition(machine(("Finish", {"Type": "Pass", "Result": value})), {})
    assert (result.status, result.output) == ("SUCCEEDED", value)


# --- 7. Time scaling ---------------------------------------------------------------------------------------------


def test_waits_and_retries_do_not_sleep_at_time_scale_zero(bedrock: Any) -> None:
    # Given an hour-long Wait and a Retry with long intervals
    bedrock.throttle = 2
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 600, "MaxAttempts": 2, "BackoffRate": 2.0}]
    definition = machine(
        ("Hold", {"Type": "Wait", "Seconds": 3600}),
        ("Ask", bedrock_task(Parameters={"ModelId": CLAUDE, "Body": CLAUDE_BODY}, Retry=retry)),
    )
    # When it runs with the default time_scale
    started = time.monotonic()
    result = run_definition(definition, {}, bedrock=bedrock)
    # Then it finishes at once, after the same three attempts
    assert result.status == "SUCCEEDED"
    assert time.monotonic() - started < 5
    assert len(bedrock.calls) == 3


def test_time_scale_keeps_backoff_proportions(bedrock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given intervals of 1 s then 2 s (BackoffRate 2) and a Wait of 1 s, scaled by 0.05
    bedrock.throttle = 2
    retry = [
        {"ErrorEquals": ["Bedrock.ThrottlingException"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}
    ]
    definition = machine(
        ("Hold", {"Type": "Wait", "Seconds": 1}),
        ("Ask", bedrock_task(Parameters={"ModelId": CLAUDE, "Body": CLAUDE_BODY}, Retry=retry)),
    )
    # (the engine's sleeps are recorded, not timed: wall clock on a loaded machine says nothing about the scale)
    asked: list[tuple[float, float]] = []
    scaled = moto_engine.scaled_seconds

    def recording(seconds: float) -> float:
        delay = scaled(seconds)
        asked.append((seconds, delay))
        return delay

    monkeypatch.setattr(moto_engine, "scaled_seconds", recording)
    # When it runs
    result = run_definition(definition, {}, bedrock=bedrock, time_scale=0.05)
    # Then the Wait and both retry intervals keep their proportions at 1/20 of the time: (1 + 1 + 2) * 0.05
    assert result.status == "SUCCEEDED"
    assert [seconds for seconds, _ in asked if seconds > 0] == [1, 1, 2]
    assert [delay for seconds, delay in asked if seconds > 0] == pytest.approx([0.05, 0.05, 0.1])


# --- 9. JSONata and variables ------------------------------------------------------------------------------------


def test_jsonata_states_and_assigned_variables() -> None:
    # Given a JSONata machine that assigns a variable in one state and reads it in the next
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Pass",
                "Assign": {"total": "{% $sum($states.input.items) %}"},
                "Output": "{% $states.input.items ~> $map(function($v) { $v * 2 }) %}",
                "Next": "Report",
            },
            "Report": {
                "Type": "Pass",
                "Output": {
                    "doubled": "{% $states.input %}",
                    "total": "{% $total %}",
                    "name": "{% $states.context.Execution.Name %}",
                },
                "End": True,
            },
        },
    }
    # When it runs
    result = run_definition(definition, {"items": [1, 2, 3]}, execution_name="jsonata-run")
    # Then JSONata evaluated both states and the variable crossed between them
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"doubled": [2, 4, 6], "total": 6, "name": "jsonata-run"}


def test_jsonpath_state_reads_an_assigned_variable() -> None:
    definition = machine(
        ("Remember", {"Type": "Pass", "Assign": {"model.$": "$.model_id"}}),
        ("Use", {"Type": "Pass", "Parameters": {"model.$": "$model"}}),
    )
    result = run_definition(definition, {"model_id": CLAUDE})
    assert (result.status, result.output) == ("SUCCEEDED", {"model": CLAUDE})
