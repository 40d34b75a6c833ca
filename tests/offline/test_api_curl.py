"""``python -m sfn_offline api`` on template.yaml, driven with the real curl: the chain API's routes start prompt
chains on the template's machines in the offline stack, answer from them, and keep Step Functions' idempotency."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CURL = "/usr/bin/curl"
ANSWERS = {
    "Write an outline": {"title": "Chains over HTTP", "sections": ["Start", "Wait", "Read"]},
    "Critique this draft": {"score": 8, "strengths": ["short"], "issues": ["simulated"]},
}
START_SECONDS = 90
RESULT_SECONDS = 90
BODY = {"chain": "outline-draft-critique", "variables": {"topic": "curl", "audience": "testers"}}

pytestmark = pytest.mark.skipif(not Path(CURL).is_file(), reason="needs /usr/bin/curl")


@dataclass
class Server:
    url: str
    log: Path


@dataclass
class Answer:
    status: int
    body: Any


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The api command as a subprocess on a free loopback port; its log (stderr) goes to a file."""
    folder = tmp_path_factory.mktemp("api")
    answers = folder / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    log = folder / "server.log"
    command = [sys.executable, "-m", "sfn_offline", "api", "--port", "0", "--json-answers", str(answers)]
    with log.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603  (a fixed command line)
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True, env=os.environ.copy()
        )
        try:
            yield Server(_wait_for_banner(process, process.stdout, log), log)
        finally:
            process.terminate()
            process.wait(10)


def _wait_for_banner(process: subprocess.Popen[str], stdout: IO[str] | None, log: Path) -> str:
    assert stdout is not None
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        line = stdout.readline()
        found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    pytest.fail(f"the api server did not start:\n{log.read_text()[-3000:]}")


def curl(server: Server, method: str, path: str, body: Any = None, *, key: str | None = None) -> Answer:
    command = [CURL, "-sS", "--max-time", "60", "-X", method, "-w", "\n%{http_code}"]
    command += ["-H", "Content-Type: application/json"]
    if key is not None:
        command += ["-H", f"Idempotency-Key: {key}"]
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        command += ["--data-binary", "@-"]
    done = subprocess.run([*command, server.url + path], input=data, capture_output=True, check=True)  # noqa: S603
    text, _, status = done.stdout.decode().rpartition("\n")
    return Answer(int(status), json.loads(text) if text else None)


def result_of(server: Server, execution_id: str) -> Answer:
    """GET /chains/{id} until the execution has left RUNNING (bounded)."""
    deadline = time.monotonic() + RESULT_SECONDS
    while True:
        answer = curl(server, "GET", f"/chains/{execution_id}")
        if answer.status != 200 or answer.body["status"] != "RUNNING" or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_post_starts_a_chain_in_the_background_and_get_reads_its_result(server: Server) -> None:
    started = curl(server, "POST", "/chains", BODY)

    assert started.status == 202
    assert started.body["status"] == "RUNNING"
    assert ":execution:offline-chain-outline-draft-critique:" in started.body["executionArn"]
    finished = result_of(server, started.body["executionId"])
    assert finished.status == 200
    assert finished.body["status"] == "SUCCEEDED", finished.body
    assert finished.body["output"]["steps"]["critique"]["json"] == ANSWERS["Critique this draft"]


def test_the_same_idempotency_key_starts_one_execution(server: Server) -> None:
    first = curl(server, "POST", "/chains", BODY, key="curl-retry-1")
    second = curl(server, "POST", "/chains", BODY, key="curl-retry-1")

    assert first.status == second.status == 202
    execution_id = first.body["executionId"]
    assert second.body["executionId"] == execution_id
    assert result_of(server, execution_id).body["status"] == "SUCCEEDED"
    # The server logs each execution's states under its name: one execution entered the first state once.
    name = execution_id.partition(".")[2]
    starts = [line for line in server.log.read_text().splitlines() if line.startswith(f"[{name[:12]}] -> ")]
    assert starts.count(f"[{name[:12]}] -> Check Input") == 1


def test_the_same_key_with_another_body_is_a_conflict(server: Server) -> None:
    assert curl(server, "POST", "/chains", BODY, key="curl-conflict").status == 202

    changed = curl(server, "POST", "/chains", BODY | {"variables": {"topic": "other"}}, key="curl-conflict")

    assert changed.status == 409
    assert changed.body["error"] == "IdempotencyConflictError"


def test_sync_mode_answers_with_the_result(server: Server) -> None:
    answer = curl(server, "POST", "/chains", BODY | {"mode": "sync"})

    assert answer.status == 200
    assert answer.body["status"] == "SUCCEEDED"
    assert ":execution:PromptChainExpressStateMachine:" in answer.body["executionArn"]
    assert answer.body["output"]["steps"]["outline"]["json"] == ANSWERS["Write an outline"]


def test_an_unknown_chain_is_not_found(server: Server) -> None:
    answer = curl(server, "POST", "/chains", {"chain": "no-such-chain"})

    assert answer.status == 404
    assert answer.body["error"] == "UnknownChainError"


def test_an_unknown_execution_is_not_found(server: Server) -> None:
    assert curl(server, "GET", "/chains/" + "0" * 64).status == 404


def test_an_oversized_body_is_refused(server: Server) -> None:
    body = json.dumps(BODY | {"variables": {"topic": "x" * 210_000}}).encode()

    answer = curl(server, "POST", "/chains", body)

    assert answer.status == 413
    assert answer.body["error"] == "PayloadTooLargeError"
