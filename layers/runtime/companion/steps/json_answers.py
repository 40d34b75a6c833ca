"""Reading JSON out of model text, which is untrusted input: prose around it, markdown fences, trailing remarks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from companion.errors import ModelOutputNotJsonError, ModelOutputSchemaError, SchemaDefinitionError

# Only the opening fence is a regex; the closing one is found with str.find (a lazy DOTALL group is slow on 200 KiB).
_FENCE_OPEN = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n")
_MAX_CANDIDATES = 64
_MAX_MESSAGE_CHARS = 1000


def extract_json(text: str | None) -> Any:
    """Return the first JSON object or array found in ``text``.

    Tried in order: the whole text, each fenced code block, then each ``{``/``[`` position (at most 64) from which a
    complete JSON value parses. A bare scalar only counts when it is the whole text.

    Raises
    ------
    ModelOutputNotJsonError
        Nothing parses; the message tells the model what was wrong in terms it can act on.
    """
    if not text or not text.strip():
        raise ModelOutputNotJsonError("Your answer was empty. Reply with only the JSON value that was asked for.")
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        first_error = exc
    for block in _fenced_blocks(text):
        try:
            return json.loads(block)
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    starts = [i for i, char in enumerate(text) if char in "{["][:_MAX_CANDIDATES]
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return value
    raise ModelOutputNotJsonError(
        f"Your answer did not contain valid JSON ({first_error.msg} at line {first_error.lineno} column "
        f"{first_error.colno}). Reply with only the JSON value, without prose or markdown fences."
    )


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


def validate_json(value: Any, schema: dict[str, Any]) -> None:
    """Validate ``value`` against a JSON Schema (draft 4/6/7) with fastjsonschema, the engine of Powertools' validator.

    The compiled validator is cached per schema: Powertools' ``validate`` compiles the schema on every call, which
    was 85% of a warm post-process invocation (benchmarks/lambda_overhead.py).

    Raises
    ------
    ModelOutputSchemaError
        The value does not match; the message names the failing rule and path for the model to correct.
    SchemaDefinitionError
        The schema itself is invalid (a mistake in the step definition, not in the model's answer).
    """
    # Imported here so that steps without a schema never pay for the validator at cold start.
    import fastjsonschema  # noqa: PLC0415

    validator = compile_schema(schema)
    try:
        validator(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        message = (
            f"Your JSON answer does not match the required schema: {exc.message}. "
            "Reply with only the corrected JSON value."
        )
        raise ModelOutputSchemaError(_bounded(message)) from exc


def compile_schema(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Compile a JSON Schema into a validator (cached per schema), as :func:`validate_json` does before validating.

    Raises
    ------
    SchemaDefinitionError
        The schema itself is invalid.
    """
    remote = sorted(_remote_refs(schema))
    if remote:
        # fastjsonschema would fetch a remote $ref over the network while compiling, inside the Lambda.
        listed = ", ".join(map(repr, remote[:5]))
        raise SchemaDefinitionError(f"output.schema may only use local $ref ('#/...'), found {listed}")
    try:
        return _compiled(json.dumps(schema, sort_keys=True))
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, re.error, RecursionError) as exc:
        # fastjsonschema raises its own definition error, and these for some malformed keywords ({"properties": 1},
        # a "pattern" that is not a regular expression); JsonSchemaDefinitionException is a ValueError.
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaDefinitionError(_bounded(f"output.schema is not a valid JSON Schema: {detail}")) from exc


def _remote_refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and not item.startswith("#"):
                yield item
            else:
                yield from _remote_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _remote_refs(item)


@lru_cache(maxsize=64)
def _compiled(schema_json: str) -> Callable[[Any], Any]:
    import fastjsonschema  # noqa: PLC0415

    compiled: Callable[[Any], Any] = fastjsonschema.compile(json.loads(schema_json))
    return compiled


def _bounded(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[: _MAX_MESSAGE_CHARS - 3] + "..."
