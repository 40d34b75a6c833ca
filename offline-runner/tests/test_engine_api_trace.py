"""run_definition(trace=True): one TestState-style entry per state execution."""

from __future__ import annotations

from typing import Any

from sfn_offline.engine import run_definition


class TransientError(Exception):
    """Retried by name."""


SHAPED_TASK: dict[str, Any] = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "InputPath": "$.job",
    "Parameters": {"FunctionName": "ScoreFunction", "Payload": {"values.$": "$.values"}},
    "ResultSelector": {"score.$": "$.Payload.total"},
    "ResultPath": "$.scored",
    "OutputPath": "$.scored",
    "End": True,
}


def score(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"total": sum(event["values"]), "unused": True}


def test_every_processing_step_of_a_task_is_recorded() -> None:
    # Given a Task whose InputPath, Parameters, ResultSelector, ResultPath and OutputPath all change the value
    definition = {"StartAt": "Score Job", "States": {"Score Job": SHAPED_TASK}}
    state_input = {"job": {"values": [1, 2, 3], "owner": "ada"}, "other": 1}
    # When it runs with trace=True
    result = run_definition(definition, state_input, functions={"ScoreFunction": score}, trace=True)
    # Then one entry shows each intermediate value, as TestState's inspectionData names them (parsed values)
    assert result.status == "SUCCEEDED", result.cause
    [entry] = result.trace
    assert entry["stateName"] == "Score Job"
    assert entry["status"] == "SUCCEEDED"
    assert entry["inspectionData"] == {
        "input": state_input,
        "afterInputPath": {"values": [1, 2, 3], "owner": "ada"},
        "afterParameters": {"FunctionName": "ScoreFunction", "Payload": {"values": [1, 2, 3]}},
        "result": {"ExecutedVersion": "$LATEST", "Payload": {"total": 6, "unused": True}, "StatusCode": 200},
        "afterResultSelector": {"score": 6},
        # ResultPath places the result into the state's original input, not the InputPath selection.
        "afterResultPath": {**state_input, "scored": {"score": 6}},
    }
    assert entry["output"] == {"score": 6}
    assert (entry["error"], entry["cause"]) == (None, None)


def test_retries_catches_and_failures_have_their_own_status() -> None:
    # Given a task failing twice (retried once, then caught) and a Fail state after the catch
    attempts: list[int] = []

    def always_failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        attempts.append(1)
        raise TransientError(f"attempt {len(attempts)}")

    definition = {
        "StartAt": "Try",
        "States": {
            "Try": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Failing", "Payload": {}},
                "Retry": [{"ErrorEquals": ["TransientError"], "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Give Up"}],
                "End": True,
            },
            "Give Up": {"Type": "Fail", "Error": "Gave.Up", "Cause": "no luck"},
        },
    }
    # When it runs with trace=True
    result = run_definition(definition, {"a": 1}, functions={"Failing": always_failing}, trace=True)
    # Then the trace shows the retriable attempt, the caught one (with the catcher's output), and the failure
    assert result.status == "FAILED"
    assert [(entry["stateName"], entry["status"], entry["error"]) for entry in result.trace] == [
        ("Try", "RETRIABLE", "TransientError"),
        ("Try", "CAUGHT_ERROR", "TransientError"),
        ("Give Up", "FAILED", "Gave.Up"),
    ]
    assert result.trace[1]["output"]["failure"]["Error"] == "TransientError"
    assert result.trace[2]["cause"] == "no luck"


def test_map_iterations_and_parallel_branches_are_traced_with_their_state_names() -> None:
    # Given a Map over two items and a Parallel with two branches
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Double",
                    "States": {"Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($, $)"}, "End": True}},
                },
                "ResultPath": "$.doubled",
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "l", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Result": "r", "End": True}}},
                ],
                "End": True,
            },
        },
    }
    # When it runs with trace=True
    result = run_definition(definition, {"items": [1, 2]}, trace=True)
    # Then every state execution has an entry, iterations and branches included
    assert result.status == "SUCCEEDED", result.cause
    names = sorted(entry["stateName"] for entry in result.trace)
    assert names == ["Both", "Double", "Double", "Each", "Left", "Right"]
    doubles = sorted(entry["output"]["n"] for entry in result.trace if entry["stateName"] == "Double")
    assert doubles == [2, 4]
    [left] = [entry for entry in result.trace if entry["stateName"] == "Left"]
    assert left["inspectionData"]["result"] == "l"
    assert all(entry["status"] == "SUCCEEDED" for entry in result.trace)


def test_no_trace_unless_asked() -> None:
    result = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {})
    assert result.trace == []
