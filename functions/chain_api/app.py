"""Chain API: ``POST /chains`` starts a prompt chain, ``GET /chains/{id}`` reads it (API Gateway REST, proxy events)."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.stepfunctions import StepFunctionsMachines
from companion.chains.api import describe_chain, parse_start_request, start_chain
from companion.errors import (
    ChainDefinitionError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
    PayloadTooLargeError,
    UnknownChainError,
)
from companion.http_api import resolve_safely, rest_resolver
from companion.observability import logger
from companion.settings import ChainApiSettings, load_settings

_STATUS_OF_ERROR: dict[type[Exception], HTTPStatus] = {
    InputValidationError: HTTPStatus.BAD_REQUEST,
    ChainDefinitionError: HTTPStatus.BAD_REQUEST,
    UnknownChainError: HTTPStatus.NOT_FOUND,
    ExecutionNotFoundError: HTTPStatus.NOT_FOUND,
    IdempotencyConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
}
app = rest_resolver(_STATUS_OF_ERROR)


@cache
def machines() -> StepFunctionsMachines:
    settings = load_settings(ChainApiSettings)
    return StepFunctionsMachines(
        settings.standard_state_machine_arn,
        settings.express_state_machine_arn,
        packaged_arn_prefix=settings.chain_state_machine_arn_prefix,
    )


@app.post("/chains")
def start() -> Response[dict[str, Any]]:
    request = parse_start_request(app.current_event.body)
    key = app.current_event.headers.get("Idempotency-Key")  # case-insensitive in Powertools v3
    execution = start_chain(request, machines(), idempotency_key=key)
    logger.info("chain started", mode=request.mode, execution_id=execution.execution_id, status=execution.status)
    status = HTTPStatus.ACCEPTED if request.mode == "async" else HTTPStatus.OK
    return Response(status, content_types.APPLICATION_JSON, execution.body())


@app.get("/chains/<execution_id>")
def describe(execution_id: str) -> dict[str, Any]:
    return describe_chain(execution_id, machines()).body()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_safely(app, event, context)
