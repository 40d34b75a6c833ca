"""Loading AWS's mock-config file (Step Functions Local / LocalStack format) and its validation errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.mock_config import (
    MockConfigError,
    MockedResponseExhaustedError,
    as_bedrock_script,
    load_mock_config,
)

# The example of AWS's developer guide ("Configuration file for mocked service integrations"), abridged.
AWS_EXAMPLE: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
                "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
            },
        },
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}}},
        "MockedSQSSuccess": {"0": {"Return": {"MessageId": "3bcb6e8e"}}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}},
        },
    },
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_the_aws_example_loads_and_answers_by_attempt(tmp_path: Path) -> None:
    # Given AWS's own example as a file
    config = load_mock_config(write(tmp_path, AWS_EXAMPLE))

    # When the retry test case is asked for each attempt of the Lambda state
    case = config.test_case("LambdaSQSIntegration", "RetryPath")
    outcomes = [case.response_for("LambdaState", attempt) for attempt in range(4)]

    # Then attempts 0-2 throw the configured errors and attempt 3 returns the payload
    assert [outcome.throws if outcome else None for outcome in outcomes[:3]] == [
        ("Lambda.ResourceNotReadyException", "Lambda resource is not ready."),
        ("Lambda.TimeoutException", "Lambda timed out."),
        ("Lambda.TimeoutException", "Lambda timed out."),
    ]
    assert outcomes[3] is not None
    assert outcomes[3].returns == {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}
    assert not outcomes[3].is_error


def test_states_a_test_case_does_not_name_run_for_real() -> None:
    # Given the hybrid test case, which mocks only the Lambda state
    case = load_mock_config(AWS_EXAMPLE).test_case("LambdaSQSIntegration", "HybridPath")

    # When the SQS state asks for its mock
    # Then there is none: the state runs for real
    assert case.response_for("SQSState", 0) is None


def test_an_invocation_past_the_last_listed_one_fails_as_aws_documents() -> None:
    # Given a mocked response that lists only invocation 0
    case = load_mock_config(AWS_EXAMPLE).test_case("LambdaSQSIntegration", "HappyPath")

    # When the state is invoked a second time
    # Then there is no repetition of the last entry: AWS fails the execution, and so does the loader
    with pytest.raises(MockedResponseExhaustedError, match="covers only 1"):
        case.response_for("LambdaState", 1)


def test_unknown_state_machines_and_test_cases_are_named_with_what_exists() -> None:
    # Given the AWS example
    config = load_mock_config(AWS_EXAMPLE)

    # When a missing state machine or test case is asked for
    # Then the error lists the defined ones
    with pytest.raises(MockConfigError, match="LambdaSQSIntegration"):
        config.test_case("Other", "HappyPath")
    with pytest.raises(MockConfigError, match="HappyPath, HybridPath, RetryPath"):
        config.test_case("LambdaSQSIntegration", "SadPath")


def test_bedrock_scripts_unwrap_the_task_result_body() -> None:
    # Given a test case mocking a Bedrock invokeModel state with a throttle and a {Body, ContentType} result
    config = load_mock_config(
        {
            "StateMachines": {"Chain": {"TestCases": {"Retry": {"Summarize": "Bedrock"}}}},
            "MockedResponses": {
                "Bedrock": {
                    "0": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "Rate exceeded"}},
                    "1": {"Return": {"Body": '{"generation": "ok"}', "ContentType": "application/json"}},
                },
            },
        },
    )

    # When it is turned into a stand-in script
    script = as_bedrock_script(config.test_case("Chain", "Retry"))

    # Then there is one entry per invocation with the native body
    assert script == {
        "Summarize": [
            {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "Rate exceeded"}},
            {"Return": {"generation": "ok"}},
        ],
    }


def test_a_file_that_is_not_json_is_reported_with_line_and_column(tmp_path: Path) -> None:
    # Given a file with a trailing comma on line 3
    path = write(tmp_path, '{\n  "StateMachines": {},\n  "MockedResponses": {},\n}')

    # When it is loaded
    # Then the error names the file and the position
    with pytest.raises(MockConfigError, match=r"MockConfigFile\.json: not valid JSON at line 4 column 1"):
        load_mock_config(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    # Given no file
    # When a path that does not exist is loaded
    # Then the error names it
    with pytest.raises(MockConfigError, match=r"absent\.json: cannot read"):
        load_mock_config(tmp_path / "absent.json")


def responses(entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "StateMachines": {"M": {"TestCases": {"C": {"S": "R"}}}},
        "MockedResponses": {"R": entries},
    }


OK = {"Return": {}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"StateMachines": {}, "MockedResponse": {}}, "unknown top-level key(s) MockedResponse", id="top"),
        pytest.param([], "the top level must be a JSON object", id="not-object"),
        pytest.param(
            {"StateMachines": {"M": {"TestCases": {"C": {"S": "Missing"}}}}, "MockedResponses": {}},
            "StateMachines.M.TestCases.C.S names MockedResponse 'Missing', which MockedResponses does not define",
            id="missing-response",
        ),
        pytest.param(
            {"StateMachines": {"M": {"Cases": {}}}, "MockedResponses": {}},
            "StateMachines.M has unknown key(s) Cases",
            id="machine-key",
        ),
        pytest.param(responses({"first": OK}), "MockedResponses.R has key 'first'", id="key-word"),
        pytest.param(responses({"0": OK, "1-": OK}), "has key '1-'", id="key-open-range"),
        pytest.param(responses({"01": OK}), "has key '01'", id="key-leading-zero"),
        pytest.param(responses({"0": OK, "3-1": OK}), "ends before it starts", id="key-reversed"),
        pytest.param(responses({"0-2": OK, "2": OK}), "key '2' overlaps invocation 2", id="overlap"),
        pytest.param(responses({"0": OK, "2": OK}), "skips invocation 1", id="gap"),
        pytest.param(responses({"1": OK}), "skips invocation 0", id="not-from-zero"),
        pytest.param(responses({}), "lists no invocation", id="empty"),
        pytest.param(
            responses({"0": {"Return": {}, "Throw": {"Error": "E"}}}),
            "must hold exactly one of Return or Throw, found Return, Throw",
            id="both",
        ),
        pytest.param(responses({"0": {}}), "exactly one of Return or Throw, found nothing", id="neither"),
        pytest.param(responses({"0": {"Throw": {"Cause": "why"}}}), "Throw needs an Error string", id="no-error"),
        pytest.param(responses({"0": {"Throw": {"Error": "E", "Cause": 5}}}), "Cause must be a string", id="cause"),
    ],
)
def test_invalid_configs_are_refused_with_the_file_and_place(tmp_path: Path, document: Any, message: str) -> None:
    # Given a mock-config file with one mistake
    path = write(tmp_path, document)

    # When it is loaded
    with pytest.raises(MockConfigError) as refused:
        load_mock_config(path)

    # Then the error names the file and the place
    assert str(refused.value).startswith(str(path))
    assert message in str(refused.value)
