"""`invoke` (one function, like `sam local invoke`) and `api` (Api routes on loopback, like `sam local start-api`)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TEMPLATE = str(FIXTURES / "template.yaml")
# Bound at import, before the autouse no_network fixture replaces it for each test.
_REAL_CONNECT = socket.socket.connect


def test_invoke_prints_the_return_value(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the fixture's function and a sample event
    code = main(
        [
            "invoke",
            "TidyAnswerFunction",
            "--template",
            TEMPLATE,
            "--event",
            str(FIXTURES / "tidy_answer.json"),
        ]
    )

    # Then the handler's return value is printed as JSON
    captured = capsys.readouterr()
    assert code == 0
    result = json.loads(captured.out)
    assert result["json"]["title"] == "Prompt chains on Step Functions"


def test_invoke_error_prints_the_envelope_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"model_id": "cohere.command-text-v14", "result": "no json here", "output": {"format": "json"}})
    )

    code = main(["invoke", "TidyAnswerFunction", "--template", TEMPLATE, "--event", str(event)])

    envelope = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(envelope) == {"errorType", "errorMessage"}
    assert envelope["errorType"].endswith("Error")


def test_invoke_unknown_function(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["invoke", "NoSuchFunction", "--template", TEMPLATE, "--event", str(FIXTURES / "tidy_answer.json")]) == 2
    )
    assert "no function 'NoSuchFunction'" in capsys.readouterr().err


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Sockets may reach 127.0.0.1 and nothing else; every attempt is recorded."""
    attempted: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        attempted.append(address)
        if address[0] != "127.0.0.1":
            raise RuntimeError(f"non-loopback connection: {address!r}")
        _REAL_CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempted


@pytest.fixture
def server(loopback_only: list[Any], serve_api: Callable[[Path], Any]) -> Iterator[str]:
    """The fixture template's API on 127.0.0.1, on a free port, served from a thread."""
    with serve_api(Path(TEMPLATE)) as url:
        yield url
    assert all(address[0] == "127.0.0.1" for address in loopback_only)


def _call(url: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310  (http on loopback)
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_function_route_gets_a_proxy_event(server: str) -> None:
    status, headers, body = _call(f"{server}/hello/ada?lang=en")

    assert status == 200
    assert headers["X-Function"] == "GreetFunction"
    assert body == {"greeting": "hello ada", "query": {"lang": "en"}, "method": "GET", "stage": "Prod"}


def test_state_machine_route_answers_like_start_execution(server: str) -> None:
    status, _, body = _call(f"{server}/questions", "POST", {"question": "why?"})

    assert status == 200
    assert set(body) == {"executionArn", "startDate"}
    assert ":execution:" in body["executionArn"]


def test_express_route_marked_sync_answers_like_start_sync_execution(server: str) -> None:
    status, _, body = _call(f"{server}/echo", "POST", {"ping": 1})

    assert status == 200
    assert body["status"] == "SUCCEEDED"
    assert json.loads(body["output"]) == {"echoed": {"ping": 1}}


def test_unknown_route_answers_missing_authentication_token(server: str) -> None:
    # API Gateway REST APIs answer 403 (not 404) for a path or method they do not have.
    for method, path in (("GET", "/nowhere"), ("DELETE", "/hello/ada")):
        status, _, body = _call(f"{server}{path}", method)
        assert status == 403
        assert body == {"message": "Missing Authentication Token"}
