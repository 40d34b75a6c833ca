"""Starting and reading fine-tuning runs over HTTP: the domain behind ``POST /fine-tunes`` and ``GET /fine-tunes/{id}``.

A request becomes the input of the fine-tuning state machine (``statemachines/fine_tuning.asl.yaml``) unchanged but
validated: datasets must lie in the payload bucket under ``fine-tuning/datasets/`` (the only place the Bedrock service
role may read), Provisioned Throughput needs an explicit ``opt_in: true``. With an ``Idempotency-Key`` the execution
name is the key's SHA-256 (``companion.executions``): a retried request returns the run the first one started,
and since the customization job's ``ClientRequestToken`` derives from the execution name, never a second job.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from companion.constants import DATASET_PREFIX
from companion.errors import InputValidationError, S3LocationError
from companion.executions import (
    ExecutionView,
    StandardMachine,
    describe_by_id,
    execution_document,
    execution_name,
    read_json_object,
    start_idempotently,
)
from companion.finetune.evaluation import EvaluationRequest
from companion.finetune.options import FineTuneOptions, MaxReportedErrors
from companion.s3uri import parse_s3_uri
from companion.task_io import validation_problems

MAX_BODY_BYTES = 64 * 1024


class StartFineTuneRequest(FineTuneOptions):
    """The body of ``POST /fine-tunes``; also the fine-tuning state machine's input."""

    training_data_s3_uri: str
    validation_data_s3_uri: str | None = None
    max_reported_errors: MaxReportedErrors | None = None
    evaluation: EvaluationRequest | None = None

    def execution_input(self) -> dict[str, Any]:
        """The state machine's input: every field that was given (absent optional fields stay absent)."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_fine_tune_request(body: str | bytes | None, *, bucket: str) -> StartFineTuneRequest:
    """Read and validate a ``POST /fine-tunes`` body.

    Raises
    ------
    PayloadTooLargeError
        The body exceeds ``MAX_BODY_BYTES``.
    InputValidationError
        Not a JSON object, a field that breaks :class:`StartFineTuneRequest`, a dataset outside
        ``s3://<bucket>/fine-tuning/datasets/``, or both ``validation_data_s3_uri`` and ``split``.
    """
    data = read_json_object(
        body, max_bytes=MAX_BODY_BYTES, shape="{training_data_s3_uri, hyperparameters, evaluation, ...}"
    )
    try:
        request = StartFineTuneRequest.model_validate(data)
    except ValidationError as exc:
        raise InputValidationError(validation_problems(exc)) from exc
    problems: list[str] = []
    for field in ("training_data_s3_uri", "validation_data_s3_uri"):
        value = getattr(request, field)
        if value is None:
            continue
        try:
            parse_s3_uri(value, where=field, bucket=bucket, prefix=DATASET_PREFIX)
        except S3LocationError as exc:
            problems.append(str(exc))
    if request.validation_data_s3_uri is not None and request.split is not None:
        problems.append("split: give validation_data_s3_uri or split, not both")
    if problems:
        raise InputValidationError("; ".join(problems))
    return request


def start_fine_tune(
    request: StartFineTuneRequest, machine: StandardMachine, idempotency_key: str | None = None
) -> ExecutionView:
    """Start a fine-tuning run (or find the one an identical earlier request started).

    Raises
    ------
    InputValidationError
        A malformed Idempotency-Key.
    PayloadTooLargeError
        The execution input exceeds Step Functions' 256 KiB.
    IdempotencyConflictError
        The key was used before with a different request.
    """
    document = execution_document(request.execution_input())
    name = execution_name(idempotency_key)
    arn = start_idempotently(machine, name, document)
    return ExecutionView(execution_id=name, execution_arn=arn, status="RUNNING")


def describe_fine_tune(execution_id: str, machine: StandardMachine) -> ExecutionView:
    """Status of a run; its summary (``output``) once it succeeded, ``error`` and ``cause`` once it failed.

    Raises
    ------
    ExecutionNotFoundError
        No run has this id.
    """
    return describe_by_id(execution_id, machine)


__all__ = [
    "MAX_BODY_BYTES",
    "StartFineTuneRequest",
    "describe_fine_tune",
    "parse_fine_tune_request",
    "start_fine_tune",
]
