"""Start-up of the runner against stock moto, and the per-execution time of a resident session.

Figures, no assertions; compare the ratio, measured in one run on one machine. Run as
``python offline-runner/benchmarks/startup.py`` with the runner installed (``make bench`` does).

- *whole process*: a fresh interpreter running the one-Pass machine of the hello-project fixture, twice over:
  ``sfn-offline run PassStateMachine --json`` (the runner: template read, machine parsed, executed, summary skipped)
  against stock moto's ``mock_aws`` running the same definition (boto3 client, create_state_machine,
  start_execution, describe_execution until it ends). Median of a few rounds each, interleaved.
- *resident*: one open ``OfflineStack`` (what ``sfn-offline api`` keeps open) running the same machine again and
  again: the median wall time of one execution.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hello-project"
DEFINITION = (PROJECT / "statemachines" / "pass.asl.json").read_text()
_ROUNDS = 5
_RESIDENT_ROUNDS = 30

STOCK_MOTO = """
import json, sys, time
import boto3
from moto import mock_aws

with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
    client = boto3.client("stepfunctions", region_name="us-east-1")
    arn = client.create_state_machine(
        name="pass", definition=sys.argv[1], roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    while (described := client.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(0.005)
    assert described["status"] == "SUCCEEDED", described
    print(described["output"])
"""


def _environment() -> dict[str, str]:
    # Bytecode caches on, as in any installation (a first, uncounted round writes them).
    environment = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    environment |= {"AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline"}
    environment["AWS_DEFAULT_REGION"] = "us-east-1"
    return environment


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or '"ok": true' not in done.stdout.replace("'", '"').replace("True", "true"):
        raise SystemExit(f"{command[:3]} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}")
    return elapsed


def _runner_command() -> list[str]:
    return [sys.executable, "-m", "sfn_offline", "run", "PassStateMachine", "--json"]


def _resident_ms() -> float:
    from moto import mock_aws  # noqa: PLC0415

    from sfn_offline.session import HandlerOutput, offline_environment  # noqa: PLC0415
    from sfn_offline.stack import OfflineStack  # noqa: PLC0415
    from sfn_offline.template import load_template  # noqa: PLC0415

    template = load_template(PROJECT / "template.yaml")
    times = []
    with (
        offline_environment(),
        contextlib.redirect_stdout(HandlerOutput(None)),
        mock_aws(),
        OfflineStack(template) as stack,
    ):
        stack.run("PassStateMachine", {}, timeout=30)
        for _ in range(_RESIDENT_ROUNDS):
            started = time.perf_counter()
            result = stack.run("PassStateMachine", {}, timeout=30)
            times.append((time.perf_counter() - started) * 1000)
            assert result.status == "SUCCEEDED", result
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "stock_moto.py"
        script.write_text(STOCK_MOTO)
        _timed(_runner_command(), PROJECT)
        _timed([sys.executable, str(script), DEFINITION], PROJECT)
        runner, stock = [], []
        for _ in range(_ROUNDS):
            runner.append(_timed(_runner_command(), PROJECT))
            stock.append(_timed([sys.executable, str(script), DEFINITION], PROJECT))
    runner_s, stock_s = statistics.median(runner), statistics.median(stock)
    print(f"python {sys.version.split()[0]}")
    print(f"whole process, one-Pass machine: sfn-offline run   {runner_s * 1000:7.0f} ms (median of {_ROUNDS})")
    print(f"whole process, one-Pass machine: stock moto mock_aws {stock_s * 1000:7.0f} ms (median of {_ROUNDS})")
    print(f"ratio runner / stock moto                          {runner_s / stock_s:7.2f}x   (aim <= 0.5x)")
    resident = _resident_ms()
    print(f"resident session, one execution (median of {_RESIDENT_ROUNDS})  {resident:7.1f} ms    (aim <= 100 ms)")


if __name__ == "__main__":
    main()
