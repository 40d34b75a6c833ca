"""AWS Step Functions Local's mock-config format ("Configuration file for mocked service integrations")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sfn_offline.engine import run_definition
from sfn_offline.mock_config import load_mock_config

CliRun = Callable[..., tuple[int, str, str]]

POLLING = {
    "StartAt": "Check Job",
    "States": {
        "Check Job": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "CheckJob", "Payload.$": "$"},
            "ResultSelector": {"status.$": "$.Payload.status"},
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.status", "StringEquals": "DONE", "Next": "Finished"}],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Check Job"},
        "Finished": {"Type": "Succeed"},
    },
}
MOCKS = {
    "StateMachines": {"polling": {"TestCases": {"ThirdTimeDone": {"Check Job": "JobStatus"}}}},
    "MockedResponses": {
        "JobStatus": {
            "0-1": {"Return": {"StatusCode": 200, "Payload": {"status": "RUNNING"}}},
            "2": {"Return": {"StatusCode": 200, "Payload": {"status": "DONE"}}},
        }
    },
}


def test_each_invocation_of_a_re_entered_state_takes_the_next_response_key() -> None:
    """ "The mocked response ... keys are the invocation number" and "you must specify a mocked response for every
    invocation": a polling loop entering the same state three times gets responses 0, 1 and 2."""
    # Given a polling loop whose check is mocked RUNNING, RUNNING, DONE
    case = load_mock_config(MOCKS).test_case("polling", "ThirdTimeDone")
    # When it runs
    result = run_definition(POLLING, {}, mock=case)
    # Then it finished after the third check
    assert result.status == "SUCCEEDED", result.cause
    entered = [event for event in result.history if event["type"] == "TaskStateEntered"]
    assert len(entered) == 3


def test_an_invocation_past_the_last_key_fails_the_execution() -> None:
    """ "If you do not specify a mocked response, the state machine execution will fail.\""""
    # Given the check mocked RUNNING for two invocations only
    mocks = json.loads(json.dumps(MOCKS))
    del mocks["MockedResponses"]["JobStatus"]["2"]
    case = load_mock_config(mocks).test_case("polling", "ThirdTimeDone")
    # When it runs
    result = run_definition(POLLING, {}, mock=case)
    # Then the third invocation fails the execution, naming the state
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "'Check Job'" in (result.cause or "")


def test_a_bare_definition_is_named_after_its_file(tmp_path: Path, cli: CliRun) -> None:
    """A bare definition's state machine name in the mock config is its file name up to the first dot
    (polling.asl.json -> polling), the name a template's machine would carry."""
    # Given polling.asl.json and a mock config naming the state machine "polling" beside another one
    (tmp_path / "polling.asl.json").write_text(json.dumps(POLLING))
    mocks = json.loads(json.dumps(MOCKS))
    mocks["StateMachines"]["other"] = {"TestCases": {"ThirdTimeDone": {}}}
    (tmp_path / "mocks.json").write_text(json.dumps(mocks))
    # When it runs with the test case
    status, out, err = cli(
        "run",
        "--definition",
        tmp_path / "polling.asl.json",
        "--mock-config",
        tmp_path / "mocks.json",
        "--test-case",
        "ThirdTimeDone",
        "--json",
    )
    # Then the polling machine's test case answered
    assert status == 0, err
    assert json.loads(out)["status"] == "SUCCEEDED"
