"""Scripted answers, injected faults and the call log of the simulated Bedrock."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.mock_config import MockedResponseExhaustedError, as_bedrock_script, load_mock_config

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
BODY: dict[str, Any] = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "Classify this ticket"}],
}
SCRIPTED = {"content": [{"type": "text", "text": "scripted"}], "stop_reason": "end_turn"}


def call(standin: BedrockStandIn, state: str = "Classify", attempt: int = 0) -> dict[str, Any]:
    return standin.invoke_model(CLAUDE, BODY, state_name=state, attempt=attempt)


def test_a_script_answers_by_attempt_and_throttles_as_told() -> None:
    # Given a state scripted to be throttled twice (one name with the Step Functions prefix) and then to answer
    standin = BedrockStandIn()
    standin.script(
        "Classify",
        [
            {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "slow down"}},
            {"Throw": {"Error": "ThrottlingException", "Cause": "slow down"}},
            {"Return": SCRIPTED},
        ],
    )

    # When the state is tried three times
    errors = []
    for attempt in range(2):
        with pytest.raises(BedrockServiceError) as raised:
            call(standin, attempt=attempt)
        errors.append((raised.value.error_name, raised.value.message))
    answer = call(standin, attempt=2)

    # Then the first two attempts raise ThrottlingException and the third gets the scripted body
    assert errors == [("ThrottlingException", "slow down")] * 2
    assert answer == SCRIPTED


def test_past_the_script_a_lenient_script_falls_back_to_generated_answers() -> None:
    # Given a one-entry script in the mock-config mapping form
    standin = BedrockStandIn()
    standin.script("Classify", {"0": {"Return": SCRIPTED}})

    # When the state is called a second time, and another state is called
    generated = call(standin, attempt=1)
    other = call(standin, state="Summarize")

    # Then both get generated answers
    assert generated["content"][0]["text"].startswith("Simulated answer")
    assert other["content"][0]["text"].startswith("Simulated answer")


def test_past_the_script_a_strict_script_fails_like_aws_mock_config() -> None:
    # Given a strict one-entry script
    standin = BedrockStandIn()
    standin.script("Classify", [{"Return": SCRIPTED}], strict=True)

    # When the state is called a second time
    # Then the call fails, as AWS fails an execution whose mocked state has no response for the invocation
    with pytest.raises(MockedResponseExhaustedError, match="covers only 1"):
        call(standin, attempt=1)


def test_a_script_return_may_be_the_task_result_form() -> None:
    # Given a script whose Return is the invokeModel task result {Body, ContentType}, Body as a JSON string
    standin = BedrockStandIn()
    standin.script("Classify", [{"Return": {"Body": '{"generation": "x"}', "ContentType": "application/json"}}])

    # When the state is called
    # Then the native body comes back
    assert call(standin) == {"generation": "x"}


@pytest.mark.parametrize(
    "responses",
    [
        pytest.param([{"Return": {}, "Throw": {"Error": "X"}}], id="both"),
        pytest.param([{}], id="neither"),
        pytest.param([{"Throw": {"Cause": "no error"}}], id="throw-without-error"),
        pytest.param({"0": {"Return": {}}, "2": {"Return": {}}}, id="gap"),
    ],
)
def test_malformed_scripts_are_refused(responses: Any) -> None:
    # Given a malformed script
    # When it is registered
    # Then it is refused at once rather than at call time
    with pytest.raises(ValueError, match=r"Return or Throw|Error string|contiguous"):
        BedrockStandIn().script("Classify", responses)


def test_throttle_and_time_out_hit_the_next_calls_then_stop() -> None:
    # Given two throttles for any state and one timeout for "Summarize"
    standin = BedrockStandIn()
    standin.throttle(2)
    standin.time_out(state_name="Summarize")

    # When calls are made
    seen = []
    for state in ["Classify", "Summarize", "Summarize", "Summarize"]:
        try:
            call(standin, state=state)
            seen.append("ok")
        except BedrockServiceError as exc:
            seen.append(exc.error_name)

    # Then the throttles come first, then the timeout, then answers
    assert seen == ["ThrottlingException", "ThrottlingException", "ModelTimeoutException", "ok"]


def test_fail_raises_any_named_error_and_scripts_take_precedence() -> None:
    # Given a fault for every state and a script for one
    standin = BedrockStandIn()
    standin.fail("Bedrock.ServiceUnavailableException", "down", times=5)
    standin.script("Classify", [{"Return": SCRIPTED}])

    # When the scripted state and another state are called
    scripted = call(standin)
    with pytest.raises(BedrockServiceError) as raised:
        call(standin, state="Summarize")

    # Then the script answers and the other state gets the fault, named without the prefix
    assert scripted == SCRIPTED
    assert (raised.value.error_name, raised.value.message) == ("ServiceUnavailableException", "down")


def test_the_call_log_records_every_call_and_reset_forgets_everything() -> None:
    # Given a stand-in with a script and some calls, one refused
    standin = BedrockStandIn()
    standin.script("Classify", [{"Return": SCRIPTED}])
    call(standin)
    with pytest.raises(BedrockServiceError):
        standin.invoke_model("acme.model", {}, state_name="Other", attempt=3)
    standin.converse(
        {"ModelId": CLAUDE, "Messages": [{"Role": "user", "Content": [{"Text": "hi"}]}]},
        state_name="Chat",
        attempt=0,
    )

    # When the log is read, and after a reset
    logged = [(c.api, c.state_name, c.attempt, c.target) for c in standin.calls]
    standin.reset()

    # Then it lists each call in order; the reset clears it and the script
    assert logged == [
        ("invoke_model", "Classify", 0, CLAUDE),
        ("invoke_model", "Other", 3, "acme.model"),
        ("converse", "Chat", 0, CLAUDE),
    ]
    assert standin.calls == []
    assert call(standin)["content"][0]["text"].startswith("Simulated answer")


def test_concurrent_calls_consume_faults_exactly_once() -> None:
    # Given ten throttles and forty concurrent callers (as Map iterations on threads)
    standin = BedrockStandIn()
    standin.throttle(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            call(standin, state=f"Item {index}")
            result = "ok"
        except BedrockServiceError:
            result = "throttled"
        with lock:
            outcomes.append(result)

    # When they all call at once
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly ten were throttled and every call was logged
    assert outcomes.count("throttled") == 10
    assert len(standin.calls) == 40


def test_a_mock_config_test_case_drives_the_standin() -> None:
    # Given an AWS mock config whose test case throttles a Bedrock state once, then returns a task result
    config = load_mock_config(
        {
            "StateMachines": {"Chain": {"TestCases": {"RetryPath": {"Classify": "ThrottledThenOk"}}}},
            "MockedResponses": {
                "ThrottledThenOk": {
                    "0": {"Throw": {"Error": "Bedrock.ThrottlingException", "Cause": "Rate exceeded"}},
                    "1": {"Return": {"Body": SCRIPTED, "ContentType": "application/json"}},
                },
            },
        },
    )
    standin = BedrockStandIn()
    for state, entries in as_bedrock_script(config.test_case("Chain", "RetryPath")).items():
        standin.script(state, entries, strict=True)

    # When the state is tried twice, and then a third time
    with pytest.raises(BedrockServiceError) as raised:
        call(standin, attempt=0)
    answer = call(standin, attempt=1)

    # Then it is throttled, then answered with the native body, then fails like AWS for want of a response
    assert raised.value.error_name == "ThrottlingException"
    assert answer == SCRIPTED
    with pytest.raises(MockedResponseExhaustedError):
        call(standin, attempt=2)
