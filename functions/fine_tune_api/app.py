"""Fine-tune API: ``POST /fine-tunes`` starts a fine-tuning run, ``GET /fine-tunes/{id}`` reads it (REST proxy)."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.stepfunctions import StepFunctionsMachines
from companion.errors import (
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
    PayloadTooLargeError,
)
from companion.finetune.api import describe_fine_tune, parse_fine_tune_request, start_fine_tune
from companion.http_api import resolve_safely, rest_resolver
from companion.observability import logger
from companion.settings import FineTuneApiSettings, load_settings

_STATUS_OF_ERROR: dict[type[Exception], HTTPStatus] = {
    InputValidationError: HTTPStatus.BAD_REQUEST,
    ExecutionNotFoundError: HTTPStatus.NOT_FOUND,
    IdempotencyConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
}
app = rest_resolver(_STATUS_OF_ERROR)


@cache
def _settings() -> FineTuneApiSettings:
    return load_settings(FineTuneApiSettings)


@cache
def machine() -> StepFunctionsMachines:
    return StepFunctionsMachines(_settings().fine_tuning_state_machine_arn)


@app.post("/fine-tunes")
def start() -> Response[dict[str, Any]]:
    request = parse_fine_tune_request(app.current_event.body, bucket=_settings().offload_bucket)
    key = app.current_event.headers.get("Idempotency-Key")  # case-insensitive in Powertools v3
    execution = start_fine_tune(request, machine(), idempotency_key=key)
    logger.info("fine-tuning started", execution_id=execution.execution_id)
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, execution.body())


@app.get("/fine-tunes/<execution_id>")
def describe(execution_id: str) -> dict[str, Any]:
    return describe_fine_tune(execution_id, machine()).body()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_safely(app, event, context)
