"""Parallel, Retry, Catch and handler timeouts (AWS Developer Guide: "Handling errors in Step Functions workflows")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sfn_offline import moto_engine
from sfn_offline.engine import run_definition
from sfn_offline.lambda_api import FunctionTimeoutError

FUNCTION = "arn:aws:states:::lambda:invoke"


class FlakyError(Exception):
    """Raised by the flaky handler below; matched by class name."""


class Flaky:
    """Fails the first ``failures`` calls with FlakyError, recording when each call happened."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[float] = []

    def __call__(self, event: dict[str, Any], context: Any) -> str:
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.failures:
            raise FlakyError(f"attempt {len(self.calls)}")
        return "ok"

    def gaps(self) -> list[float]:
        return [later - earlier for earlier, later in zip(self.calls, self.calls[1:], strict=False)]


@pytest.fixture
def requested_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the engine asks for, in state-machine seconds before scaling (Retry intervals, Wait states)."""
    requested: list[float] = []
    scaled = moto_engine.scaled_seconds

    def record(seconds: float) -> float:
        requested.append(seconds)
        return scaled(seconds)

    monkeypatch.setattr(moto_engine, "scaled_seconds", record)
    return requested


def task(retry: list[dict[str, Any]] | None = None, catch: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": FUNCTION,
        "Parameters": {"FunctionName": "Flaky", "Payload.$": "$"},
        "ResultSelector": {"answer.$": "$.Payload"},
        "End": True,
    }
    if retry:
        state["Retry"] = retry
    if catch:
        state["Catch"] = catch
        state["Next"] = "Done"
        del state["End"]
    return state


def run_task(state: dict[str, Any], handler: Any, *, time_scale: float = 0.0) -> Any:
    definition = {
        "StartAt": "Call",
        "States": {"Call": state, "Done": {"Type": "Pass", "End": True}},
    }
    return run_definition(definition, {"in": 1}, functions={"Flaky": handler}, time_scale=time_scale)


# --- Retry -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_attempts", "failures", "status", "calls"), [(2, 2, "SUCCEEDED", 3), (2, 3, "FAILED", 3), (0, 1, "FAILED", 1)]
)
def test_max_attempts_bounds_the_retries(max_attempts: int, failures: int, status: str, calls: int) -> None:
    flaky = Flaky(failures)
    retry = [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 1, "MaxAttempts": max_attempts}]
    result = run_task(task(retry), flaky)
    assert (result.status, len(flaky.calls)) == (status, calls)
    if status == "FAILED":
        assert result.error == "FlakyError"


def test_default_max_attempts_is_three() -> None:
    flaky = Flaky(10)
    result = run_task(task([{"ErrorEquals": ["States.ALL"]}]), flaky)
    assert (result.status, len(flaky.calls)) == ("FAILED", 4)


def test_first_matching_retrier_wins() -> None:
    # Given a retrier that does not match, then one that does with a single attempt
    flaky = Flaky(5)
    retry = [
        {"ErrorEquals": ["Other.Error"], "MaxAttempts": 5},
        {"ErrorEquals": ["FlakyError"], "MaxAttempts": 1},
    ]
    result = run_task(task(retry), flaky)
    assert (result.status, len(flaky.calls)) == ("FAILED", 2)


def test_scaled_waits_keep_backoff_and_max_delay_proportions(requested_waits: list[float]) -> None:
    # Given IntervalSeconds 1, BackoffRate 3, MaxDelaySeconds 2: waits 1, 2 (3 capped), 2 (9 capped)
    flaky = Flaky(3)
    retry = [
        {
            "ErrorEquals": ["FlakyError"],
            "IntervalSeconds": 1,
            "BackoffRate": 3.0,
            "MaxDelaySeconds": 2,
            "MaxAttempts": 3,
        }
    ]
    scale = 0.05
    # When it runs with every second scaled to 50 ms
    result = run_task(task(retry), flaky, time_scale=scale)
    # Then the engine asked for exactly AWS's waits, and really slept them scaled (50, 100, 100 ms at least; an upper
    # bound on wall time would only measure how busy the machine is)
    assert result.status == "SUCCEEDED"
    assert requested_waits == [1, 2, 2]
    for gap, expected in zip(flaky.gaps(), requested_waits, strict=True):
        assert gap >= expected * scale * 0.9


def test_full_jitter_never_waits_longer_than_the_backoff(requested_waits: list[float]) -> None:
    flaky = Flaky(3)
    retry = [
        {
            "ErrorEquals": ["FlakyError"],
            "IntervalSeconds": 2,
            "BackoffRate": 2.0,
            "MaxAttempts": 3,
            "JitterStrategy": "FULL",
        }
    ]
    result = run_task(task(retry), flaky)
    # Then each wait lies between 0 and its backoff ceiling (2, 4, 8 s), drawn at random rather than the ceiling itself
    assert result.status == "SUCCEEDED"
    assert len(requested_waits) == 3
    for wait, ceiling in zip(requested_waits, [2, 4, 8], strict=True):
        assert 0 <= wait <= ceiling
    assert requested_waits != [2, 4, 8]


# --- Catch -------------------------------------------------------------------------------------------------------


def test_catch_puts_error_and_cause_at_result_path() -> None:
    catch = [{"ErrorEquals": ["FlakyError"], "ResultPath": "$.failure", "Next": "Done"}]
    result = run_task(task(catch=catch), Flaky(1))
    assert result.status == "SUCCEEDED"
    assert result.output["in"] == 1
    assert result.output["failure"]["Error"] == "FlakyError"
    assert "attempt 1" in result.output["failure"]["Cause"]


def test_catch_runs_after_retries_are_exhausted() -> None:
    flaky = Flaky(5)
    retry = [{"ErrorEquals": ["FlakyError"], "MaxAttempts": 2}]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]
    result = run_task(task(retry, catch), flaky)
    # Without ResultPath the error output replaces the input
    assert result.status == "SUCCEEDED"
    assert len(flaky.calls) == 3
    assert result.output["Error"] == "FlakyError"


def test_task_failed_does_not_catch_states_timeout() -> None:
    def slow(event: dict[str, Any], context: Any) -> None:
        raise FunctionTimeoutError("Flaky", 3)

    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Done"}]
    result = run_task(task(catch=catch), slow)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


# --- handler timeouts --------------------------------------------------------------------------------------------


def test_a_timed_out_handler_fails_the_task_with_states_timeout() -> None:
    def slow(event: dict[str, Any], context: Any) -> None:
        raise FunctionTimeoutError("Flaky", 3)

    result = run_task(task(), slow)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert result.cause == "Flaky timed out after 3 seconds"


def test_states_timeout_is_retried_and_caught() -> None:
    calls: list[int] = []

    def slow(event: dict[str, Any], context: Any) -> None:
        calls.append(1)
        raise FunctionTimeoutError("Flaky", 0.5)

    retry = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}]
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Done"}]
    result = run_task(task(retry, catch), slow)
    assert result.status == "SUCCEEDED"
    assert len(calls) == 3
    assert result.output["timeout"] == {"Error": "States.Timeout", "Cause": "Flaky timed out after 0.5 seconds"}


def test_a_timed_out_function_arn_task_fails_with_states_timeout() -> None:
    def slow(event: dict[str, Any], context: Any) -> None:
        raise FunctionTimeoutError("Slow", 1)

    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Slow", "End": True}
        },
    }
    result = run_definition(definition, {}, functions={"Slow": slow})
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


# --- Parallel ----------------------------------------------------------------------------------------------------


def branch(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Only", "States": {"Only": {**state, "End": True} if state["Type"] != "Fail" else state}}


def test_parallel_returns_one_result_per_branch_in_order() -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    branch({"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.n, $.n)"}}),
                    branch({"Type": "Pass", "InputPath": "$.n"}),
                ],
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }
    result = run_definition(definition, {"n": 4})
    assert (result.status, result.output) == ("SUCCEEDED", {"n": 4, "results": [{"double": 8}, 4]})


def test_a_failing_branch_fails_the_parallel_state_with_the_branch_error() -> None:
    # AWS reports the failing branch's own error (Catch on it works), not a generic States.BranchFailed
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    branch({"Type": "Pass"}),
                    branch({"Type": "Fail", "Error": "Branch.Broken", "Cause": "branch two"}),
                ],
                "Catch": [{"ErrorEquals": ["Branch.Broken"], "ResultPath": "$.error", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    result = run_definition(definition, {})
    assert result.status == "SUCCEEDED"
    assert result.output["error"] == {"Error": "Branch.Broken", "Cause": "branch two"}
