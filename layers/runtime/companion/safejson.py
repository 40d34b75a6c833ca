"""JSON from untrusted sources, parsed within limits: nesting depth, number length, no NaN or Infinity.

Python's ``json`` accepts ``NaN`` and ``Infinity`` (which no JSON consumer downstream does), turns a 5,000-digit
number into a ValueError about integer conversion, and recurses once per nesting level, so a body of 100,000 ``[``
raises RecursionError. Here every such input raises :class:`JsonLimitError`, a ``json.JSONDecodeError``: call sites
that already turn a decode error into their own named error handle the limits the same way.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting accepted: far beyond any prompt variable, schema or answer, far below the interpreter's stack."""
MAX_NUMBER_CHARS = 100
"""Longest number literal accepted (a float's 17 significant digits and exponent need a fraction of it)."""


class JsonLimitError(json.JSONDecodeError):
    """Valid or not, the text breaks a limit of :mod:`companion.safejson` (depth, number length, NaN/Infinity)."""

    def __init__(self, msg: str) -> None:
        # No line and column: the limit concerns the whole text, and a position would be noise in the message.
        ValueError.__init__(self, msg)
        self.msg, self.doc, self.pos, self.lineno, self.colno = msg, "", 0, 1, 1

    def __reduce__(self) -> tuple[type[JsonLimitError], tuple[str]]:
        return type(self), (self.msg,)


def _number_hooks(max_number_chars: int) -> dict[str, Any]:
    def parse_int(literal: str) -> int:
        if len(literal) > max_number_chars:
            raise JsonLimitError(f"a number of {len(literal)} digits (at most {max_number_chars})")
        return int(literal)

    def parse_float(literal: str) -> float:
        value = float(literal)
        if len(literal) > max_number_chars or not math.isfinite(value):
            raise JsonLimitError(f"a number out of range ({literal[:20]}...)")
        return value

    def parse_constant(name: str) -> Any:
        raise JsonLimitError(f"{name} is not a JSON number")

    return {"parse_int": parse_int, "parse_float": parse_float, "parse_constant": parse_constant}


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS) -> Any:
    """``json.loads`` within the limits.

    Raises
    ------
    json.JSONDecodeError
        Not JSON; :class:`JsonLimitError` (a subclass) when it breaks a limit.
    UnicodeDecodeError
        ``text`` is bytes that are not UTF-8.
    """
    try:
        value = json.loads(text, **_number_hooks(max_number_chars))
    except RecursionError:
        raise JsonLimitError(f"nesting deeper than {max_depth} levels") from None
    _check_depth(value, text, max_depth)
    return value


def raw_decode(
    text: str, start: int, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS
) -> tuple[Any, int]:
    """``json.JSONDecoder().raw_decode(text, start)`` within the limits (the value and where it ended)."""
    decoder = json.JSONDecoder(**_number_hooks(max_number_chars))
    try:
        value, end = decoder.raw_decode(text, start)
    except RecursionError:
        raise JsonLimitError(f"nesting deeper than {max_depth} levels") from None
    _check_depth(value, text[start:end], max_depth)
    return value, end


def value_problem(value: Any, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS) -> str | None:
    """What makes an already-parsed value unfit to be sent on as JSON, with where; None when nothing does.

    Checks what :func:`loads` refuses, for values that arrive parsed (a Lambda event): nesting, numbers too long
    to print, NaN and Infinity, keys that are not strings.
    """
    limit = 10**max_number_chars
    pending: list[tuple[str, Any, int]] = [("", value, 0)]
    while pending:
        where, node, depth = pending.pop()
        if isinstance(node, dict | list):
            if depth >= max_depth:
                return f"{where or '(root)'}: nested deeper than {max_depth} levels"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, item in items:
                if not isinstance(key, str | int):
                    return f"{where or '(root)'}: a key of type {type(key).__name__}"
                pending.append((f"{where}.{key}" if where else str(key), item, depth + 1))
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            continue
        elif isinstance(node, int):
            if not -limit < node < limit:
                return f"{where or '(root)'}: a number with more than {max_number_chars} digits"
        elif isinstance(node, float):
            if not math.isfinite(node):
                return f"{where or '(root)'}: {node} is not a JSON number"
        else:
            return f"{where or '(root)'}: a {type(node).__name__} is not a JSON value"
    return None


def _check_depth(value: Any, text: str | bytes, max_depth: int) -> None:
    # Fewer brackets than the limit cannot nest past it: the common case skips the walk.
    opening = (b"[", b"{") if isinstance(text, bytes) else ("[", "{")
    if text.count(opening[0]) + text.count(opening[1]) <= max_depth:  # type: ignore[arg-type]
        return
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > max_depth:
            raise JsonLimitError(f"nesting deeper than {max_depth} levels")
        if isinstance(node, dict):
            pending.extend((item, depth + 1) for item in node.values() if isinstance(item, dict | list))
        elif isinstance(node, list):
            pending.extend((item, depth + 1) for item in node if isinstance(item, dict | list))


__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "JsonLimitError", "loads", "raw_decode", "value_problem"]
