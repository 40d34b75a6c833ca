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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from unittest import mock

from tools.offline import moto_engine
from tools.offline.bedrock_api import BedrockBackend

REGION: Final[str] = "us-east-1"
ACCOUNT: Final[str] = "123456789012"
_ROLE_ARN: Final[str] = f"arn:aws:iam::{ACCOUNT}:role/offline-state-machine"
# Short enough that a sub-millisecond execution is not slowed down; long enough that polling does not starve the
# execution thread of the GIL.
_POLL_SECONDS: Final[float] = 0.005
_NO_FUNCTIONS: Final[Mapping[str, Callable[[dict[str, Any], Any], Any]]] = MappingProxyType({})


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one execution, as ``describe_execution`` and ``get_execution_history`` report it."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]


def run_definition(
    definition: dict[str, Any] | str,
    execution_input: Any,
    *,
    functions: Mapping[str, Callable[[dict[str, Any], Any], Any]] = _NO_FUNCTIONS,
    bedrock: BedrockBackend | None = None,
    execution_name: str | None = None,
    time_scale: float = 0.0,
    timeout: float = 60.0,
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
        Wall-clock seconds to wait for the execution before stopping it and raising ``TimeoutError``.

    Notes
    -----
    Runs inside the caller's ``moto.mock_aws()`` when one is active (so its S3 buckets are visible to the engine and
    the handlers), else inside a fresh one. One run at a time per process: the hooks are process-wide.
    """
    import boto3  # noqa: PLC0415  (dev tooling: keep importing this module cheap)

    moto_engine.install()
    text = definition if isinstance(definition, str) else json.dumps(definition)
    run = moto_engine.ActiveRun(functions=functions, bedrock=bedrock, time_scale=time_scale)
    with _mock_scope(), moto_engine.active_run(run):
        moto_engine.register_on_default_session(boto3)
        client = boto3.client("stepfunctions", region_name=REGION)
        machine_arn = client.create_state_machine(
            name=f"offline-{uuid.uuid4().hex[:12]}", definition=text, roleArn=_ROLE_ARN
        )["stateMachineArn"]
        start: dict[str, Any] = {"stateMachineArn": machine_arn, "input": json.dumps(execution_input)}
        if execution_name is not None:
            start["name"] = execution_name
        execution_arn = client.start_execution(**start)["executionArn"]
        described = _wait_until_done(client, execution_arn, timeout)
        history = _history(client, execution_arn)
    status = described["status"]
    return ExecutionResult(
        status=status,
        output=json.loads(described["output"]) if status == "SUCCEEDED" and "output" in described else None,
        error=described.get("error"),
        cause=described.get("cause"),
        history=history,
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


def _wait_until_done(client: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            client.stop_execution(executionArn=execution_arn, error="Offline.Timeout")
            raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")
        time.sleep(_POLL_SECONDS)


def _history(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in client.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events
