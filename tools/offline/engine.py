"""Run a Step Functions definition offline, in-process, on moto's ASL interpreter with AWS's semantics restored.

Lambda tasks run the caller's in-process handlers, Bedrock tasks call a
:class:`~tools.offline.bedrock_api.BedrockBackend`, and everything else (S3, the ``States.*`` intrinsics, Map,
Parallel, Retry, Catch) is moto's. See :mod:`tools.offline.moto_engine` for the places where moto is corrected.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final
from unittest import mock

from tools.offline import moto_engine
from tools.offline.bedrock_api import BedrockBackend
from tools.offline.mock_config import TestCase

REGION: Final[str] = "us-east-1"
ACCOUNT: Final[str] = "123456789012"
_ROLE_ARN: Final[str] = f"arn:aws:iam::{ACCOUNT}:role/offline-state-machine"
# Completion is pushed by the engine; this is only the fallback poll interval (see _wait_until_done).
_POLL_SECONDS: Final[float] = 0.05
_NO_FUNCTIONS: Final[Mapping[str, Callable[[dict[str, Any], Any], Any]]] = MappingProxyType({})


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
    # One entry per state execution when run with trace=True (see run_definition), else empty.
    trace: list[dict[str, Any]] = field(default_factory=list)


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
        An AWS mock-config test case (:meth:`tools.offline.mock_config.MockConfig.test_case`): the states it names
        are not executed; each attempt (0 = first try, retries counted) returns the mocked ``Return`` as the raw
        service result (before ResultSelector) or fails with the mocked ``Throw``. An attempt past the last mocked
        one fails the execution with ``States.Runtime``. States it does not name run for real.
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
    import boto3  # noqa: PLC0415  (dev tooling: keep importing this module cheap)

    moto_engine.install()
    text = definition if isinstance(definition, str) else json.dumps(definition)
    observer = moto_engine.RunObserver(mock=mock, trace=[] if trace else None)
    run = moto_engine.ActiveRun(functions=functions, bedrock=bedrock, time_scale=time_scale, observer=observer)
    with _mock_scope(), moto_engine.active_run(run):
        moto_engine.register_on_default_session(boto3)
        client = boto3.client("stepfunctions", region_name=REGION)
        machine_arn = client.create_state_machine(
            name=f"offline-{uuid.uuid4().hex[:12]}", definition=text, roleArn=_ROLE_ARN
        )["stateMachineArn"]
        # moto leaves $$.Execution.Name null without a name; AWS generates one (a UUID).
        start: dict[str, Any] = {
            "stateMachineArn": machine_arn,
            "input": json.dumps(execution_input),
            "name": execution_name or str(uuid.uuid4()),
        }
        execution_arn = client.start_execution(**start)["executionArn"]
        history: list[dict[str, Any]] = []
        described = _wait_until_done(
            client, execution_arn, timeout, observer=observer, history=history, on_event=on_event
        )
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
        trace=list(observer.trace or []),
    )


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


def _wait_until_done(
    client: Any,
    execution_arn: str,
    timeout: float,
    *,
    observer: moto_engine.RunObserver,
    history: list[dict[str, Any]],
    on_event: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Deliver the execution's history events as the engine records them, until moto reports it terminated.

    The engine pushes events and the end of the execution into ``observer.queue`` (no polling delay); the fallback
    ``describe_execution`` every ``_POLL_SECONDS`` only matters if an execution thread dies without reporting.
    """
    import queue  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _stop_timed_out(
                client, execution_arn, timeout, observer=observer, history=history, on_event=on_event
            )
        try:
            kind, arn, event = observer.queue.get(timeout=min(remaining, _POLL_SECONDS))
        except queue.Empty:
            described: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                _drain(observer, execution_arn, history, on_event)
                return described
            continue
        if arn != execution_arn:
            continue  # A nested execution (states:startExecution) of this run.
        if kind == "event":
            _deliver(event, history, on_event)
        elif kind == "terminated":
            _drain(observer, execution_arn, history, on_event)
            return dict(client.describe_execution(executionArn=execution_arn))


def _deliver(
    event: dict[str, Any], history: list[dict[str, Any]], on_event: Callable[[dict[str, Any]], None] | None
) -> None:
    history.append(event)
    if on_event is not None:
        on_event(event)


def _drain(
    observer: moto_engine.RunObserver,
    execution_arn: str,
    history: list[dict[str, Any]],
    on_event: Callable[[dict[str, Any]], None] | None,
) -> None:
    import queue  # noqa: PLC0415

    while True:
        try:
            kind, arn, event = observer.queue.get_nowait()
        except queue.Empty:
            return
        if kind == "event" and arn == execution_arn:
            _deliver(event, history, on_event)


def _stop_timed_out(
    client: Any,
    execution_arn: str,
    timeout: float,
    *,
    observer: moto_engine.RunObserver,
    history: list[dict[str, Any]],
    on_event: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Stop an execution that overran the wall-clock limit and report it as Step Functions reports a timeout."""
    client.stop_execution(
        executionArn=execution_arn, error="States.Timeout", cause=f"exceeded the {timeout:g} s wall-clock limit"
    )
    _drain(observer, execution_arn, history, on_event)
    described = dict(client.describe_execution(executionArn=execution_arn))
    described.update(
        status="TIMED_OUT",
        error="States.Timeout",
        cause=f"the execution ran past the offline runner's wall-clock limit of {timeout:g} s and was stopped",
    )
    described.setdefault("stopDate", datetime.now(UTC))
    return described
