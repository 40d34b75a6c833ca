"""Reading JSON out of model text, which is untrusted input: prose around it, markdown fences, trailing remarks."""

from __future__ import annotations

import json
import re
from typing import Any

from companion.errors import ModelOutputNotJsonError, ModelOutputSchemaError, SchemaDefinitionError

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
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
    for block in _FENCE.findall(text):
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


def validate_json(value: Any, schema: dict[str, Any]) -> None:
    """Validate ``value`` against a JSON Schema (draft 4/6/7) with Powertools' validation utility.

    Raises
    ------
    ModelOutputSchemaError
        The value does not match; the message names the failing rule and path for the model to correct.
    SchemaDefinitionError
        The schema itself is invalid (a mistake in the step definition, not in the model's answer).
    """
    # Imported here so that steps without a schema never pay for the validator at cold start.
    from aws_lambda_powertools.utilities.validation import validate  # noqa: PLC0415
    from aws_lambda_powertools.utilities.validation.exceptions import (  # noqa: PLC0415
        InvalidSchemaFormatError,
        SchemaValidationError,
    )

    try:
        validate(event=value, schema=schema)
    except SchemaValidationError as exc:
        detail = exc.validation_message or str(exc)
        message = (
            f"Your JSON answer does not match the required schema: {detail}. Reply with only the corrected JSON value."
        )
        raise ModelOutputSchemaError(_bounded(message)) from exc
    except InvalidSchemaFormatError as exc:
        raise SchemaDefinitionError(_bounded(f"output.schema is not a valid JSON Schema: {exc}")) from exc


def _bounded(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[: _MAX_MESSAGE_CHARS - 3] + "..."
