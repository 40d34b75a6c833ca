"""The contract between the engine (which runs Lambda task states) and the functions it calls in-process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class FunctionTimeoutError(Exception):
    """A handler ran past its function's ``Timeout``; the engine fails the task with ``States.Timeout``.

    Raised by the caller's handler wrapper (the handler itself cannot be interrupted: its thread is abandoned).
    """

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        super().__init__(f"{function_name} timed out after {timeout_seconds:g} seconds")


class FunctionUnavailableError(Exception):
    """A function the runner cannot run in-process (a container image, another runtime, code that fails to import)
    was called; the engine fails the execution naming the state, since AWS would have run it (mock the task)."""


@dataclass
class LocalLambdaContext:
    """The attributes of the runtime's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


Handler = Callable[[dict[str, Any], Any], Any]
"""``handler(event, context)``, the Lambda Python runtime's calling convention."""
