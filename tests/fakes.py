"""In-memory stand-ins for the layer's ports, shared by every test that needs one (never a second copy per file)."""

from __future__ import annotations

import json
from typing import Any

from companion.adapters.stepfunctions import execution_arn
from companion.errors import ExecutionAlreadyExistsError, ExecutionNotFoundError
from companion.executions import ExecutionRecord
from companion.s3uri import S3Location


class FakeMachines:
    """A Standard state machine (and optionally its Express twin) in memory, with Step Functions' name rules:
    a name starts one execution; the same name again returns it while it runs with the same input, and is refused
    otherwise."""

    def __init__(
        self, machine_arn: str, *, sync_result: ExecutionRecord | None = None, packaged_prefix: str | None = None
    ) -> None:
        self.machine_arn = machine_arn
        self.packaged_prefix = packaged_prefix
        self.chains: dict[str, FakeMachines] = {}
        self.executions: dict[str, ExecutionRecord] = {}
        self.starts: list[str] = []
        self.sync_runs: list[tuple[str, dict[str, Any]]] = []
        self.sync_result = sync_result

    def packaged(self, chain: str) -> FakeMachines:
        """The packaged chain's own machine (ARN: ``packaged_prefix`` + the chain's name), made on first use."""
        if self.packaged_prefix is None:
            raise AssertionError("this fake was built without a packaged_prefix")
        return self.chains.setdefault(chain, FakeMachines(f"{self.packaged_prefix}{chain}"))

    def start_execution(self, name: str, document: str) -> str:
        existing = self.executions.get(name)
        if existing is not None:
            if existing.status == "RUNNING" and existing.input == document:
                return existing.arn
            raise ExecutionAlreadyExistsError(name)
        self.starts.append(name)
        self.executions[name] = ExecutionRecord(name, execution_arn(self.machine_arn, name), "RUNNING", input=document)
        return self.executions[name].arn

    def start_sync_execution(self, name: str, document: str) -> ExecutionRecord:
        self.sync_runs.append((name, json.loads(document)))
        if self.sync_result is None:
            raise AssertionError("this fake was built without a sync_result")
        return self.sync_result

    def describe_execution(self, name: str) -> ExecutionRecord:
        if name not in self.executions:
            raise ExecutionNotFoundError(name)
        return self.executions[name]

    def finish(self, name: str, **fields: Any) -> None:
        """End a running execution with the given record fields (status, output, error, cause...)."""
        old = self.executions[name]
        self.executions[name] = ExecutionRecord(old.name, old.arn, input=old.input, **fields)


class FakeStore:
    """An object store keyed by S3 URI."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_json(self, location: S3Location, body: bytes) -> None:
        self.objects[location.uri] = body

    def get_bytes(self, location: S3Location) -> bytes:
        return self.objects[location.uri]


class FakeExecutions:
    """Finished executions by ARN, for code that reads child executions' records."""

    def __init__(self, records: dict[str, ExecutionRecord]) -> None:
        self.records = records

    def describe(self, arn: str) -> ExecutionRecord:
        return self.records[arn]
