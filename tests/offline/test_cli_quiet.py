"""Quiet by default: progress lines, one line per failure with its error and cause, the summary; no library noise.

Run as a subprocess, as a user runs it: what the libraries print through logging and warnings reaches the real
stderr only there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.offline.conftest import PICTURES

ROOT = Path(__file__).resolve().parents[2]
# What moto's engine and Powertools say on their own: the internal exception line of every failure, the
# "no effect" parser warnings, the empty-metrics warning.
NOISE = ("Exception=FailureEventException", "FailureEventException", "no effect on the program evaluation",
         "UserWarning", "No application metrics to publish", "Traceback")  # fmt: skip


def _run(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (this interpreter, fixed arguments)
        [sys.executable, "-m", "sfn_offline", "run", "ReviewStateMachine",
         "--template", str(PICTURES / "template.yaml"), "--input", str(PICTURES / "unreadable.json"), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def quiet() -> subprocess.CompletedProcess[str]:
    return _run()


def test_a_failing_run_prints_one_line_for_its_failure_and_no_library_noise(
    quiet: subprocess.CompletedProcess[str],
) -> None:
    # Given a machine whose second Map iteration raises an error no Catch handles (it fails the execution)
    # When it runs without -v
    # Then it fails with status 1
    assert quiet.returncode == 1, quiet.stderr
    # And stderr has progress lines and exactly one line naming the failure, with its error and cause
    failures = [line for line in quiet.stderr.splitlines() if "AnswerUnreadableError" in line]
    assert failures == [
        "     !! Check Answer: task failed: AnswerUnreadableError: cannot read the answer (11 characters)"
    ]
    assert "-> Review Each Answer" in quiet.stderr
    assert "!! execution failed: the failure above" in quiet.stderr
    # And nothing that moto or Powertools say on their own
    for noise in NOISE:
        assert noise not in quiet.stderr, noise
    # And stdout has the outcome and the summary
    assert "== FAILED\nerror: AnswerUnreadableError\n" in quiet.stdout
    assert "== Summary" in quiet.stdout


def test_verbose_brings_the_detail_back() -> None:
    # Given the same failing run, When it runs with -v
    verbose = _run("-v")
    # Then moto's internal exception line and Powertools' warning are shown again
    assert verbose.returncode == 1
    assert "Exception=FailureEventException" in verbose.stderr
    assert "No application metrics to publish" in verbose.stderr
