"""Several runs in one process (the api server, a test session) must each call a handler exactly once per task."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from sfn_offline.engine import run_definition

DEFINITION = {
    "StartAt": "Count",
    "States": {
        "Count": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "counter", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}


@pytest.mark.parametrize("long_lived_session", [False, True], ids=["fresh sessions", "one long-lived session"])
def test_each_run_invokes_the_handler_once(long_lived_session: bool) -> None:
    # Given a handler that counts its calls, and possibly boto3's default session created before the runs and kept
    # across them (a benchmark, the api server)
    if long_lived_session:
        boto3.setup_default_session(region_name="us-east-1")
    calls: list[Any] = []

    def counter(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"n": len(calls)}

    # When the same one-task definition runs three times in this process
    results = [run_definition(DEFINITION, {"run": i}, functions={"counter": counter}) for i in range(3)]
    # Then every run called the handler once: the engine's hook is registered exactly once, never twice nor lost
    assert [result.status for result in results] == ["SUCCEEDED"] * 3
    assert [event["run"] for event in calls] == [0, 1, 2]
