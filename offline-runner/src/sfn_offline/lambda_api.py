"""The contract between the engine (which runs Lambda task states) and the functions it calls in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class FunctionTimeoutError(Exception):
    """A handler ran past its function's ``Timeout``; the engine fails the task with ``States.Timeout``.

    Raised by the caller's handler wrapper (the handler itself cannot be interrupted: its thread is abandoned).
    """

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        super().__init__(f"{function_name} timed out after {timeout_seconds:g} seconds")


Handler = Callable[[dict[str, Any], Any], Any]
"""``handler(event, context)``, the Lambda Python runtime's calling convention."""
