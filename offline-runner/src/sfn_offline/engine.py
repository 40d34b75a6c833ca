"""Run Step Functions definitions offline, in-process, on moto's ASL interpreter with AWS's semantics restored.

Lambda tasks run the caller's in-process handlers, Bedrock tasks call a
:class:`~sfn_offline.bedrock_api.BedrockBackend`, and everything else (S3, the ``States.*`` intrinsics, Map,
Parallel, Retry, Catch, nested ``states:startExecution``) is moto's. See :mod:`sfn_offline.moto_engine` for the
places where moto is corrected.

:class:`OfflineEngine` is the machinery: one moto scope with the hooks installed, in which any number of state
machines exist and executions started by anyone (the caller, a Lambda handler through boto3, a parent execution's
``states:startExecution`` task) run and can be waited for. :func:`run_definition` runs one definition on it;
:class:`sfn_offline.stack.OfflineStack` puts a whole template on it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final
from unittest import mock

from sfn_offline import moto_engine
from sfn_offline.bedrock_api import BedrockBackend
from sfn_offline.mock_config import TestCase

REGION: Final[str] = "us-east-1"
ACCOUNT: Final[str] = "123456789012"
_ROLE_ARN: Final[str] = f"arn:aws:iam::{ACCOUNT}:role/offline-state-machine"
# Completion is pushed by the engine; this is only the fallback poll interval (see ExecutionBoard.follow).
_POLL_SECONDS: Final[float] = 0.05
_NO_FUNCTIONS: Final[Mapping[str, Callable[[dict[str, Any], Any], Any]]] = MappingProxyType({})


class DefinitionRejectedError(ValueError):
    """``CreateStateMachine`` refused the definition (AWS answers ``InvalidDefinition``); the message says where."""

    code: Final[str] = "InvalidDefinition"


def _client_error(exc: Any) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or ""), " ".join(str(error.get("Message") or exc).split())


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one execution, as ``describe_execution`` and ``get_execution_history`` report it."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]
    execution_arn: str = ""
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    # One entry per state execution when run with trace=True (see run_definition), else empty. On an engine shared by
    # several executions it holds every execution's states recorded so far (nested executions' included).
    trace: list[dict[str, Any]] = field(default_factory=list)


EventCallback = Callable[[dict[str, Any]], None]
Listener = Callable[[str, str, dict[str, Any] | None], None]


class ExecutionBoard:
    """Where the engine's hooks deliver each execution's history events and end; any thread may follow one.

    It stands in :class:`~sfn_offline.moto_engine.RunObserver`'s ``queue`` (the hooks only ``put``
    ``("event", arn, event)`` and ``("terminated", arn, None)``), keeps every execution's events until it is
    forgotten, so a waiter that arrives late misses nothing, and calls the listeners on the engine's threads.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._ended: set[str] = set()
        self._listeners: list[Listener] = []

    def put(self, item: tuple[str, str, Any]) -> None:
        kind, arn, event = item
        with self._changed:
            if kind == "event":
                self._events.setdefault(arn, []).append(event)
            else:
                self._ended.add(arn)
            self._changed.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener(kind, arn, event)

    def listen(self, listener: Listener) -> None:
        """Call ``listener(kind, execution_arn, event)`` for all that is delivered from now on (engine threads)."""
        with self._changed:
            self._listeners.append(listener)

    def running(self) -> list[str]:
        """Executions that reported events but no end yet."""
        with self._changed:
            return [arn for arn in self._events if arn not in self._ended]

    def has_ended(self, arn: str) -> bool:
        with self._changed:
            return arn in self._ended

    def forget(self, arn: str) -> None:
        """Drop what was recorded for ``arn`` (an Express execution name used again: the ARN repeats)."""
        with self._changed:
            self._events.pop(arn, None)
            self._ended.discard(arn)

    def follow(
        self,
        arn: str,
        deadline: float,
        on_event: EventCallback,
        still_running: Callable[[], bool],
        *,
        delivered: int = 0,
    ) -> bool:
        """Pass ``arn``'s events after the first ``delivered`` to ``on_event`` in id order as they come; True once it
        ended, False at ``deadline``.

        ``still_running`` is asked only when nothing arrived for ``_POLL_SECONDS``: it matters only if an execution
        thread dies without reporting its end.
        """
        while True:
            with self._changed:
                if len(self._events.get(arn, ())) == delivered and arn not in self._ended:
                    self._changed.wait(max(0.0, min(deadline - time.monotonic(), _POLL_SECONDS)))
                fresh = list(self._events.get(arn, ())[delivered:])
                ended = arn in self._ended
            for event in fresh:
                on_event(event)
            delivered += len(fresh)
            if ended:
                return True
            if fresh:
                continue
            if time.monotonic() >= deadline:
                return False
            if not still_running():
                with self._changed:
                    fresh = list(self._events.get(arn, ())[delivered:])
                for event in fresh:
                    on_event(event)
                return True


class OfflineEngine:
    """One moto scope where the runner's hooks serve every execution, whoever starts it, until the block ends.

    Parameters
    ----------
    functions, bedrock, time_scale, mock, trace
        As for :func:`run_definition`; they apply to every execution in the scope (nested ones included).
    start_sync_execution
        Answers boto3's ``StartSyncExecution`` (which moto lacks): request parameters -> response fields; may raise
        :class:`~sfn_offline.moto_engine.StepFunctionsServiceError`. Without it the call reaches moto.

    Notes
    -----
    Runs inside the caller's ``moto.mock_aws()`` when one is active, else inside a fresh one. One engine at a time
    per process: the hooks are process-wide (a second one waits for the first to close).
    """

    def __init__(
        self,
        *,
        functions: Mapping[str, Callable[[dict[str, Any], Any], Any]] = _NO_FUNCTIONS,
        bedrock: BedrockBackend | None = None,
        time_scale: float = 0.0,
        mock: TestCase | None = None,
        trace: bool = False,
        start_sync_execution: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.board = ExecutionBoard()
        self.observer = moto_engine.RunObserver(mock=mock, trace=[] if trace else None, queue=self.board)
        self._run = moto_engine.ActiveRun(
            functions=functions,
            bedrock=bedrock,
            time_scale=time_scale,
            observer=self.observer,
            start_sync_execution=start_sync_execution,
        )
        self._scope = contextlib.ExitStack()
        self._client: Any = None

    def __enter__(self) -> OfflineEngine:
        import boto3  # noqa: PLC0415  (dev tooling: keep importing this module cheap)

        moto_engine.install()
        with contextlib.ExitStack() as scope:
            scope.enter_context(_mock_scope())
            scope.enter_context(moto_engine.active_run(self._run))
            moto_engine.register_on_default_session(boto3)
            self._client = boto3.client("stepfunctions", region_name=REGION)
            self._scope = scope.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            # Executions still running (started in the background) would go on against a closed mock.
            for arn in self.board.running():
                with contextlib.suppress(Exception):
                    self.client.stop_execution(executionArn=arn, error="Offline.Closed", cause="the engine closed")
        finally:
            self._scope.close()
            self._client = None

    @property
    def client(self) -> Any:
        """The engine's own boto3 Step Functions client (moto's)."""
        if self._client is None:
            raise RuntimeError("the offline engine is not open: use it in a with block")
        return self._client

    def create_machine(self, name: str, definition: dict[str, Any] | str, *, machine_type: str = "STANDARD") -> str:
        """Create a state machine in moto; its ARN (``arn:aws:states:us-east-1:123456789012:stateMachine:<name>``)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        text = definition if isinstance(definition, str) else json.dumps(definition)
        try:
            created = self.client.create_state_machine(name=name, definition=text, roleArn=_ROLE_ARN, type=machine_type)
        except ClientError as exc:
            code, message = _client_error(exc)
            raise DefinitionRejectedError(f"{code or DefinitionRejectedError.code}: {message}") from exc
        return str(created["stateMachineArn"])

    def start(self, machine_arn: str, execution_input: Any, *, name: str | None = None) -> str:
        """``StartExecution`` with ``execution_input`` JSON-encoded; the execution's ARN.

        moto's rules apply as AWS's do: the same name and input as a running execution returns that execution, any
        other reuse of a name raises ``ExecutionAlreadyExists``.
        """
        return self.start_text(machine_arn, json.dumps(execution_input), name=name)

    def start_text(self, machine_arn: str, input_text: str, *, name: str | None = None) -> str:
        """:meth:`start` with the input as the JSON text ``StartExecution`` takes."""
        # moto leaves $$.Execution.Name null without a name; AWS generates one (a UUID).
        started = self.client.start_execution(
            stateMachineArn=machine_arn, input=input_text, name=name or str(uuid.uuid4())
        )
        return str(started["executionArn"])

    def wait(
        self, execution_arn: str, *, timeout: float = 60.0, on_event: EventCallback | None = None
    ) -> ExecutionResult:
        """Follow an execution (started by anyone) to its end; past ``timeout`` wall-clock seconds it is stopped and
        reported ``TIMED_OUT`` with ``States.Timeout``. ``on_event`` gets its history events, in id order, on the
        caller's thread, as the engine records them (those recorded before the call first)."""
        client = self.client
        history: list[dict[str, Any]] = []

        def deliver(event: dict[str, Any]) -> None:
            history.append(event)
            if on_event is not None:
                on_event(event)

        def still_running() -> bool:
            return bool(client.describe_execution(executionArn=execution_arn)["status"] == "RUNNING")

        if self.board.follow(execution_arn, time.monotonic() + timeout, deliver, still_running):
            described = dict(client.describe_execution(executionArn=execution_arn))
        else:
            described = _stop_timed_out(client, execution_arn, timeout)
            # The stop is recorded as ExecutionAborted: deliver it (and anything else still in flight).
            deadline = time.monotonic() + _POLL_SECONDS
            self.board.follow(execution_arn, deadline, deliver, _not_running, delivered=len(history))
        status = described["status"]
        return ExecutionResult(
            status=status,
            output=json.loads(described["output"]) if status == "SUCCEEDED" and "output" in described else None,
            error=described.get("error"),
            cause=described.get("cause"),
            history=history,
            execution_arn=execution_arn,
            started_at=described.get("startDate"),
            stopped_at=described.get("stopDate"),
            trace=list(self.observer.trace or []),
        )


def _not_running() -> bool:
    return False


def run_definition(
    definition: dict[str, Any] | str,
    execution_input: Any,
    *,
    functions: Mapping[str, Callable[[dict[str, Any], Any], Any]] = _NO_FUNCTIONS,
    bedrock: BedrockBackend | None = None,
    execution_name: str | None = None,
    time_scale: float = 0.0,
    timeout: float = 60.0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    mock: TestCase | None = None,
    trace: bool = False,
) -> ExecutionResult:
    """Execute ``definition`` once with ``execution_input`` and wait for it to finish.

    Parameters
    ----------
    definition
        The ASL document (a dict or its JSON text).
    execution_input
        Any JSON value; it is encoded for ``StartExecution``.
    functions
        Function name or ARN -> ``handler(event, context)``, for ``lambda:invoke`` and direct function-ARN tasks.
    bedrock
        Answers ``bedrock:*`` tasks and ``aws-sdk:bedrock*`` actions.
    execution_name
        The execution's name (``$$.Execution.Name``); a unique one by default.
    time_scale
        Multiplies Retry intervals and Wait durations; 0 sleeps not at all. Attempt counts and BackoffRate are AWS's.
    timeout
        Wall-clock seconds to wait for the execution; past it the execution is stopped and the result is
        ``TIMED_OUT`` with error ``States.Timeout``.
    on_event
        Called on the caller's thread with each history event (the dicts of boto3's ``get_execution_history``), in
        id order, as soon as the engine records it, while the execution runs.
    mock
        An AWS mock-config test case (:meth:`sfn_offline.mock_config.MockConfig.test_case`): the states it names
        are not executed; each invocation of such a state (0 = the first; retries and re-entries alike) takes the
        next response key: the mocked ``Return`` as the raw service result (before ResultSelector) or the mocked
        ``Throw``. An invocation past the last mocked one fails the execution with ``States.Runtime``. States it does
        not name run for real.
    trace
        Fill :attr:`ExecutionResult.trace`: one entry per state execution (each retry attempt, Map iteration and
        Parallel branch state included), in completion order, in the vocabulary of AWS's TestState API:
        ``{"stateName", "status": SUCCEEDED|FAILED|RETRIABLE|CAUGHT_ERROR, "inspectionData": {"input",
        "afterInputPath", "afterParameters", "result", "afterResultSelector", "afterResultPath"}, "output", "error",
        "cause"}``. Values are parsed JSON values (TestState returns them as JSON text: ``json.dumps`` them); an
        inspection key is absent when the state has no such step or did not reach it.

    Notes
    -----
    Runs inside the caller's ``moto.mock_aws()`` when one is active (so its S3 buckets are visible to the engine and
    the handlers), else inside a fresh one. One run at a time per process: the hooks are process-wide.
    """
    with OfflineEngine(functions=functions, bedrock=bedrock, time_scale=time_scale, mock=mock, trace=trace) as engine:
        machine_arn = engine.create_machine(f"offline-{uuid.uuid4().hex[:12]}", definition)
        execution_arn = engine.start(machine_arn, execution_input, name=execution_name)
        return engine.wait(execution_arn, timeout=timeout, on_event=on_event)


@contextlib.contextmanager
def _mock_scope() -> Iterator[None]:
    """Use the caller's moto mock if one is active, else open one; execute state machines for the duration."""
    from moto import mock_aws  # noqa: PLC0415
    from moto.core.config import default_user_config  # noqa: PLC0415
    from moto.core.models import botocore_stubber  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        if not botocore_stubber.enabled:
            stack.enter_context(mock_aws())
        # moto reads this flag per request; patch only the nested dict so the caller's mock config is untouched.
        stack.enter_context(mock.patch.dict(default_user_config["stepfunctions"], {"execute_state_machine": True}))
        yield


def _stop_timed_out(client: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    """Stop an execution that overran the wall-clock limit and report it as Step Functions reports a timeout."""
    client.stop_execution(
        executionArn=execution_arn, error="States.Timeout", cause=f"exceeded the {timeout:g} s wall-clock limit"
    )
    described = dict(client.describe_execution(executionArn=execution_arn))
    described.update(
        status="TIMED_OUT",
        error="States.Timeout",
        cause=f"the execution ran past the offline runner's wall-clock limit of {timeout:g} s and was stopped",
    )
    described.setdefault("stopDate", datetime.now(UTC))
    return described
