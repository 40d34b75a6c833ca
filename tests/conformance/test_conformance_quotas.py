"""Service quotas that shape executions ("Step Functions service quotas"; API reference length constraints)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sfn_offline import moto_fidelity
from sfn_offline.engine import OfflineEngine, run_definition

CliRun = Callable[..., tuple[int, str, str]]

LOOP = {
    "StartAt": "Poll",
    "States": {
        "Poll": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Done?"},
        "Done?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1_000_000, "Next": "Done"}],
            "Default": "Poll",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_the_documented_quotas() -> None:
    """ "Maximum execution history size: 25,000 events"; "Maximum input or output size ...: 256 KiB"; the API's
    cause field: "Maximum length of 32768"."""
    assert (moto_fidelity.HISTORY_LIMIT, moto_fidelity.INPUT_LIMIT_BYTES, moto_fidelity.CAUSE_LIMIT) == (
        25_000,
        262_144,
        32_768,
    )


def test_a_standard_execution_fails_when_its_history_reaches_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "If the event number 25,000 isn't ExecutionSucceeded, the ExecutionFailed event is logged and the state
    machine execution fails" (best practices, avoid reaching the history quota). Run with the limit lowered to
    300 events, the same rule at a size a test can afford."""
    # Given a polling loop that never ends, and a history limit of 300
    monkeypatch.setattr(moto_fidelity, "HISTORY_LIMIT", 300)
    # When it runs
    result = run_definition(LOOP, {"n": 0}, timeout=120)
    # Then it fails at the limit, the last of 300 events being ExecutionFailed
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == "The execution reached the maximum number of history events (25000)."
    assert len(result.history) == 300
    assert result.history[-1]["type"] == "ExecutionFailed"


def test_an_express_execution_has_no_history_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Express workflows keep no execution history in Step Functions: the event quota is Standard's only."""
    # Given the same loop, bounded at 400 passes, on an EXPRESS machine, with the limit lowered to 300
    monkeypatch.setattr(moto_fidelity, "HISTORY_LIMIT", 300)
    bounded = json.loads(json.dumps(LOOP))
    bounded["States"]["Done?"]["Choices"][0]["NumericGreaterThan"] = 400
    with OfflineEngine() as engine:
        arn = engine.create_machine("ExpressLoop", bounded, machine_type="EXPRESS")
        result = engine.wait(engine.start(arn, {"n": 0}), timeout=120)
    # Then it runs to its end
    assert result.status == "SUCCEEDED", result.cause


def test_a_cause_is_capped_at_32768_characters() -> None:
    """The cause of a failure is at most 32,768 characters (ExecutionFailedEventDetails.cause)."""
    # Given a Fail state with a 40,000-character cause
    definition = {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Too.Long", "Cause": "x" * 40_000}}}
    # When it runs
    result = run_definition(definition, {})
    # Then the execution's cause is cut to the limit
    assert (result.status, result.error) == ("FAILED", "Too.Long")
    assert result.cause == "x" * 32_768


def test_an_input_over_256_kib_is_refused_at_start(tmp_path: Path, cli: CliRun) -> None:
    """StartExecution's input: "Length Constraints: Maximum length of 262144" (bytes in UTF-8): the execution never
    starts."""
    # Given an input one byte over the quota
    definition = tmp_path / "pass.asl.json"
    definition.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    document = json.dumps({"text": ""})
    big = tmp_path / "input.json"
    big.write_text(json.dumps({"text": "é" * ((262_145 - len(document)) // 2 + 1)}))
    # When it is run
    status, out, err = cli("run", "--definition", definition, "--input", big, "--json")
    # Then it is refused as bad input with StartExecution's error, no execution ran
    assert status == 2, err
    assert json.loads(out)["error"] == "ValidationException"
    assert "StartExecution" in err
    assert "262144" in err


def test_an_express_execution_times_out_at_its_duration_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Express workflows: "Maximum execution duration: 5 minutes" (service quotas); past it the execution times
    out. Run with the limit lowered to one second and a real 30-second Wait."""
    # Given an EXPRESS machine waiting 30 s, time not compressed, and a one-second duration limit
    monkeypatch.setattr(moto_fidelity, "EXPRESS_DURATION_SECONDS", 1.0)
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}}
    with OfflineEngine(time_scale=1.0) as engine:
        arn = engine.create_machine("SlowExpress", definition, machine_type="EXPRESS")
        result = engine.wait(engine.start(arn, {}), timeout=20)
    # Then it timed out at the limit, well before the wall-clock guard
    assert result.status == "TIMED_OUT"
    assert result.history[-1]["type"] == "ExecutionTimedOut"
