"""Step Functions access for the APIs and tasks: start (Standard), run synchronously (Express), describe executions."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from companion.errors import ConfigurationError, ExecutionAlreadyExistsError, ExecutionNotFoundError
from companion.executions import ExecutionRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


@cache
def default_client() -> SFNClient:
    """The process-wide Step Functions client, created on first use."""
    import boto3  # noqa: PLC0415  (deferred: importing the handler costs no client set-up)

    return boto3.client("stepfunctions")


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of execution ``name`` of a Standard machine: ``...:stateMachine:M`` becomes ``...:execution:M:name``."""
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


class StepFunctionsMachines:
    """The :class:`~companion.chains.api.StateMachines` port over boto3 (and, without an Express machine, the
    :class:`~companion.executions.StandardMachine` port). ``client`` is injectable for tests."""

    def __init__(
        self,
        standard_arn: str,
        express_arn: str | None = None,
        client: SFNClient | None = None,
        *,
        packaged_arn_prefix: str | None = None,
    ) -> None:
        self._standard_arn = standard_arn
        self._express_arn = express_arn
        self._given_client = client
        self._packaged_arn_prefix = packaged_arn_prefix

    def packaged(self, chain: str) -> StepFunctionsMachines:
        """The machines of packaged chain ``chain``: its own Standard machine, ``<packaged_arn_prefix><chain>``.

        Raises
        ------
        ConfigurationError
            This adapter was built without the packaged machines' ARN prefix.
        """
        if self._packaged_arn_prefix is None:
            raise ConfigurationError("no ARN prefix of the packaged chains' state machines is configured")
        return StepFunctionsMachines(f"{self._packaged_arn_prefix}{chain}", client=self._given_client)

    @property
    def _client(self) -> SFNClient:
        return self._given_client or default_client()

    def start_execution(self, name: str, document: str) -> str:
        """Start ``name`` on the Standard machine and return its ARN.

        Raises
        ------
        ExecutionAlreadyExistsError
            An execution of that name exists with a different input, or has closed (Step Functions returns a
            running execution with the same name and input itself, without an error).
        """
        try:
            response = self._client.start_execution(stateMachineArn=self._standard_arn, name=name, input=document)
        except self._client.exceptions.ExecutionAlreadyExists as exc:
            raise ExecutionAlreadyExistsError(f"execution {name!r} exists already") from exc
        return response["executionArn"]

    def start_sync_execution(self, name: str, document: str) -> ExecutionRecord:
        """Run ``name`` on the Express machine and return how it ended.

        Raises
        ------
        ConfigurationError
            This adapter was built without an Express machine.
        """
        if self._express_arn is None:
            raise ConfigurationError("no Express state machine is configured for synchronous runs")
        response = self._client.start_sync_execution(stateMachineArn=self._express_arn, name=name, input=document)
        return _record(response, name)

    def describe_execution(self, name: str) -> ExecutionRecord:
        """Describe execution ``name`` of the Standard machine.

        Raises
        ------
        ExecutionNotFoundError
            No such execution.
        """
        try:
            response = self._client.describe_execution(executionArn=execution_arn(self._standard_arn, name))
        except self._client.exceptions.ExecutionDoesNotExist as exc:
            raise ExecutionNotFoundError(f"no execution with id {name!r}") from exc
        return _record(response, name)


class StepFunctionsExecutions:
    """Executions of any state machine by ARN: what a task needs to read the result of a nested execution."""

    def __init__(self, client: SFNClient | None = None) -> None:
        self._given_client = client

    def describe(self, arn: str) -> ExecutionRecord:
        """Describe the execution ``arn``.

        Raises
        ------
        ExecutionNotFoundError
            No such execution.
        """
        client = self._given_client or default_client()
        try:
            response = client.describe_execution(executionArn=arn)
        except (client.exceptions.ExecutionDoesNotExist, client.exceptions.InvalidArn) as exc:
            raise ExecutionNotFoundError(f"no execution {arn}") from exc
        return _record(response, arn.rpartition(":")[2])


def _record(response: Any, name: str) -> ExecutionRecord:
    """StartSyncExecution and DescribeExecution answer with the same fields."""
    return ExecutionRecord(
        name=response.get("name", name),
        arn=response["executionArn"],
        status=response["status"],
        input=response.get("input"),
        output=response.get("output"),
        error=response.get("error"),
        cause=response.get("cause"),
    )
