"""run_definition's live events, execution metadata and wall-clock timeout."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import boto3
from moto import mock_aws

from sfn_offline.engine import run_definition

RETRYING_LAMBDA: dict[str, Any] = {
    "StartAt": "Flaky Step",
    "States": {
        "Flaky Step": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "FlakyFunction", "Payload": {"n.$": "$.n"}},
            "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "OutputPath": "$.Payload",
            "Next": "Finish",
        },
        "Finish": {"Type": "Pass", "End": True},
    },
}


class TransientError(Exception):
    """Retried by name."""


def test_events_arrive_live_in_order_and_make_up_the_history() -> None:
    # Given a handler that fails once, and a listener recording events and whether the handler had returned yet
    handler_returned = threading.Event()
    seen: list[tuple[str, bool]] = []
    events: list[dict[str, Any]] = []

    calls: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        if len(calls) == 1:
            # Long enough for the caller's thread to deliver the events recorded so far, while this task runs.
            time.sleep(0.2)
            raise TransientError("try again")
        handler_returned.set()
        return {"doubled": event["n"] * 2}

    def listen(event: dict[str, Any]) -> None:
        seen.append((event["type"], handler_returned.is_set()))
        events.append(event)

    # When it runs with on_event
    result = run_definition(RETRYING_LAMBDA, {"n": 4}, functions={"FlakyFunction": flaky}, on_event=listen)

    # Then it succeeded after one retry, every event was delivered once, in id order, as the history holds them
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"doubled": 8}
    assert events == result.history
    assert [event["id"] for event in events] == list(range(1, len(events) + 1))
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "ExecutionStarted"
    assert kinds[-1] == "ExecutionSucceeded"
    assert kinds.count("TaskScheduled") == 2
    assert "TaskFailed" in kinds
    # ... and the first task's events were seen before the handler's final attempt returned: live, not at the end
    assert ("TaskStateEntered", False) in seen


def test_history_matches_get_execution_history() -> None:
    # Given an execution run inside the caller's mock
    definition = {
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Parameters": {"a.$": "$.x"}, "ResultPath": "$.shaped", "End": True}},
    }
    # (moto answers for executed state machines only while its execute_state_machine flag is on)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        result = run_definition(definition, {"x": [1, 2]})
        client = boto3.client("stepfunctions", region_name="us-east-1")
        # When the same history is read through the public API
        listed = client.get_execution_history(executionArn=result.execution_arn)["events"]
    # Then the events are the same dicts (timestamps as aware datetimes, the same instants)
    assert [{**event, "timestamp": event["timestamp"].timestamp()} for event in result.history] == [
        {**event, "timestamp": event["timestamp"].timestamp()} for event in listed
    ]


def test_result_carries_the_execution_arn_and_times() -> None:
    # Given a one-state machine
    before = time.time()
    # When it runs
    result = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {})
    # Then the result names the execution and when it started and stopped
    assert result.execution_arn.startswith("arn:aws:states:us-east-1:123456789012:execution:")
    assert isinstance(result.started_at, datetime)
    assert isinstance(result.stopped_at, datetime)
    assert before - 1 <= result.started_at.timestamp() <= result.stopped_at.timestamp() <= time.time() + 1


def test_wall_clock_overrun_is_reported_as_timed_out() -> None:
    # Given a Wait longer than the wall-clock limit (time not compressed)
    definition = {"StartAt": "Linger", "States": {"Linger": {"Type": "Wait", "Seconds": 30, "End": True}}}
    # When it runs with a 0.3 s limit
    started = time.monotonic()
    result = run_definition(definition, {}, time_scale=1.0, timeout=0.3)
    # Then it returns promptly as TIMED_OUT with States.Timeout, after stopping the execution
    assert time.monotonic() - started < 5
    assert (result.status, result.error) == ("TIMED_OUT", "States.Timeout")
    assert "wall-clock limit of 0.3 s" in (result.cause or "")
    assert result.output is None
    assert result.history[0]["type"] == "ExecutionStarted"
    assert result.stopped_at is not None
