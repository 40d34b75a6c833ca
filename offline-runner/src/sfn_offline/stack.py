"""A SAM template's state machines as one offline stack: every machine exists in moto under its template name, ARN and
type, so executions started by anyone run there.

Starters the stack serves:

- the caller, through :meth:`OfflineStack.start`, :meth:`~OfflineStack.wait` and :meth:`~OfflineStack.run`;
- a Lambda handler, through boto3 (``StartExecution`` with moto's name rules: same name and input as a running
  execution returns it, any other reuse raises ``ExecutionAlreadyExists``; ``DescribeExecution``,
  ``StopExecution``, ``ListExecutions``), with the ARNs the template gives it (``!Ref PromptChainStateMachine`` is
  ``arn:aws:states:us-east-1:123456789012:stateMachine:PromptChainStateMachine`` offline);
- a parent execution's ``arn:aws:states:::states:startExecution`` task, also ``.sync`` and ``.sync:2``;
- ``StartSyncExecution``, which moto lacks: answered by :meth:`OfflineStack.start_sync_execution` (EXPRESS machines
  only, as on AWS), which runs the execution to its end and replies as the API does.

The stack owns the runner's process-wide hooks for its lifetime (one stack, or one ``run_definition``, at a time):
the template's functions run in-process (each loaded on its first call), Bedrock is the SIMULATED stand-in unless the
caller passes another backend, and the template's resources exist in moto (see :mod:`sfn_offline.resources`).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from sfn_offline.bedrock_api import BedrockBackend
from sfn_offline.engine import DefinitionRejectedError, EventCallback, ExecutionResult, OfflineEngine
from sfn_offline.mock_config import TestCase
from sfn_offline.moto_engine import StepFunctionsServiceError
from sfn_offline.plugin import Plugins, project_plugins
from sfn_offline.session import create_stores
from sfn_offline.template import StateMachineSpec, Template

Handler = Callable[[dict[str, Any], Any], Any]
_SYNC_STATUSES: Final[frozenset[str]] = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT"})
# Express bills duration in 100 ms steps and memory in 64 MB chunks; offline measures no memory: the first chunk.
_EXPRESS_DURATION_STEP_MS: Final[int] = 100
_EXPRESS_MEMORY_CHUNK_MB: Final[int] = 64


class UnknownStateMachineError(LookupError):
    """No state machine of the template has this logical id, name or ARN."""


def execution_arn_of(machine_arn: str, name: str) -> str:
    """The ARN moto (and AWS, for Standard) gives execution ``name`` of ``machine_arn``."""
    prefix, _, machine = machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


class OfflineStack:
    """Every state machine of ``template`` in moto, with its functions and a Bedrock backend, while the block runs.

    Parameters
    ----------
    template
        A loaded template (:func:`sfn_offline.template.load_template`).
    functions
        Function name or ARN -> handler; by default every template function, loaded in-process
        (:func:`sfn_offline.functions.handlers_for`).
    bedrock
        The Bedrock backend; by default the SIMULATED stand-in (:class:`~sfn_offline.bedrock_standin.BedrockStandIn`).
    time_scale, mock, trace
        As for :func:`sfn_offline.engine.run_definition`, for every execution of the stack.
    sync_timeout
        Wall-clock seconds a ``StartSyncExecution`` may run before it is stopped and answered ``TIMED_OUT``
        (Express workflows run at most 5 minutes).
    machines
        Logical ids of the machines to create; by default every one (see :func:`reachable_machines` for the ones a
        single run can reach).
    stores
        Whether the template's resources (buckets, tables, queues...) are created in moto; a run whose machines
        cannot reach them (:func:`reaches_the_account`) skips them, and with them most of moto's service start-up.
    plugins
        The project's hooks (:mod:`sfn_offline.plugin`); by default the ones the ``pyproject.toml`` beside the
        template names. Their ``before_run`` runs once the stores exist, their ``after_run`` on closing.
    """

    def __init__(
        self,
        template: Template,
        *,
        functions: Mapping[str, Handler] | None = None,
        bedrock: BedrockBackend | None = None,
        time_scale: float = 0.0,
        mock: TestCase | None = None,
        trace: bool = False,
        sync_timeout: float = 300.0,
        plugins: Plugins | None = None,
        machines: Collection[str] | None = None,
        stores: bool = True,
    ) -> None:
        self.template = template
        self.created: tuple[str, ...] = tuple(template.state_machines if machines is None else machines)
        self._plugins = plugins
        self._functions = functions
        self._bedrock = bedrock
        self._engine_options: dict[str, Any] = {"time_scale": time_scale, "mock": mock, "trace": trace}
        self._sync_timeout = sync_timeout
        self._stores = stores
        self._engine: OfflineEngine | None = None
        self._scope = contextlib.ExitStack()
        self.functions: Mapping[str, Handler] = {}

    def __enter__(self) -> OfflineStack:
        plugins = self._plugins if self._plugins is not None else project_plugins(Path(self.template.path).parent)
        functions = self._functions
        if functions is None:
            from sfn_offline.functions import handlers_for  # noqa: PLC0415

            functions = handlers_for(self.template)
        bedrock = self._bedrock
        if bedrock is None:
            from sfn_offline.bedrock_standin import BedrockStandIn  # noqa: PLC0415

            bedrock = BedrockStandIn()
        self.functions = functions
        engine = OfflineEngine(
            functions=functions, bedrock=bedrock, start_sync_execution=self.start_sync_execution, **self._engine_options
        )
        with contextlib.ExitStack() as scope:
            self._engine = scope.enter_context(engine)
            if self._stores:
                create_stores(self.template)
            plugins.before_run()
            scope.callback(plugins.after_run)
            for machine in (self.template.state_machines[logical_id] for logical_id in self.created):
                try:
                    engine.create_machine(machine.name, machine.definition, machine_type=machine.type.upper())
                except DefinitionRejectedError as exc:
                    where = machine.definition_path or f"{self.template.path}: Resources.{machine.logical_id}"
                    raise DefinitionRejectedError(f"{where}: {exc}") from exc
            self._scope = scope.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._scope.close()
        self._engine = None

    @property
    def engine(self) -> OfflineEngine:
        if self._engine is None:
            raise RuntimeError("the offline stack is not open: use it in a with block")
        return self._engine

    def machine(self, key: str) -> StateMachineSpec:
        """A state machine of the template by logical id, name or ARN.

        Raises
        ------
        UnknownStateMachineError
            None has that logical id, name or ARN.
        """
        for machine in self.template.state_machines.values():
            if key in {machine.logical_id, machine.name, machine.arn}:
                return machine
        known = ", ".join(sorted(self.template.state_machines)) or "none"
        raise UnknownStateMachineError(f"{self.template.path}: no state machine {key!r} (defined: {known})")

    def start(self, logical_id: str, execution_input: Any, name: str | None = None) -> str:
        """``StartExecution`` on a template machine (logical id, name or ARN); the execution ARN."""
        return self.engine.start(self.machine(logical_id).arn, execution_input, name=name)

    def wait(
        self, execution_arn: str, timeout: float = 60.0, *, on_event: EventCallback | None = None
    ) -> ExecutionResult:
        """Follow an execution started by anyone to its end (see :meth:`OfflineEngine.wait`)."""
        return self.engine.wait(execution_arn, timeout=timeout, on_event=on_event)

    def run(
        self,
        logical_id: str,
        execution_input: Any,
        *,
        name: str | None = None,
        timeout: float = 60.0,
        on_event: EventCallback | None = None,
    ) -> ExecutionResult:
        """:meth:`start`, then :meth:`wait`."""
        return self.wait(self.start(logical_id, execution_input, name), timeout, on_event=on_event)

    def executions(self, logical_id: str) -> list[dict[str, Any]]:
        """``ListExecutions`` of a template machine (newest first), as boto3 returns the items."""
        client = self.engine.client
        pages = client.get_paginator("list_executions").paginate(stateMachineArn=self.machine(logical_id).arn)
        return [item for page in pages for item in page["executions"]]

    def listen(self, listener: Callable[[str, str, dict[str, Any] | None], None]) -> None:
        """Call ``listener(kind, execution_arn, event)`` for every history event and end of every execution from now
        on (``kind`` is ``"event"`` or ``"terminated"``), on the engine's threads."""
        self.engine.board.listen(listener)

    def start_sync_execution(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """``StartSyncExecution``: run an EXPRESS execution to its end; the API's response fields.

        Raises
        ------
        StepFunctionsServiceError
            ``StateMachineDoesNotExist``, ``StateMachineTypeNotSupported`` (not EXPRESS), ``InvalidExecutionInput``,
            ``InvalidName`` and the other errors moto's ``StartExecution`` answers with.
        """
        from botocore.exceptions import ClientError  # noqa: PLC0415

        engine = self.engine
        machine_arn = str(request.get("stateMachineArn", ""))
        name = str(request.get("name") or uuid.uuid4())
        input_text = str(request.get("input") or "{}")
        try:
            machine_type = engine.client.describe_state_machine(stateMachineArn=machine_arn)["type"]
            if machine_type != "EXPRESS":
                raise StepFunctionsServiceError(
                    "StateMachineTypeNotSupported",
                    f"{machine_arn} is a {machine_type} state machine; StartSyncExecution runs EXPRESS ones only",
                )
            # An Express name may run again (see moto_engine.patch_express_execution_names): the ARN repeats.
            arn = execution_arn_of(machine_arn, name)
            if engine.board.has_ended(arn):
                engine.board.forget(arn)
            arn = engine.start_text(machine_arn, input_text, name=name)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StepFunctionsServiceError(str(error.get("Code")), str(error.get("Message"))) from exc
        result = engine.wait(arn, timeout=self._sync_timeout)
        return sync_response(result, machine_arn=machine_arn, name=name, input_text=input_text)


def reachable_machines(template: Template, logical_id: str) -> tuple[str, ...]:
    """``logical_id`` and every template machine an execution of it can start, transitively: the ones whose ARN its
    definition holds (``states:startExecution`` tasks), or the environment of a function its definition names (a
    handler starting executions). Parsing a definition into moto is most of a run's start-up; a text match may take in
    a machine too many, never one too few of these two kinds."""
    functions = list(template.functions.values())
    found = [logical_id]
    for current in found:
        text = json.dumps(template.state_machines[current].definition)
        text += "".join(
            json.dumps(dict(spec.environment)) for spec in functions if spec.arn in text or spec.name in text
        )
        found += [
            other.logical_id
            for other in template.state_machines.values()
            if other.logical_id not in found and other.arn in text
        ]
    return tuple(found)


def reaches_the_account(definitions: Iterable[Mapping[str, Any]]) -> bool:
    """Whether an execution of these definitions can reach the emulated account: through a Task state (a service
    integration, or a function whose code calls AWS) or a Map state that reads or writes S3 (``ItemReader``,
    ``ResultWriter``). Pass, Choice, Wait, Succeed and Fail states, intrinsics and JSONata reach nothing."""
    pending: list[Any] = list(definitions)
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if value.get("Type") == "Task" or "ItemReader" in value or "ResultWriter" in value:
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def sync_response(result: ExecutionResult, *, machine_arn: str, name: str, input_text: str) -> dict[str, Any]:
    """An execution's end in ``StartSyncExecution``'s response shape (dates as epoch seconds, as the JSON API sends
    them); an aborted execution is FAILED, the only other status the API knows."""
    started = result.started_at.timestamp() if result.started_at else time.time()
    stopped = result.stopped_at.timestamp() if result.stopped_at else time.time()
    status = result.status if result.status in _SYNC_STATUSES else "FAILED"
    billed_ms = max(1, math.ceil((stopped - started) * 1000 / _EXPRESS_DURATION_STEP_MS)) * _EXPRESS_DURATION_STEP_MS
    answer: dict[str, Any] = {
        "executionArn": result.execution_arn,
        "stateMachineArn": machine_arn,
        "name": name,
        "startDate": started,
        "stopDate": stopped,
        "status": status,
        "input": input_text,
        "inputDetails": {"included": True},
        "billingDetails": {
            "billedMemoryUsedInMB": _EXPRESS_MEMORY_CHUNK_MB,
            "billedDurationInMilliseconds": billed_ms,
        },
    }
    if status == "SUCCEEDED":
        answer |= {"output": json.dumps(result.output), "outputDetails": {"included": True}}
    else:
        answer |= {"error": result.error, "cause": result.cause}
    return answer


__all__ = [
    "ExecutionResult",
    "OfflineStack",
    "StepFunctionsServiceError",
    "UnknownStateMachineError",
    "execution_arn_of",
    "reachable_machines",
    "sync_response",
]
