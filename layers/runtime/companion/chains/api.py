"""Starting and reading prompt chains over HTTP: the domain behind ``POST /chains`` and ``GET /chains/{id}``.

A request names a packaged chain (``companion/chains/library/<name>.json``) or carries a chain inline. ``async`` runs a
packaged chain on its own compiled Standard machine (``companion.chains.compiler``; the execution id is then
``<chain>.<name>``) and an inline chain on the generic interpreter's Standard machine, answering at once with the
execution id; ``sync`` runs either on the interpreter's Express machine and answers with the result, so only for
chains that finish well within API Gateway's 29-second integration timeout (and whose maps have at most 100 items:
the Express machine has no Distributed Map and fails a longer one as ``PromptChain.MapTooLarge``).

Both machines answer ``{chain, steps, final, usage}``: a record keeps a long answer as a preview with ``ref`` (its S3
URI) and ``truncated: true``, and a Distributed Map's results as ``{results: null, ref, truncated: true}`` (``ref``
is its result manifest), so ``GET /chains/{id}`` returns what does not fit an execution's output by reference.

An ``Idempotency-Key`` becomes the execution name (see ``companion.executions``), so a retried request finds the
execution the first one started instead of starting a second. Express machines do not de-duplicate names, so ``sync``
requests are not idempotent.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from companion.chains import ChainName, execution_input, machine_input, packaged_chain, resolve_chain
from companion.errors import ExecutionNotFoundError, InputValidationError, UnknownChainError
from companion.executions import (
    ExecutionRecord,
    ExecutionView,
    StandardMachine,
    describe_by_id,
    execution_document,
    execution_name,
    read_json_object,
    start_idempotently,
    view,
)
from companion.task_io import validation_problems

MAX_BODY_BYTES = 200 * 1024
"""Largest request body: the execution input it becomes (the plan plus the variables) must fit 256 KiB."""

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


ChainExecution = ExecutionView
"""What the API answers about one execution (camelCase keys; absent fields are left out)."""


class StateMachines(Protocol):
    """The port to the prompt-chain state machines (adapter: ``companion.adapters.stepfunctions``): the interpreter's
    Standard and Express machines, and each packaged chain's own machine."""

    def packaged(self, chain: str) -> StandardMachine:
        """The Standard machine compiled for packaged chain ``chain``."""
        ...

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
    data = read_json_object(body, max_bytes=MAX_BODY_BYTES, shape="{chain, variables, mode}")
    try:
        return StartChainRequest.model_validate(data)
    except ValidationError as exc:
        raise InputValidationError(validation_problems(exc)) from exc


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
    chain = resolve_chain(request.chain)
    name = execution_name(idempotency_key)
    if isinstance(request.chain, str) and request.mode == "async":
        document = execution_document(machine_input(request.variables))
        arn = start_idempotently(machines.packaged(chain.name), name, document)
        return ChainExecution(execution_id=f"{chain.name}.{name}", execution_arn=arn, status="RUNNING")
    text = execution_document(execution_input(chain, request.variables))
    if request.mode == "sync":
        return view(machines.start_sync_execution(name, text))
    arn = start_idempotently(machines, name, text)
    return ChainExecution(execution_id=name, execution_arn=arn, status="RUNNING")


def describe_chain(execution_id: str, machines: StateMachines) -> ChainExecution:
    """Status, output or error and cause of an execution started by ``POST /chains`` (async).

    Raises
    ------
    ExecutionNotFoundError
        No execution has this id (a malformed id cannot name one).
    """
    chain, packaged, name = execution_id.partition(".")
    if not packaged:
        return describe_by_id(execution_id, machines)
    try:
        packaged_chain(chain)
    except UnknownChainError as exc:
        raise ExecutionNotFoundError(f"no execution with id {execution_id!r}") from exc
    found = describe_by_id(name, machines.packaged(chain))
    return found.model_copy(update={"execution_id": execution_id})


__all__ = [
    "MAX_BODY_BYTES",
    "ChainExecution",
    "ExecutionRecord",
    "Mode",
    "StartChainRequest",
    "StateMachines",
    "describe_chain",
    "execution_name",
    "parse_start_request",
    "start_chain",
]
