"""Small text helpers shared by the codec modules."""

from __future__ import annotations

from typing import Any

_QUOTE_LIMIT = 80
_KEYS_LIMIT = 12


def quote(value: Any, limit: int = _QUOTE_LIMIT) -> str:
    """Quote a caller-supplied value for an error message.

    ``repr`` escapes control characters, so a hostile id cannot forge log lines; truncation keeps a
    megabyte-long id from flooding the Step Functions error cause (which is itself size-limited).
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} chars)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}... ({type(value).__name__})"


def describe(value: Any) -> str:
    """Say what a payload looked like (top-level keys or type) without echoing its content, which is user data."""
    if isinstance(value, dict):
        keys = [quote(str(key), 40) for key in list(value)[:_KEYS_LIMIT]]
        more = f" and {len(value) - _KEYS_LIMIT} more" if len(value) > _KEYS_LIMIT else ""
        return f"an object with keys [{', '.join(keys)}{more}]" if keys else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return f"a value of type {type(value).__name__}"
