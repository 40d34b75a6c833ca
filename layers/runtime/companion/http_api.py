"""What the project's REST APIs share: a Powertools resolver that answers named errors as JSON, and a guard that
answers every other event or failure without internals.

API Gateway's proxy integration delivers a fixed event shape; a test client or a misrouted integration may deliver
anything. An event that is not that shape is answered 400 before routing; a failure that is not a named error is
ours: 500 with the request id only, the stack trace in the function's log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from traceback import format_tb
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from companion.observability import logger


class _ProxyEvent(BaseModel):
    """The fields of an API Gateway REST proxy event that routing and the handlers read."""

    model_config = ConfigDict(extra="allow")

    httpMethod: str  # noqa: N815  (API Gateway's field names)
    path: str
    headers: dict[str, str] | None = None
    multiValueHeaders: dict[str, list[str]] | None = None  # noqa: N815
    queryStringParameters: dict[str, str] | None = None  # noqa: N815
    multiValueQueryStringParameters: dict[str, list[str]] | None = None  # noqa: N815
    pathParameters: dict[str, str] | None = None  # noqa: N815
    requestContext: dict[str, Any] | None = None  # noqa: N815
    body: str | None = None
    isBase64Encoded: bool | None = None  # noqa: N815


def rest_resolver(statuses: Mapping[type[Exception], HTTPStatus]) -> APIGatewayRestResolver:
    """An ``APIGatewayRestResolver`` that answers each error class of ``statuses`` with its status and the JSON body
    ``{error, message}``, plus ``problems`` when the error lists them (an invalid chain definition)."""
    app = APIGatewayRestResolver()

    @app.exception_handler(list(statuses))  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    def client_error(error: Exception) -> Response[dict[str, Any]]:
        body: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
        problems = getattr(error, "problems", None)
        if problems is not None:
            body["problems"] = problems
        return Response(statuses[type(error)], content_types.APPLICATION_JSON, body)

    return app


def resolve_safely(app: APIGatewayRestResolver, event: Any, context: LambdaContext) -> dict[str, Any]:
    """``app.resolve(event, context)``, answering 400 to an event that is not a REST proxy event and 500, with the
    request id only, to any failure the resolver's error handlers did not answer."""
    try:
        _ProxyEvent.model_validate(event)
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]}) or ["(event)"]
        message = f"not an API Gateway request: {', '.join(fields)}"
        return _answer(HTTPStatus.BAD_REQUEST, "InvalidRequestError", message)
    try:
        return app.resolve(event, context)
    except Exception as exc:  # noqa: BLE001  (any failure: the caller gets a 500 without internals, the log the trace)
        # Ours, not the caller's: the trace goes to the log, the caller gets an id to quote. The trace without the
        # message, which may quote the request's text.
        logger.error("request failed", error_type=type(exc).__name__, stack="".join(format_tb(exc.__traceback__)))
        request_id = getattr(context, "aws_request_id", "unknown")
        return _answer(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError", f"request {request_id} failed")


def _answer(status: HTTPStatus, error: str, message: str) -> dict[str, Any]:
    """A REST proxy response in the shape the resolver gives its own."""
    return {
        "statusCode": int(status),
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
        "body": json.dumps({"error": error, "message": message}),
        "isBase64Encoded": False,
    }


__all__ = ["resolve_safely", "rest_resolver"]
