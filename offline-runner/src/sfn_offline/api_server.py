"""``api``: the template's Api routes served on loopback, as ``sam local start-api`` serves them, without Docker.

The server holds one :class:`~sfn_offline.stack.OfflineStack` for its lifetime: every state machine of the template
exists under its template ARN, so a function that starts executions through boto3 (the chain API's
``StartExecution``, ``StartSyncExecution``, ``DescribeExecution``) reaches them, and executions run in the background
while the server answers other requests. Progress lines of every execution go to the server's log stream, prefixed
with the execution's name.

Function routes receive the Lambda proxy event of their API: REST (``Api``) routes payload format 1.0, ``HttpApi``
routes format 2.0 (or 1.0 when their ``PayloadFormatVersion`` says so), and answer with what the handler returns
(``{statusCode, headers, body, isBase64Encoded}``; under format 2.0 anything else is sent as a JSON body with status
200, as API Gateway does). Each function serves one request at a time, as one Lambda
sandbox does (Powertools' resolvers keep the current event on a module-level object); different functions run at
the same time. State machine routes start an execution with the input the route's event maps the request to (SAM's
default request template: the JSON body) and answer at once, as API Gateway's ``StartExecution`` integration does:
``{"executionArn", "startDate"}``. An EXPRESS machine whose route is marked synchronous answers as
``StartSyncExecution`` does (``status``, ``output`` as JSON text, ``error``, ``cause``...). SAM's ``Api`` event on a
state machine always integrates with ``StartExecution``, so a route is synchronous only when its event says
``Sync: true`` or ``Action: StartSyncExecution`` in its ``Properties`` (runner-only keys, ignored by SAM), or when the
template's ``ApiRoute`` carries ``sync``/``synchronous``.

Unknown routes answer 403 ``{"message": "Missing Authentication Token"}``: what API Gateway REST APIs (and
``sam local start-api``) answer for a path or method they do not have.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import IO, Any, Final
from urllib.parse import unquote, urlsplit

from sfn_offline import report

MISSING_ROUTE_STATUS: Final[int] = HTTPStatus.FORBIDDEN
MISSING_ROUTE_BODY: Final[dict[str, str]] = {"message": "Missing Authentication Token"}
_INTERNAL_ERROR: Final[dict[str, str]] = {"message": "Internal server error"}
_BAD_REQUEST: Final[dict[str, str]] = {"message": "Bad request"}
_STAGE: Final[str] = "Prod"
_PARAMETER: Final[re.Pattern[str]] = re.compile(r"\{([^}+]+)(\+?)\}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``): the only addresses the server binds."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _CompiledRoute:
    route: Any
    pattern: re.Pattern[str] | None  # None: HttpApi's $default, which matches any path.
    rank: tuple[int, int, int]


def _compile(route: Any) -> _CompiledRoute:
    path = str(route.path)
    if path == "$default":
        return _CompiledRoute(route, None, (2, 0, 0))
    parts: list[str] = []
    position = 0
    greedy = params = 0
    for found in _PARAMETER.finditer(path):
        parts.append(re.escape(path[position : found.start()]))
        if found[2]:
            greedy += 1
            parts.append(f"(?P<{_group(found[1])}>.+)")
        else:
            params += 1
            parts.append(f"(?P<{_group(found[1])}>[^/]+)")
        position = found.end()
    parts.append(re.escape(path[position:]))
    # Literal paths win over parameters, parameters over greedy ones; longer literal text first.
    return _CompiledRoute(route, re.compile("".join(parts).rstrip("/") + "/?"), (greedy, params, -len(path)))


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name) if not name.isidentifier() else name


def describe_routes(template: Any) -> list[str]:
    """One line per route, for the server's banner."""
    lines = []
    for route in template.apis:
        kind = "function" if route.target_kind == "function" else "state machine"
        lines.append(f"  {route.method:<7} {route.path:<30} -> {kind} {route.target}")
    return lines or ["  (the template has no Api routes)"]


class ApiApp:
    """Routes requests to functions and state machines of one template, on an open offline stack."""

    def __init__(self, template: Any, stack: Any, *, log: IO[str]) -> None:
        self._template = template
        self._stack = stack
        self._log = log
        self._routes = sorted((_compile(route) for route in template.apis), key=lambda item: item.rank)
        self._function_locks = {route.target: threading.Lock() for route in template.apis}

    def match(self, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
        for compiled in self._routes:
            route = compiled.route
            if route.method not in {"ANY", method}:
                continue
            if compiled.pattern is None:
                return route, {}
            found = compiled.pattern.fullmatch(path)
            if found is not None:
                names = _PARAMETER.findall(str(route.path))
                values = found.groupdict()
                return route, {name: unquote(values[_group(name)]) for name, _ in names}
        return None

    def respond(  # noqa: PLR0917  (one argument per part of the request)
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes, client: str, port: int
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request arriving on ``port``: (status, headers, body); ``headers`` keep repeated names."""
        split = urlsplit(target)
        path = unquote(split.path) or "/"
        matched = self.match(method, path)
        if matched is None:
            return _json_response(MISSING_ROUTE_STATUS, MISSING_ROUTE_BODY)
        route, path_parameters = matched
        try:
            event = api_event(route, method, target, headers, body, path_parameters, client, port)
        except ValueError as exc:  # a request werkzeug cannot read (a malformed Host...): API Gateway answers 400
            self._log.write(f"!! {method} {path}: bad request: {_one_line(str(exc))}\n")
            return _json_response(HTTPStatus.BAD_REQUEST, _BAD_REQUEST)
        if route.target_kind == "function":
            return self._function(route, event)
        return self._state_machine(route, event)

    def _function(self, route: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        handler = self._stack.functions[self._template.functions[route.target].name]
        try:
            with self._function_locks[route.target]:
                result = handler(event, None)
        except Exception as exc:  # noqa: BLE001  (API Gateway answers 502 whatever the function raised)
            self._log.write(f"!! {route.target}: {type(exc).__name__}: {exc}\n")
            return _json_response(HTTPStatus.BAD_GATEWAY, _INTERNAL_ERROR)
        if route.payload_format == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
            return _json_response(HTTPStatus.OK, result)
        return _proxy_response(result, route.target, self._log)

    def _state_machine(self, route: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        from sfn_offline.moto_engine import StepFunctionsServiceError  # noqa: PLC0415

        machine = self._template.state_machines[route.target]
        try:
            execution_input = machine.input_from_event(route.event_name, event)
        except Exception as exc:  # noqa: BLE001  (a body that is not JSON: API Gateway's mapping fails with 400)
            return _json_response(HTTPStatus.BAD_REQUEST, {"message": _one_line(str(exc))})
        self._log.write(f"== {route.method} {route.path} -> {machine.logical_id}\n")
        if machine.type.upper() == "EXPRESS" and _is_synchronous(route, machine):
            request = {"stateMachineArn": machine.arn, "input": json.dumps(execution_input)}
            try:
                return _json_response(HTTPStatus.OK, self._stack.start_sync_execution(request))
            except StepFunctionsServiceError as exc:
                return _json_response(HTTPStatus.BAD_REQUEST, {"__type": exc.code, "message": exc.message})
        started = datetime.now(UTC)
        arn = self._stack.start(machine.logical_id, execution_input)
        return _json_response(HTTPStatus.OK, {"executionArn": arn, "startDate": started.timestamp()})


def progress_log(log: IO[str]) -> Callable[[str, str, dict[str, Any] | None], None]:
    """A stack listener writing every execution's progress lines to ``log``, each prefixed with its name."""
    printers: dict[str, report.ProgressPrinter] = {}
    lock = threading.Lock()

    def listener(kind: str, arn: str, event: dict[str, Any] | None) -> None:
        name = arn.rsplit(":", 1)[-1][:12]
        with lock:
            printer = printers.setdefault(arn, report.ProgressPrinter(_Prefixed(log, f"[{name}] ")))
        if kind == "event" and event is not None:
            printer(event)
        else:
            with lock:
                printers.pop(arn, None)

    return listener


class _Prefixed:
    """A text stream that puts ``prefix`` before every line written to ``target``."""

    def __init__(self, target: IO[str], prefix: str) -> None:
        self._target = target
        self._prefix = prefix

    def write(self, text: str) -> int:
        lines = text.splitlines(keepends=True)
        self._target.write("".join(self._prefix + line for line in lines))
        return len(text)

    def flush(self) -> None:
        self._target.flush()


def _is_synchronous(route: Any, machine: Any) -> bool:
    if getattr(route, "sync", False) or getattr(route, "synchronous", False):
        return True
    properties = (machine.events.get(route.event_name) or {}).get("Properties") or {}
    return properties.get("Sync") is True or properties.get("Action") == "StartSyncExecution"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def api_event(  # noqa: PLR0917  (one argument per part of the request)
    route: Any,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    path_parameters: dict[str, str],
    client: str,
    port: int,
) -> dict[str, Any]:
    """The Lambda event API Gateway sends ``route``'s function for one request, built by SAM CLI's own constructors.

    ``sam local start-api`` builds its events with ``samcli.local.apigw.event_constructor`` from a Flask request;
    a werkzeug request built from the same request (the route's Flask path as ``endpoint``, the matched path
    parameters as ``view_args``) gives them what they read, so a REST (v1) or HttpApi (v2, or v1 with
    ``version: "1.0"``) event is the one ``sam local start-api`` would send. Two things are set here because SAM CLI
    sets them once per process (default arguments evaluated at import): ``requestContext.requestId`` and the
    request time, which must differ between requests as on API Gateway. A body is base64-encoded when it is not
    UTF-8 text (SAM CLI decides by the API's ``BinaryMediaTypes``, which the runner does not read).
    """
    # SAM CLI ships no type information.
    from samcli.local.apigw.event_constructor import (  # type: ignore[import-untyped]  # noqa: PLC0415
        construct_v1_event,
        construct_v2_event_http,
    )
    from samcli.local.apigw.path_converter import PathConverter  # type: ignore[import-untyped]  # noqa: PLC0415

    split = urlsplit(target)
    request = _werkzeug_request(method, split.path or "/", split.query, headers, body, client, port)
    request.endpoint = PathConverter.convert_path_to_flask(str(route.path))
    request.view_args = path_parameters
    binary_types = [] if _is_text(body) else ["*/*"]
    now = time.time()
    request_time = datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    if route.payload_format == "2.0":
        route_key = "$default" if route.path == "$default" else f"{route.method} {route.path}"
        event = construct_v2_event_http(
            request, port, binary_types, route_key=route_key, request_time_epoch=int(now), request_time=request_time
        )
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        return dict(event)
    api_type = "HttpApi" if route.event_type == "HttpApi" else "Api"
    event = construct_v1_event(request, port, binary_types, stage_name=_STAGE, api_type=api_type)
    event["requestContext"] |= {
        "requestId": str(uuid.uuid4()),
        "requestTime": request_time,
        "requestTimeEpoch": int(now * 1000),
    }
    return dict(event)


def _werkzeug_request(  # noqa: PLR0917
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    client: str,
    port: int,
) -> Any:
    """A Flask-like request (werkzeug's, with ``endpoint`` and ``view_args`` settable) for SAM CLI's constructors."""
    from werkzeug.datastructures import Headers  # noqa: PLC0415
    from werkzeug.test import EnvironBuilder  # noqa: PLC0415
    from werkzeug.wrappers import Request  # noqa: PLC0415

    class _RoutedRequest(Request):
        endpoint: str | None = None
        view_args: dict[str, str] | None = None

    values = Headers(list(headers))
    builder = EnvironBuilder(
        path=path,
        method=method,
        query_string=query,
        headers=values,
        data=body,
        base_url=f"http://{values.get('Host') or f'127.0.0.1:{port}'}/",
        environ_base={"REMOTE_ADDR": client, "SERVER_PROTOCOL": "HTTP/1.1"},
    )
    try:
        return builder.get_request(_RoutedRequest)
    finally:
        builder.close()


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _proxy_response(result: Any, target: str, log: IO[str]) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or not isinstance(result.get("statusCode", 200), int):
        log.write(f"!! {target}: malformed Lambda proxy response (need an object with an integer statusCode)\n")
        return _json_response(HTTPStatus.BAD_GATEWAY, _INTERNAL_ERROR)
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(str(body))
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    headers = {str(name): str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(value) for value in values)
    headers.setdefault("Content-Type", "application/json")
    return int(result.get("statusCode", 200)), headers, payload


def _json_response(status: int, document: Any) -> tuple[int, dict[str, str], bytes]:
    return int(status), {"Content-Type": "application/json"}, json.dumps(document).encode("utf-8")


def _request_handler(app: ApiApp, log: IO[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "offline-api"

        def _serve(self) -> None:
            port = self.server.server_port if isinstance(self.server, HTTPServer) else 0
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, response_headers, payload = app.respond(
                self.command, self.path, self.headers.items(), body, self.client_address[0], port
            )
            self.send_response(status)
            for name, value in response_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            log.write(f"{self.address_string()} {format % args}\n")

    return Handler


@contextlib.contextmanager
def serving(
    template: Any,
    host: str,
    port: int,
    *,
    log: IO[str],
    bedrock: Any = None,
    s3_dirs: Sequence[str] = (),
    plugins: Any = None,
) -> Iterator[ThreadingHTTPServer]:
    """A bound server for ``template`` on an offline stack inside one ``mock_aws``; the caller runs
    ``serve_forever``. ``bedrock`` defaults to the SIMULATED stand-in; ``s3_dirs`` (``[BUCKET=]DIR`` each) seed
    the emulated buckets (:func:`sfn_offline.cli.seed_buckets`)."""
    if not is_loopback(host):
        raise ValueError(f"refusing to serve on {host}: loopback addresses only")
    from moto import mock_aws  # noqa: PLC0415

    from sfn_offline.session import HandlerOutput  # noqa: PLC0415
    from sfn_offline.stack import OfflineStack  # noqa: PLC0415

    # Handlers print logs and EMF metrics to stdout; the server's stdout is for its banner.
    with (
        mock_aws(),
        contextlib.redirect_stdout(HandlerOutput(log)),
        OfflineStack(template, bedrock=bedrock, plugins=plugins) as stack,
    ):
        if s3_dirs:
            from sfn_offline.cli import seed_buckets  # noqa: PLC0415

            seed_buckets(template, s3_dirs, log)
        stack.listen(progress_log(log))
        app = ApiApp(template, stack, log=log)
        server = ThreadingHTTPServer((host, port), _request_handler(app, log))
        try:
            yield server
        finally:
            server.server_close()
