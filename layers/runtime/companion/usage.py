"""Tokens of answers a step did not accept, carried on the error that rejected them.

Bedrock bills every answer, including one the re-prompt loop rejects and one a step fails on after the call. A
Lambda error reaches the state machine only as ``{errorType, errorMessage}``, so the usage rides at the end of the
message, after :data:`USAGE_MARKER`, as JSON. The machine splits it off: the text before it is what the model is
shown in a correction turn, the JSON after it is added to the chain's ``usage.unaccepted``.
"""

from __future__ import annotations

import json
from typing import Any

from companion.codec.models import NormalizedResult
from companion.errors import CompanionError

USAGE_MARKER = "\n[usage] "


def attach_usage(error: CompanionError, result: NormalizedResult) -> CompanionError:
    """``error`` with ``result``'s token usage appended to its message (and as ``error.usage``); returned for
    ``raise attach_usage(exc, result)`` inside the ``except`` that caught it."""
    usage = {"input_tokens": result.input_tokens, "output_tokens": result.output_tokens}
    error.args = (f"{error}{USAGE_MARKER}{json.dumps(usage)}",)
    error.usage = usage  # type: ignore[attr-defined]
    return error


def split_usage(message: str) -> tuple[str, dict[str, Any] | None]:
    """The message without its usage suffix, and the usage (None when there is none or it is unreadable)."""
    text, marker, suffix = message.rpartition(USAGE_MARKER)
    if not marker:
        return message, None
    try:
        usage = json.loads(suffix)
    except ValueError:
        return message, None
    return text, usage if isinstance(usage, dict) else None


__all__ = ["USAGE_MARKER", "attach_usage", "split_usage"]
