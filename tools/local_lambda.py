"""Calling the project's real handlers in-process, the way the Lambda Python runtime calls them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sfn_offline.lambda_api import LocalLambdaContext

FUNCTIONS = {
    "PreprocessPromptFunction": "preprocess_prompt",
    "ResolveOutputFunction": "resolve_output",
    "PostprocessResultFunction": "postprocess_result",
}


Handler = Callable[[dict[str, Any], LocalLambdaContext], dict[str, Any]]


def load_handler(logical_id: str) -> Handler:
    """Import ``functions/<dir>/app.py`` (``functions`` and ``layers/runtime`` must be on the import path)."""
    module = importlib.import_module(f"{FUNCTIONS[logical_id]}.app")
    handler: Handler = module.lambda_handler
    return handler


def invoke(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke a handler once with a fresh context."""
    return load_handler(logical_id)(event, LocalLambdaContext(function_name=logical_id))


__all__ = ["FUNCTIONS", "Handler", "LocalLambdaContext", "invoke", "load_handler"]
