"""Error handling as the Step Functions developer guide documents it ("Handling errors in Step Functions
workflows", "Intrinsic functions", "Transforming data with JSONata")."""

from __future__ import annotations

from typing import Any

from sfn_offline.engine import run_definition


def one_state(name: str, state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {**state, "End": True}, **extra}}


CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}]
CAUGHT = {"Caught": {"Type": "Pass", "End": True}}


def test_states_all_does_not_catch_states_runtime() -> None:
    """ "States.ALL ... can't catch the States.DataLimitExceeded terminal error or Runtime error types"; "A
    States.Runtime error isn't retriable, and will always cause the execution to fail"."""
    # Given a Parallel whose branch applies an InputPath to an absent field, with Retry and Catch on States.ALL
    branch = one_state("Read", {"Type": "Pass", "InputPath": "$.missing"})
    parallel = {
        "Type": "Parallel",
        "Branches": [branch],
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
        "Catch": CATCH_ALL,
    }
    # When it runs
    result = run_definition({"StartAt": "Fan", "States": {"Fan": {**parallel, "End": True}, **CAUGHT}}, {})
    # Then the execution fails with States.Runtime and the branch's cause, neither retried nor caught
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "Invalid path '$.missing'" in (result.cause or "")
    entered = [event for event in result.history if event["type"] == "ParallelStateEntered"]
    assert len(entered) == 1


def test_a_states_runtime_error_in_a_parallel_branch_keeps_its_cause() -> None:
    """A branch's failure fails the Parallel state with the branch's error and cause ("If any branch fails ... the
    entire Parallel state fails")."""
    # Given a Parallel whose branch fails with States.Runtime
    definition = one_state(
        "Fan", {"Type": "Parallel", "Branches": [one_state("Read", {"Type": "Pass", "InputPath": "$.missing"})]}
    )
    # When it runs
    result = run_definition(definition, {})
    # Then the cause is the branch's, not an engine message about error-name prefixes
    assert result.error == "States.Runtime"
    assert "state 'Read'" in (result.cause or "")
    assert "MUST NOT begin" not in (result.cause or "")


def test_a_service_error_is_a_named_task_failure_that_catch_all_catches() -> None:
    """A service integration's error fails the task with the service's error name; Retry and Catch match it
    ("Task states can fail ... with errors from the service")."""
    # Given a DynamoDB read of a table that does not exist, with a Catch on States.ALL
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
        "Parameters": {"TableName": "absent", "Key": {"pk": {"S": "a"}}},
        "Catch": CATCH_ALL,
    }
    # When it runs
    result = run_definition({"StartAt": "Get", "States": {"Get": {**task, "End": True}, **CAUGHT}}, {})
    # Then the Catch took it, with the service's error name
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["caught"]["Error"].endswith("ResourceNotFoundException")


def test_an_eventbridge_error_is_catchable() -> None:
    """The optimized EventBridge integration's errors are task failures (catchable), not States.Runtime."""
    # Given putEvents on a bus that does not exist, with a Catch on States.ALL
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {"Entries": [{"EventBusName": "absent", "Source": "s", "DetailType": "d", "Detail": {}}]},
        "Catch": CATCH_ALL,
    }
    # When it runs
    result = run_definition({"StartAt": "Put", "States": {"Put": {**task, "End": True}, **CAUGHT}}, {})
    # Then the Catch took it
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["caught"]["Error"] != "States.Runtime"


def test_a_jsonata_evaluation_error_is_states_query_evaluation_error() -> None:
    """ "States.QueryEvaluationError: Query evaluation failed ... for example a JSONata expression failing to
    evaluate" (error names)."""
    # Given a JSONata Pass whose expression cannot be evaluated
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Bad",
        "States": {"Bad": {"Type": "Pass", "Output": "{% $number('not a number') %}", "End": True}},
    }
    # When it runs
    result = run_definition(definition, {})
    # Then it fails with States.QueryEvaluationError naming the state
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "'Bad'" in (result.cause or "")


def test_a_jsonata_error_in_a_task_is_catchable() -> None:
    """States.QueryEvaluationError is an error like any other for Retry and Catch (only States.Runtime and
    States.DataLimitExceeded escape States.ALL)."""
    # Given a JSONata Task whose Arguments fail, with a Catch on States.ALL
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Bad",
        "States": {
            "Bad": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
                "Arguments": {"x": "{% $number('nope') %}"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Next": "Caught"}],
                "End": True,
            },
            **CAUGHT,
        },
    }
    # When it runs
    result = run_definition(definition, {})
    # Then the Catch took it
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["Error"] == "States.QueryEvaluationError"


def test_states_format_takes_escaped_braces_and_backslashes() -> None:
    """ "The following characters are reserved ... { } \\ ' ... escape them with a backslash" (intrinsic
    functions, reserved characters)."""
    # Given templates with escaped braces and an escaped backslash, and one read from the input
    definition = one_state(
        "Say",
        {
            "Type": "Pass",
            "Parameters": {
                "braces.$": "States.Format('\\{literal\\} {}', $.name)",
                "backslash.$": "States.Format('a\\\\b {}', $.name)",
                "fromInput.$": "States.Format($.template, $.name)",
            },
        },
    )
    # When it runs
    result = run_definition(definition, {"name": "Ada", "template": "Hi {}!"})
    # Then each brace and backslash is literal
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"braces": "{literal} Ada", "backslash": "a\\b Ada", "fromInput": "Hi Ada!"}
