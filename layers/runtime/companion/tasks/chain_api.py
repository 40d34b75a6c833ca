"""Starting and reading prompt chains over HTTP: the domain behind ``POST /chains`` and ``GET /chains/{id}``.

A request names a packaged chain (``companion/chain_library/<name>.json``) or carries a chain inline; it runs on the
Standard machine (``async``: answered at once with the execution id) or on the Express machine (``sync``: answered
with the result, so only for chains that finish well within API Gateway's 29-second integration timeout).

An ``Idempotency-Key`` becomes the execution name (its SHA-256), so a retried request finds the execution the first
one started instead of starting a second: Step Functions answers a Standard ``StartExecution`` with an existing name
and the same input with that execution, and raises ``ExecutionAlreadyExists`` otherwise; the input is then compared
to tell a closed duplicate (same body: the existing execution) from a reused key (different body: a conflict).
Express machines do not de-duplicate names, so ``sync`` requests are not idempotent.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from companion.chains import Chain, ChainName, execution_input, load_chain
from companion.errors import (
    ExecutionAlreadyExistsError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
    PayloadTooLargeError,
    UnknownChainError,
)
from companion.settings import STATE_PAYLOAD_LIMIT_BYTES
from companion.tasks.common import json_bytes

CHAIN_LIBRARY = Path(__file__).resolve().parents[1] / "chain_library"
MAX_BODY_BYTES = 200 * 1024
"""Largest request body: the execution input it becomes (the plan plus the variables) must fit 256 KiB."""
MAX_IDEMPOTENCY_KEY_CHARS = 256
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_MAX_REPORTED_PROBLEMS = 10

Mode = Literal["sync", "async"]


class StartChainRequest(BaseModel):
    """The body of ``POST /chains``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain: ChainName | dict[str, Any] = Field(
        description="A packaged chain's name, or a chain definition (validated by companion.chains.load_chain)."
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("variables", "input"),
        description="The chain's input variable.",
    )
    mode: Mode = "async"


class ChainExecution(BaseModel):
    """What the API answers about one execution (camelCase keys; absent fields are left out)."""

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


class StateMachines(Protocol):
    """The port to the two prompt-chain state machines (adapter: ``companion.adapters.stepfunctions``)."""

    def start_execution(self, name: str, document: str) -> str:
        """Start ``name`` on the Standard machine; the execution ARN. Raises ExecutionAlreadyExistsError."""
        ...

    def start_sync_execution(self, name: str, document: str) -> ExecutionRecord:
        """Run ``name`` on the Express machine and wait for its end."""
        ...

    def describe_execution(self, name: str) -> ExecutionRecord:
        """A Standard execution by name. Raises ExecutionNotFoundError."""
        ...


def parse_start_request(body: str | bytes | None) -> StartChainRequest:
    """Read a ``POST /chains`` body.

    Raises
    ------
    PayloadTooLargeError
        The body exceeds ``MAX_BODY_BYTES``.
    InputValidationError
        The body is not JSON, or does not match :class:`StartChainRequest` (each problem with its location).
    """
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputValidationError(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputValidationError("the request body must be a JSON object: {chain, variables, mode}")
    try:
        return StartChainRequest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()]
        raise InputValidationError("; ".join(problems[:_MAX_REPORTED_PROBLEMS])) from exc


def execution_name(idempotency_key: str | None) -> str:
    """The execution name for a request: the key's SHA-256 in hex (64 characters), or a fresh UUID without a key.

    Raises
    ------
    InputValidationError
        The key is empty or longer than ``MAX_IDEMPOTENCY_KEY_CHARS``.
    """
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InputValidationError(f"Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters")
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()


@cache
def packaged_chain(name: str) -> Chain:
    """A chain shipped in ``companion/chain_library/`` by name.

    Raises
    ------
    UnknownChainError
        No packaged chain has this name.
    """
    path = CHAIN_LIBRARY / f"{name}.json"
    if not re.fullmatch(r"[a-z0-9-]{1,64}", name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in CHAIN_LIBRARY.glob("*.json")))
        raise UnknownChainError(f"no chain named {name!r} (packaged chains: {known})")
    return load_chain(path)


def start_chain(
    request: StartChainRequest, machines: StateMachines, idempotency_key: str | None = None
) -> ChainExecution:
    """Start a chain: on the Standard machine (``async``) or run it on the Express machine (``sync``).

    Raises
    ------
    UnknownChainError, ChainDefinitionError, InputValidationError, PayloadTooLargeError
        The request cannot run (unknown name, invalid inline chain, bad key, input over 256 KiB).
    IdempotencyConflictError
        The key was used before with a different request.
    """
    chain = packaged_chain(request.chain) if isinstance(request.chain, str) else load_chain(request.chain)
    document = json_bytes(execution_input(chain, request.variables), where="execution input")
    if len(document) > STATE_PAYLOAD_LIMIT_BYTES:
        raise PayloadTooLargeError(
            f"the execution input is {len(document)} bytes; Step Functions accepts {STATE_PAYLOAD_LIMIT_BYTES}"
        )
    name = execution_name(idempotency_key)
    text = document.decode("utf-8")
    if request.mode == "sync":
        return _view(machines.start_sync_execution(name, text))
    try:
        arn = machines.start_execution(name, text)
    except ExecutionAlreadyExistsError as exc:
        existing = machines.describe_execution(name)
        if existing.input is None or json.loads(existing.input) != json.loads(text):
            raise IdempotencyConflictError(
                "this Idempotency-Key was already used with a different request body"
            ) from exc
        arn = existing.arn
    return ChainExecution(execution_id=name, execution_arn=arn, status="RUNNING")


def describe_chain(execution_id: str, machines: StateMachines) -> ChainExecution:
    """Status, output or error and cause of an execution started by ``POST /chains`` (async).

    Raises
    ------
    ExecutionNotFoundError
        No execution has this id (a malformed id cannot name one).
    """
    if not _EXECUTION_ID.fullmatch(execution_id):
        raise ExecutionNotFoundError(f"no chain execution with id {execution_id!r}")
    return _view(machines.describe_execution(execution_id))


def _view(record: ExecutionRecord) -> ChainExecution:
    output = json.loads(record.output) if record.output is not None else None
    return ChainExecution(
        execution_id=record.name,
        execution_arn=record.arn,
        status=record.status,
        output=output,
        error=record.error,
        cause=record.cause,
    )


__all__ = [
    "MAX_BODY_BYTES",
    "ChainExecution",
    "ExecutionRecord",
    "Mode",
    "StartChainRequest",
    "StateMachines",
    "describe_chain",
    "execution_name",
    "packaged_chain",
    "parse_start_request",
    "start_chain",
]
