"""Calling the project's real handlers in-process, the way the Lambda Python runtime calls them."""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FUNCTIONS = {
    "PreprocessPromptFunction": "preprocess_prompt",
    "ResolveOutputFunction": "resolve_output",
    "PostprocessResultFunction": "postprocess_result",
}


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


Handler = Callable[[dict[str, Any], LocalLambdaContext], dict[str, Any]]


def load_handler(logical_id: str) -> Handler:
    """Import ``functions/<dir>/app.py`` (``functions`` and ``layers/runtime`` must be on the import path)."""
    module = importlib.import_module(f"{FUNCTIONS[logical_id]}.app")
    handler: Handler = module.lambda_handler
    return handler


def invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a handler once with a fresh context."""
    return load_handler(logical_id)(event, LocalLambdaContext(function_name=logical_id))
