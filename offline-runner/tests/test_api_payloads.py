"""What an API route sends a function: REST routes the payload format 1.0 proxy event, HttpApi routes format 2.0
(unless their PayloadFormatVersion says 1.0), each in the shape API Gateway sends."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HELLO = Path(__file__).parent / "fixtures" / "hello-project" / "template.yaml"
_REAL_CONNECT = socket.socket.connect


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, serve_api: Callable[[Path], Any]) -> Iterator[str]:
    def loopback_only(self: socket.socket, address: Any) -> None:
        if address[0] != "127.0.0.1":
            raise RuntimeError(f"non-loopback connection: {address!r}")
        _REAL_CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    with serve_api(HELLO) as url:
        yield url


def _echoed(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Cookie": "a=1; b=2", "X-Trace": "t1"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310  (http on loopback)
        assert response.status == 200
        echoed: dict[str, Any] = json.loads(response.read())["event"]
    return echoed


def test_an_http_api_route_sends_payload_format_2(server: str) -> None:
    # When calling the HttpApi route with a repeated query parameter and cookies
    event = _echoed(f"{server}/http/echo/ada?tag=x&tag=y")

    # Then the function got a format 2.0 event: route key, raw path and query, joined values, cookies apart
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /http/echo/{name}"
    assert event["rawPath"] == "/http/echo/ada"
    assert event["rawQueryString"] == "tag=x&tag=y"
    assert event["queryStringParameters"] == {"tag": "x,y"}
    assert event["pathParameters"] == {"name": "ada"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-trace"] == "t1"
    assert "cookie" not in event["headers"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"
    assert "body" not in event
    assert "httpMethod" not in event


def test_a_rest_route_sends_the_v1_proxy_event(server: str) -> None:
    event = _echoed(f"{server}/rest/echo/ada?tag=x&tag=y")

    assert event["httpMethod"] == "GET"
    assert event["resource"] == "/rest/echo/{name}"
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"]}
    assert event["pathParameters"] == {"name": "ada"}
    assert "version" not in event


def test_an_http_api_route_asking_for_format_1_gets_the_v1_event(server: str) -> None:
    event = _echoed(f"{server}/http-v1/echo/ada")

    assert event["httpMethod"] == "GET"
    assert event["resource"] == "/http-v1/echo/{name}"
