"""What an API route sends a function: the event ``sam local start-api`` sends, built by SAM CLI's own constructors.

Each test sends one request over HTTP and compares what the function received with what SAM CLI's constructor
builds from the same request on a real Flask request context (the way ``sam local start-api`` gets it): REST routes
payload format 1.0, HttpApi routes format 2.0 (or 1.0 when their PayloadFormatVersion says so). Only the request id
and the request time may differ: they are per request (see ``sfn_offline.api_server.api_event``).
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

HELLO = Path(__file__).parent / "fixtures" / "hello-project" / "template.yaml"
_REAL_CONNECT = socket.socket.connect
_PER_REQUEST = ("requestId", "requestTime", "requestTimeEpoch", "time", "timeEpoch")
_HEADERS = [("Cookie", "a=1; b=2"), ("X-Trace", "t1"), ("X-Multi", "one"), ("X-Multi", "two")]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, serve_api: Callable[[Path], Any]) -> Iterator[str]:
    def loopback_only(self: socket.socket, address: Any) -> None:
        if address[0] != "127.0.0.1":
            raise RuntimeError(f"non-loopback connection: {address!r}")
        _REAL_CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    with serve_api(HELLO) as url:
        yield url


def _send(url: str, target: str, body: bytes = b"") -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The headers sent (exactly these: no client defaults) and the event the echo function received."""
    netloc = urlsplit(url).netloc
    headers = [("Host", netloc), *_HEADERS]
    if body:
        headers.append(("Content-Length", str(len(body))))
    connection = http.client.HTTPConnection(netloc, timeout=20)
    try:
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        assert response.status == 200
        echoed: dict[str, Any] = json.loads(response.read())["event"]
    finally:
        connection.close()
    return headers, echoed


def _sam_cli_event(
    url: str, route: str, target: str, headers: list[tuple[str, str]], body: bytes, payload: str, api_type: str
) -> dict[str, Any]:
    """What SAM CLI's constructor builds for this request on a Flask request context, as start-api does."""
    from flask import Flask
    from samcli.local.apigw.event_constructor import (  # type: ignore[import-untyped]
        construct_v1_event,
        construct_v2_event_http,
    )
    from samcli.local.apigw.path_converter import PathConverter  # type: ignore[import-untyped]
    from werkzeug.datastructures import Headers

    port = int(urlsplit(url).port or 0)
    flask_route = PathConverter.convert_path_to_flask(route)
    app = Flask("sam-cli-reference")
    app.add_url_rule(flask_route, endpoint=flask_route, view_func=lambda **_: "", methods=["GET"])
    path, _, query = target.partition("?")
    binary_types = [] if _is_text(body) else ["*/*"]
    with app.test_request_context(
        path,
        method="GET",
        query_string=query,
        headers=Headers(headers),
        data=body,
        base_url=f"http://127.0.0.1:{port}/",
        environ_base={"REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"},
    ) as context:
        request = context.request
        if payload == "2.0":
            event: dict[str, Any] = construct_v2_event_http(request, port, binary_types, route_key=f"GET {route}")
        else:
            event = construct_v1_event(request, port, binary_types, stage_name="Prod", api_type=api_type)
    return event


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _without_per_request(event: dict[str, Any]) -> dict[str, Any]:
    context = {key: value for key, value in event["requestContext"].items() if key not in _PER_REQUEST}
    return event | {"requestContext": context}


@pytest.mark.parametrize(
    ("route", "target", "body", "payload", "api_type"),
    [
        ("/http/echo/{name}", "/http/echo/ada?tag=x&tag=y&empty=", b"", "2.0", "HttpApi"),
        ("/http/echo/{name}", "/http/echo/ad%C3%A9", b'{"text": "caf\xc3\xa9"}', "2.0", "HttpApi"),
        ("/http/echo/{name}", "/http/echo/bin", b"\xff\xfe\x00binary", "2.0", "HttpApi"),
        ("/rest/echo/{name}", "/rest/echo/ada?tag=x&tag=y&empty=", b"", "1.0", "Api"),
        ("/rest/echo/{name}", "/rest/echo/ada", b'{"question": "why?"}', "1.0", "Api"),
        ("/rest/echo/{name}", "/rest/echo/bin", b"\xff\xfe\x00binary", "1.0", "Api"),
        ("/http-v1/echo/{name}", "/http-v1/echo/ada?tag=x&tag=y", b"", "1.0", "HttpApi"),
    ],
    ids=["v2-query", "v2-text-body", "v2-binary-body", "v1-query", "v1-text-body", "v1-binary-body", "http-v1"],
)
def test_the_event_is_the_one_sam_cli_builds(
    server: str, route: str, target: str, body: bytes, payload: str, api_type: str
) -> None:
    # Given a request with repeated query parameters and headers, cookies, and a text, binary or no body
    # When it reaches the echo function through the route
    headers, received = _send(server, target, body)

    # Then the function got, field by field, what SAM CLI's constructor builds from the same request
    expected = _sam_cli_event(server, route, target, headers, body, payload, api_type)
    assert _without_per_request(received) == _without_per_request(expected)


def test_the_events_fields_are_api_gateways(server: str) -> None:
    # Given an HttpApi route and a REST route
    # When each gets a request with a repeated query parameter
    _, v2 = _send(server, "/http/echo/ada?tag=x&tag=y")
    _, v1 = _send(server, "/rest/echo/ada?tag=x&tag=y", b"\xff")

    # Then the v2 event joins the values, parts cookies from headers and names the route key
    assert v2["version"] == "2.0"
    assert v2["routeKey"] == "GET /http/echo/{name}"
    assert v2["rawQueryString"] == "tag=x&tag=y"
    assert v2["queryStringParameters"] == {"tag": "x,y"}
    assert v2["pathParameters"] == {"name": "ada"}
    assert v2["cookies"] == ["a=1", "b=2"]
    assert v2["requestContext"]["stage"] == "$default"
    # And the v1 event keeps every value, the resource template and the stage; a binary body arrives as base64
    assert v1["multiValueQueryStringParameters"] == {"tag": ["x", "y"]}
    assert v1["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert v1["resource"] == "/rest/echo/{name}"
    assert v1["requestContext"]["stage"] == "Prod"
    assert v1["isBase64Encoded"] is True
    assert v1["body"] == "/w=="


def test_each_request_gets_its_own_request_id_and_time(server: str) -> None:
    # SAM CLI's event classes take the request id (and v1's request time) from default arguments evaluated once,
    # when SAM CLI is imported: every event of a process would carry the same id, unlike API Gateway's.
    # When the same routes are called twice
    ids = {_send(server, target)[1]["requestContext"]["requestId"] for target in ["/http/echo/a", "/rest/echo/a"] * 2}

    # Then every event has an id of its own
    assert len(ids) == 4


def test_a_request_werkzeug_cannot_read_gets_400(server: str) -> None:
    # Given a request whose Host header is not a host (the request SAM CLI's constructors would get cannot be built)
    netloc = urlsplit(server).netloc
    with socket.create_connection(("127.0.0.1", int(netloc.rsplit(":", 1)[1])), timeout=20) as connection:
        connection.sendall(b"GET /http/echo/a HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk

    # Then the server answers 400, as API Gateway does, with no detail of its own
    assert answer.startswith(b"HTTP/1.0 400")
    assert answer.endswith(b'{"message": "Bad request"}')
