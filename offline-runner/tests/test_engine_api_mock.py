"""run_definition(mock=...): AWS mock-config test cases answer the states they name, by retry attempt."""

from __future__ import annotations

from typing import Any

from sfn_offline.engine import run_definition
from sfn_offline.mock_config import TestCase, load_mock_config

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
CLAUDE_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "hi"}],
}

CHAIN: dict[str, Any] = {
    "StartAt": "Prepare Prompt",
    "States": {
        "Prepare Prompt": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "PrepareFunction", "Payload": {"topic.$": "$.topic"}},
            "ResultSelector": {"prompt.$": "$.Payload.prompt"},
            "ResultPath": "$.prepared",
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            "Next": "Ask Model",
        },
        "Ask Model": {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Parameters": {"ModelId": CLAUDE, "Body": CLAUDE_BODY},
            "ResultSelector": {"text.$": "$.Body.content[0].text"},
            "ResultPath": "$.answer",
            "Retry": [{"ErrorEquals": ["Bedrock.ThrottlingException"], "IntervalSeconds": 2, "MaxAttempts": 3}],
            "Next": "Tag Answer",
        },
        "Tag Answer": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObjectTagging",
            "Parameters": {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": []}},
            "ResultPath": "$.tagged",
            "End": True,
        },
    },
}

MOCK_CONFIG: dict[str, Any] = {
    "StateMachines": {
        "Chain": {
            "TestCases": {
                "HappyPath": {
                    "Prepare Prompt": "PreparedOnce",
                    "Ask Model": "AnsweredOnce",
                    "Tag Answer": "Tagged",
                },
                "RetriedPath": {
                    "Prepare Prompt": "LambdaFlakyThenPrepared",
                    "Ask Model": "ThrottledTwiceThenAnswered",
                    "Tag Answer": "Tagged",
                },
                "ModelOnly": {"Ask Model": "AnsweredOnce", "Tag Answer": "Tagged"},
                "Exhausted": {"Prepare Prompt": "PreparedOnce", "Ask Model": "ThrottledOnce"},
            }
        }
    },
    "MockedResponses": {
        "PreparedOnce": {"0": {"Return": {"StatusCode": 200, "Payload": {"prompt": "mocked prompt"}}}},
        "LambdaFlakyThenPrepared": {
            "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "flaky"}},
            "1": {"Return": {"StatusCode": 200, "Payload": {"prompt": "second try"}}},
        },
        "AnsweredOnce": {
            "0": {"Return": {"Body": {"content": [{"type": "text", "text": "mocked answer"}]}, "ContentType": "json"}}
        },
        "ThrottledTwiceThenAnswered": {
            "0-1": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "slow down"}},
            "2": {"Return": {"Body": {"content": [{"type": "text", "text": "third time"}]}, "ContentType": "json"}},
        },
        "ThrottledOnce": {"0": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "slow down"}}},
        "Tagged": {"0": {"Return": {}}},
    },
}


def case(name: str) -> TestCase:
    return load_mock_config(MOCK_CONFIG).test_case("Chain", name)


def test_named_states_are_not_executed_and_return_the_raw_mocked_result(bedrock: Any) -> None:
    # Given a test case mocking all three tasks (Lambda, Bedrock, aws-sdk) and a handler that must not run
    def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise AssertionError("a mocked state ran its handler")

    # When the chain runs with the mock
    result = run_definition(
        CHAIN, {"topic": "owls"}, functions={"PrepareFunction": prepare}, bedrock=bedrock, mock=case("HappyPath")
    )
    # Then the mocked raw results went through each ResultSelector, and nothing real was called
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "topic": "owls",
        "prepared": {"prompt": "mocked prompt"},
        "answer": {"text": "mocked answer"},
        "tagged": {},
    }
    assert bedrock.calls == []


def test_attempts_are_indexed_by_retry_count_with_ranges(bedrock: Any) -> None:
    # Given Lambda throwing on attempt "0" and Bedrock throttled on "0-1", both retried
    # When the chain runs
    result = run_definition(CHAIN, {"topic": "owls"}, bedrock=bedrock, mock=case("RetriedPath"))
    # Then each retry consumed the next mocked attempt, and the last ones answered
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["prepared"] == {"prompt": "second try"}
    assert result.output["answer"] == {"text": "third time"}
    failed = [event["taskFailedEventDetails"]["error"] for event in result.history if event["type"] == "TaskFailed"]
    assert failed == ["Lambda.ServiceException", "Bedrock.ThrottlingException", "Bedrock.ThrottlingException"]
    assert bedrock.calls == []


def test_states_not_named_run_for_real(bedrock: Any) -> None:
    # Given a test case mocking only the model and the tagging
    seen: list[dict[str, Any]] = []

    def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"prompt": f"tell me about {event['topic']}"}

    # When the chain runs
    result = run_definition(
        CHAIN, {"topic": "owls"}, functions={"PrepareFunction": prepare}, bedrock=bedrock, mock=case("ModelOnly")
    )
    # Then the handler ran, the model did not
    assert result.status == "SUCCEEDED", result.cause
    assert seen == [{"topic": "owls"}]
    assert result.output["prepared"] == {"prompt": "tell me about owls"}
    assert result.output["answer"] == {"text": "mocked answer"}
    assert bedrock.calls == []


def test_an_attempt_past_the_last_mocked_one_fails_the_execution(bedrock: Any) -> None:
    # Given Bedrock mocked for attempt 0 only (a throttle), with a Retry that would try again
    # When the chain runs
    result = run_definition(CHAIN, {"topic": "owls"}, bedrock=bedrock, mock=case("Exhausted"))
    # Then the execution failed (Retry did not swallow it) with a message naming the state and the response
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "'Ask Model' was invoked 2 time(s)" in (result.cause or "")
    assert "ThrottledOnce" in (result.cause or "")
    assert result.history[-1]["type"] == "ExecutionFailed"
    assert bedrock.calls == []
