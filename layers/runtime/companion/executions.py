"""What every HTTP front of a Standard state machine shares: request bodies, idempotent starts, execution views.

An ``Idempotency-Key`` becomes the execution name (its SHA-256), so a retried request finds the execution the first
one started instead of starting a second: Step Functions answers a Standard ``StartExecution`` with an existing name
and the same input with that execution, and raises ``ExecutionAlreadyExists`` otherwise; the input is then compared
to tell a closed duplicate (same body: the existing execution) from a reused key (different body: a conflict).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from companion import safejson
from companion.causes import public_cause
from companion.constants import STATE_PAYLOAD_LIMIT_BYTES
from companion.errors import (
    ExecutionAlreadyExistsError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
    PayloadTooLargeError,
)
from companion.task_io import json_bytes

MAX_IDEMPOTENCY_KEY_CHARS = 256
EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
"""Execution ids the APIs hand out (SHA-256 hex or UUID hex); anything else cannot name one of their executions."""


@dataclass(frozen=True)
class ExecutionRecord:
    """An execution as Step Functions describes it (``input``/``output`` as the JSON text the service keeps)."""

    name: str
    arn: str
    status: str
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None


class ExecutionView(BaseModel):
    """What an API answers about one execution (camelCase keys; absent fields are left out)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    execution_id: str | None = None
    execution_arn: str | None = None
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body: every field that has a value."""
        return self.model_dump(mode="json", exclude_none=True)


class StandardMachine(Protocol):
    """Starting and describing executions of one Standard machine (adapter: ``companion.adapters.stepfunctions``)."""

    def start_execution(self, name: str, document: str) -> str:
        """Start ``name``; the execution ARN. Raises ExecutionAlreadyExistsError."""
        ...

    def describe_execution(self, name: str) -> ExecutionRecord:
        """An execution by name. Raises ExecutionNotFoundError."""
        ...


def execution_document(value: Any) -> str:
    """``value`` as the JSON text of an execution input, sized the way Step Functions counts it.

    Raises
    ------
    InputValidationError
        The value holds text that cannot be encoded (a lone surrogate).
    PayloadTooLargeError
        It exceeds Step Functions' 256 KiB.
    """
    document = json_bytes(value, where="execution input")
    if len(document) > STATE_PAYLOAD_LIMIT_BYTES:
        raise PayloadTooLargeError(
            f"the execution input is {len(document)} bytes; Step Functions accepts {STATE_PAYLOAD_LIMIT_BYTES}"
        )
    return document.decode("utf-8")


def read_json_object(body: str | bytes | None, *, max_bytes: int, shape: str) -> dict[str, Any]:
    """Read a request body that must be a JSON object of at most ``max_bytes``.

    Raises
    ------
    PayloadTooLargeError
        The body exceeds ``max_bytes``.
    InputValidationError
        The body is not JSON or not an object (``shape`` describes the expected one in the message), or breaks a
        limit of :mod:`companion.safejson` (nesting, number length, NaN/Infinity), or holds text that is not UTF-8.
    """
    if body is not None and not isinstance(body, str | bytes):
        raise InputValidationError(f"the request body must be JSON text, got {type(body).__name__}")
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    except UnicodeEncodeError as exc:
        raise InputValidationError(f"the request body is not valid Unicode (position {exc.start})") from exc
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"the request body is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        data = safejson.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputValidationError(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputValidationError(f"the request body must be a JSON object: {shape}")
    return data


def execution_name(idempotency_key: str | None) -> str:
    """The execution name for a request: the key's SHA-256 in hex (64 characters), or a fresh UUID without a key.

    Raises
    ------
    InputValidationError
        The key is empty, longer than ``MAX_IDEMPOTENCY_KEY_CHARS``, or not valid Unicode (a lone surrogate).
    """
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InputValidationError(f"Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters")
    try:
        return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    except UnicodeEncodeError as exc:
        raise InputValidationError("Idempotency-Key is not valid Unicode text") from exc


def start_idempotently(machine: StandardMachine, name: str, document: str) -> str:
    """Start execution ``name`` with input ``document``, or find the one a former identical request started.

    Returns
    -------
    str
        The execution ARN.

    Raises
    ------
    IdempotencyConflictError
        An execution of that name exists with a different input (the key was reused for another request).
    """
    try:
        return machine.start_execution(name, document)
    except ExecutionAlreadyExistsError as exc:
        existing = machine.describe_execution(name)
        if existing.input is None or safejson.loads(existing.input) != safejson.loads(document):
            raise IdempotencyConflictError(
                "this Idempotency-Key was already used with a different request body"
            ) from exc
        return existing.arn


def describe_by_id(execution_id: str, machine: StandardMachine) -> ExecutionView:
    """Status, output or error and cause of an execution an API started.

    Raises
    ------
    ExecutionNotFoundError
        No execution has this id (a malformed id cannot name one).
    """
    if not EXECUTION_ID.fullmatch(execution_id):
        raise ExecutionNotFoundError(f"no execution with id {execution_id!r}")
    return view(machine.describe_execution(execution_id))


def view(record: ExecutionRecord) -> ExecutionView:
    """The API's view of an execution record: output parsed from its JSON text, the cause without stack traces."""
    output: Any = record.output
    if record.output is not None:
        try:
            output = safejson.loads(record.output)
        except json.JSONDecodeError:
            output = {"unreadable_output": True, "bytes": len(record.output)}
    return ExecutionView(
        execution_id=record.name,
        execution_arn=record.arn,
        status=record.status,
        output=output,
        error=record.error,
        cause=public_cause(record.cause),
    )


__all__ = [
    "EXECUTION_ID",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "ExecutionRecord",
    "ExecutionView",
    "StandardMachine",
    "describe_by_id",
    "execution_document",
    "execution_name",
    "read_json_object",
    "start_idempotently",
    "view",
]
