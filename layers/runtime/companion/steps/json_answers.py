"""Reading JSON out of model text, which is untrusted input: prose around it, markdown fences, trailing remarks."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from companion import safejson
from companion.errors import ModelOutputNotJsonError, ModelOutputSchemaError, SchemaDefinitionError

# Only the opening fence is a regex; the closing one is found with str.find (a lazy DOTALL group is slow on 200 KiB).
_FENCE_OPEN = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n")
_MAX_CANDIDATES = 64
_MAX_MESSAGE_CHARS = 1000
MAX_ANSWER_CHARS = 1024 * 1024
"""Longest answer searched for JSON: four times the state payload limit, far above what a step can keep."""
DEFAULT_TIME_BUDGET_SECONDS = 2.0
"""Time after which the search for JSON in an answer gives up (the candidates left are not tried)."""


def extract_json(text: str | None, *, time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS) -> Any:
    """Return the first JSON object or array found in ``text``.

    Tried in order: the whole text, each fenced code block, then each ``{``/``[`` position (at most 64) from which a
    complete JSON value parses. A bare scalar only counts when it is the whole text. Parsing is bounded
    (:mod:`companion.safejson`: depth, number length, no NaN), as are the text's length and the time spent.

    Raises
    ------
    ModelOutputNotJsonError
        Nothing parses within the limits; the message tells the model what was wrong in terms it can act on.
    """
    if not text or not text.strip():
        raise ModelOutputNotJsonError("Your answer was empty. Reply with only the JSON value that was asked for.")
    if len(text) > MAX_ANSWER_CHARS:
        raise ModelOutputNotJsonError(
            f"Your answer was {len(text)} characters long. Reply with only the JSON value, in at most "
            f"{MAX_ANSWER_CHARS} characters."
        )
    deadline = time.monotonic() + time_budget_seconds
    stripped = text.strip()
    try:
        return _usable(safejson.loads(stripped))
    except json.JSONDecodeError as exc:
        first_error = exc
    for block in _fenced_blocks(text)[:_MAX_CANDIDATES]:
        if time.monotonic() > deadline:
            break
        try:
            return _usable(safejson.loads(block))
        except json.JSONDecodeError:
            continue
    starts = [i for i, char in enumerate(text) if char in "{["][:_MAX_CANDIDATES]
    for start in starts:
        if time.monotonic() > deadline:
            break
        try:
            value, _ = safejson.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return _usable(value)
    if isinstance(first_error, safejson.JsonLimitError):
        problem = f"{first_error.msg}"
    else:
        problem = f"{first_error.msg} at line {first_error.lineno} column {first_error.colno}"
    raise ModelOutputNotJsonError(
        f"Your answer did not contain valid JSON ({problem}). Reply with only the JSON value, without prose or "
        "markdown fences."
    )


def _usable(value: Any) -> Any:
    """A parsed answer whose strings can be sent on: a ``\\ud800`` escape parses to text no UTF-8 consumer takes."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ModelOutputNotJsonError(
            "Your JSON answer contains a \\u escape of a lone surrogate, which is not valid Unicode. Reply with "
            "the JSON value using plain characters."
        ) from exc
    return value


def _fenced_blocks(text: str) -> list[str]:
    blocks = []
    position = 0
    while (opening := _FENCE_OPEN.search(text, position)) is not None:
        closing = text.find("```", opening.end())
        if closing < 0:
            break
        blocks.append(text[opening.end() : closing])
        position = closing + 3
    return blocks


def validate_json(
    value: Any, schema: dict[str, Any], *, time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS
) -> None:
    """Validate ``value`` against a JSON Schema (draft 4/6/7) with fastjsonschema, the engine of Powertools' validator.

    The compiled validator is cached per schema: Powertools' ``validate`` compiles the schema on every call, which
    was 85% of a warm post-process invocation (benchmarks/lambda_overhead.py).

    Raises
    ------
    ModelOutputSchemaError
        The value does not match; the message names the failing rule and path for the model to correct. Also when
        the check takes longer than ``time_budget_seconds`` (enforced on the main thread, where Lambda runs
        handlers; the limits on schemas and answers bound it elsewhere).
    SchemaDefinitionError
        The schema itself is invalid (a mistake in the step definition, not in the model's answer).
    """
    # Imported here so that steps without a schema never pay for the validator at cold start.
    import fastjsonschema  # noqa: PLC0415

    validator = compile_schema(schema)
    try:
        with _time_limit(time_budget_seconds):
            validator(value)
    except _OutOfTimeError as exc:
        raise ModelOutputSchemaError(
            f"Your JSON answer could not be checked against the schema within {time_budget_seconds} seconds. "
            "Reply with a shorter JSON value."
        ) from exc
    except fastjsonschema.JsonSchemaValueException as exc:
        message = (
            f"Your JSON answer does not match the required schema: {exc.message}. "
            "Reply with only the corrected JSON value."
        )
        raise ModelOutputSchemaError(_bounded(message)) from exc
    except UnicodeEncodeError as exc:
        raise ModelOutputSchemaError(
            "Your JSON answer contains text that is not valid Unicode. Reply with the corrected JSON value."
        ) from exc
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaDefinitionError(_bounded(f"output.schema cannot be applied: {detail}")) from exc


def compile_schema(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Compile a JSON Schema into a validator (cached per schema), as :func:`validate_json` does before validating.

    Raises
    ------
    SchemaDefinitionError
        The schema itself is invalid.
    """
    from companion.schemasafe import MAX_SCHEMA_DEPTH  # noqa: PLC0415  (RE2 loads with the first schema)

    problem = safejson.value_problem(schema, max_depth=MAX_SCHEMA_DEPTH)
    if problem is not None:
        raise SchemaDefinitionError(f"output.schema: {problem}")
    return _compiled(json.dumps(schema, sort_keys=True))


@lru_cache(maxsize=64)
def _compiled(schema_json: str) -> Callable[[Any], Any]:
    import fastjsonschema  # noqa: PLC0415

    from companion.schemasafe import checked_patterns  # noqa: PLC0415

    schema = json.loads(schema_json)
    patterns = checked_patterns(schema)
    try:
        compiled: Callable[[Any], Any] = fastjsonschema.compile(schema)
    except Exception as exc:
        # fastjsonschema raises its own definition error, and plain AttributeError, KeyError, TypeError, re.error...
        # for malformed keywords ({"properties": 1}, a "pattern" that is not a regular expression).
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaDefinitionError(_bounded(f"output.schema is not a valid JSON Schema: {detail}")) from exc
    # The generated code looks its regular expressions up in this table: swap in the RE2 ones (linear time); the
    # library's own format expressions ("<format>_re_pattern") stay.
    table: dict[str, Any] = compiled.__globals__["REGEX_PATTERNS"]
    for key in list(table):
        if key in patterns:
            table[key] = patterns[key]
        elif key.endswith("_re_pattern"):
            table[key] = _linear_if_possible(table[key])
        else:
            raise SchemaDefinitionError(_bounded(f"output.schema: pattern {key!r} could not be checked"))
    return compiled


def _linear_if_possible(expression: Any) -> Any:
    """A format's expression (email, hostname...) on RE2 when RE2 reads it, else the library's own."""
    import re2  # noqa: PLC0415

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(expression.pattern, options)
    except re2.error:
        return expression


class _OutOfTimeError(Exception):
    """Raised inside the validator by the interval timer of :func:`_time_limit`."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    # A signal is the only way to stop pure-Python validation midway; it exists on the main thread only, and a
    # timer someone else set is left alone.
    if threading.current_thread() is not threading.main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise _OutOfTimeError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _bounded(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[: _MAX_MESSAGE_CHARS - 3] + "..."
