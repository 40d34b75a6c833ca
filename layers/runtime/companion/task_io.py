"""What every task shares: input parsing with named errors, JSON sizing, and the model-id fields."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion import safejson
from companion.codec.models import ModelFamily
from companion.errors import InputValidationError

_MAX_REPORTED_PROBLEMS = 10


class TaskInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: Annotated[str, Field(min_length=1, max_length=2048)]
    model_family: ModelFamily | None = Field(
        default=None,
        description="Needed only for opaque ids: provisioned-model and application-inference-profile ARNs.",
    )


InputT = TypeVar("InputT", bound=BaseModel)


def parse_input(model: type[InputT], event: object) -> InputT:
    """Validate a Lambda event against ``model``.

    Raises
    ------
    InputValidationError
        Listing each problem with its location, e.g. ``inference.max_tokens: Input should be greater than 0``; or
        the first value no JSON consumer downstream would take (nested too deeply, a number too long, NaN).
    """
    if not isinstance(event, dict):
        raise InputValidationError(f"{model.__name__}: expected a JSON object, got {type(event).__name__}")
    problem = safejson.value_problem(event)
    if problem is not None:
        raise InputValidationError(f"{model.__name__}: {problem}")
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise InputValidationError(f"{model.__name__}: {validation_problems(exc)}") from exc


def validation_problems(exc: ValidationError, *, root: str = "(root)") -> str:
    """Pydantic's errors as ``<location>: <message>`` joined by ``; ``, the first ten and how many more.

    ``root`` names a problem of the whole value (no location).
    """
    problems = [f"{'.'.join(map(str, e['loc'])) or root}: {e['msg']}" for e in exc.errors()]
    more = len(problems) - _MAX_REPORTED_PROBLEMS
    return "; ".join(problems[:_MAX_REPORTED_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


def json_bytes(value: Any, *, where: str) -> bytes:
    """Serialize ``value`` as compact UTF-8 JSON, the way Step Functions counts payload size.

    Raises
    ------
    InputValidationError
        The value holds text that cannot be UTF-8 encoded (lone surrogates from ``\\ud800`` escapes), or what
        :func:`companion.safejson.value_problem` refuses (NaN, Infinity, too deep, a number too long).
    """
    problem = safejson.value_problem(value)
    if problem is not None:
        raise InputValidationError(f"{where}: {problem}")
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputValidationError(
            f"{where}: contains text that is not valid Unicode (a lone surrogate at position {exc.start})"
        ) from exc
