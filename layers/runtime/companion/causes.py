"""Failure causes as API callers and stored results may see them: the error's name and message, nothing else.

Step Functions puts a failed Lambda's whole error document into an execution's ``cause``: ``errorMessage``,
``errorType`` and ``stackTrace``, whose file paths and source lines describe the deployment, not the caller's
request. The stack trace stays in the function's logs; what leaves is its name and message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from companion import safejson

_DROPPED_KEYS = frozenset({"stackTrace", "stack_trace", "trace", "traceback", "requestId"})
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|\n?\s*File \"[^\"]*\", line \d+")
MAX_CAUSE_CHARS = 4000


def public_cause(cause: str | None) -> str | None:
    """``cause`` with every stack trace removed, at any depth (a chain's cause may wrap a Lambda's as JSON text).

    A JSON cause keeps its shape without the trace keys; text is cut where a Python traceback starts.
    """
    if cause is None:
        return None
    return _bounded(_clean_text(cause, depth=0))


def _clean_text(text: str, *, depth: int) -> str:
    try:
        value = safejson.loads(text) if depth < 4 and text[:1] in "{[" else None
    except ValueError:
        value = None
    if isinstance(value, dict | list):
        return json.dumps(_clean(value, depth=depth + 1), ensure_ascii=False, separators=(",", ":"))
    found = _TRACEBACK.search(text)
    return text[: found.start()].rstrip() if found else text


def _clean(value: Any, *, depth: int) -> Any:
    if isinstance(value, dict):
        return {key: _clean(item, depth=depth) for key, item in value.items() if key not in _DROPPED_KEYS}
    if isinstance(value, list):
        return [_clean(item, depth=depth) for item in value]
    if isinstance(value, str):
        return _clean_text(value, depth=depth)
    return value


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_CAUSE_CHARS else text[: MAX_CAUSE_CHARS - 3] + "..."


__all__ = ["MAX_CAUSE_CHARS", "public_cause"]
