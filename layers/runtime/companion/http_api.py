"""What the project's REST APIs share: a Powertools resolver that answers named errors as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types


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


__all__ = ["rest_resolver"]
