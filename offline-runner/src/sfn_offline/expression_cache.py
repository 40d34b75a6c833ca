"""Parse each JSONata and JSONPath expression text once per process (moto parses them again at every evaluation).

JSONata: moto hands over one program per evaluation, ``(`` + declarations + the state's expression + ``)`` (inside
``$type(...)`` or ``$exists(...)`` when it checks an output), where the declarations are the intrinsic functions it
uses (fixed texts) and the data it reads, JSON-encoded: ``$states:={...};$name:=...;``. The data changes at every
evaluation, so a cache keyed by the whole text would rarely hit, and parsing the data as JSONata is most of the cost
(the data is often larger than the expression). So :func:`evaluate_jsonata` reads the leading data declarations back
with :mod:`json` (C speed), converts them to the values JSONata's own parser would have built (``null`` as JSONata's
null, numbers as its tokenizer reads them, arrays as its arrays), binds them in the frame that encloses the program,
and parses the rest, whose text repeats, once.

The result is the one the whole program gives: the program's block sees the same names with the same values, in the
same order (a later declaration shadows an earlier one). Anything the reader does not recognise exactly (a value JSON
cannot read, a name clash with a kept function declaration) stays in the text and is parsed as before.

JSONPath: ``jsonpath_ng``'s ``parse`` builds a new PLY parser (reading its tables) for every call; parsed paths are
immutable, so one parse per text serves every execution and thread.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, Final

_CACHE_SIZE: Final[int] = 1024
# moto's encoding of a data declaration: `$name:=`, the JSON value, `;` (encode_jsonata_variable_declarations).
_DATA_DECLARATION: Final[re.Pattern[str]] = re.compile(r"\$([A-Za-z0-9_]+):=")
_FUNCTION_DECLARATION_NAME: Final[re.Pattern[str]] = re.compile(r"\$([A-Za-z0-9_]+):=function")
# moto's output checks evaluate the whole program again inside one of these calls (asl/jsonata/validations.py).
_PROGRAM_OPENINGS: Final[tuple[str, ...]] = ("(", "$type((", "$exists((")


def _jsonata_number(text: str) -> Any:
    """A number as JSONata's tokenizer reads it: through a float, integral values as ints; out of range is its error."""
    from jsonata.utils import Utils  # noqa: PLC0415

    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number out of range: {text}")
    return Utils.convert_number(number)


def _refuse_constant(text: str) -> Any:
    raise ValueError(f"not a JSONata literal: {text}")


_DECODER: Final[json.JSONDecoder] = json.JSONDecoder(
    strict=False, parse_int=_jsonata_number, parse_float=_jsonata_number, parse_constant=_refuse_constant
)


def _as_jsonata(value: Any) -> Any:
    """A decoded JSON value as JSONata's evaluation of the same literal gives it: null is its null, arrays its lists."""
    from jsonata.utils import Utils  # noqa: PLC0415

    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, dict):
        return {key: _as_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return Utils.JList([_as_jsonata(item) for item in value])
    return value


def _function_declarations() -> tuple[str, ...]:
    """The intrinsic function declarations moto may prepend (read live: the runner drops its ``$hash`` placeholder)."""
    from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as intrinsic_jsonata  # noqa: PLC0415

    return tuple(intrinsic_jsonata._DECLARATION_BY_VARIABLE_REFERENCE.values())


def split_program(program: str) -> tuple[str, dict[str, Any]]:
    """``program`` without its leading data declarations, and their values (as JSONata values, in declaration order).

    The text that remains gives, evaluated with those values bound around it, what ``program`` gives.
    """
    opening = next((text for text in _PROGRAM_OPENINGS if program.startswith(text)), None)
    if opening is None:
        return program, {}
    position = len(opening)
    kept_functions: set[str] = set()
    declarations = _function_declarations()
    while True:
        function = next((text for text in declarations if program.startswith(text, position)), None)
        if function is None:
            break
        kept_functions.update(_FUNCTION_DECLARATION_NAME.findall(function))
        position += len(function)
    data_start = position
    bindings: dict[str, Any] = {}
    while (match := _DATA_DECLARATION.match(program, position)) is not None and match.group(1) not in kept_functions:
        try:
            value, end = _DECODER.raw_decode(program, match.end())
        except ValueError:
            break
        if program[end : end + 1] != ";":
            break
        bindings[match.group(1)] = _as_jsonata(value)
        position = end + 1
    return program[:data_start] + program[position:], bindings


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parsed(text: str) -> Any:
    """One parse per text (a syntax error raises every time: exceptions are not cached)."""
    import jsonata  # noqa: PLC0415

    return jsonata.Jsonata(text)


def evaluate_jsonata(program: str, functions: dict[str, Callable[..., Any]]) -> Any:
    """Evaluate moto's composed ``program`` with no input, ``functions`` registered as JSONata functions."""
    import jsonata  # noqa: PLC0415

    text, values = split_program(program)
    # A shallow copy per evaluation, with a frame of its own: the parsed tree is shared (evaluation never changes
    # it), the per-evaluation state (input, timestamp, registered functions) is not, whatever thread evaluates.
    evaluation = copy.copy(_parsed(text))
    evaluation.environment = evaluation.create_frame(jsonata.Jsonata.static_frame)
    evaluation.parser = jsonata.Jsonata.get_parser()  # this thread's: partial application parses with it
    for name, function in functions.items():
        evaluation.register_lambda(name, function)
    # jsonata-python evaluates on the instance last constructed on this thread (its per-thread instance).
    jsonata.Jsonata.CURRENT.jsonata = evaluation
    bindings = evaluation.create_frame()
    for name, value in values.items():
        bindings.bind(name, value)
    return evaluation.evaluate(None, bindings)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def jsonpath(path: str) -> Any:
    """``jsonpath_ng.ext.parse(path)``, once per text."""
    from jsonpath_ng.ext.parser import parse  # noqa: PLC0415

    return parse(path)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _plain_jsonpath(path: str) -> Any:
    from jsonpath_ng.parser import parse  # noqa: PLC0415

    return parse(path)


def install() -> None:
    """``ResultPath`` parses its path with ``jsonpath_ng.parse`` (imported by name) at every evaluation: cache it."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path  # noqa: PLC0415

    result_path.parse = _plain_jsonpath
