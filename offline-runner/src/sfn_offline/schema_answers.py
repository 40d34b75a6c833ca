"""Deterministic JSON instances of a JSON Schema: what the SIMULATED Bedrock answers when a step must answer JSON.

:func:`instance_for` builds the smallest plain instance the schema allows (required and declared properties, the
fewest array items, numbers at their lower bound, strings that say they are simulated), tries the branches of
``anyOf``/``oneOf`` in order, and checks every candidate with fastjsonschema, the validator the chain's post-process
uses, so an instance it returns is valid and a schema it cannot satisfy is a named error, never a wrong answer.
Nothing here knows about chains, steps or model families: the caller says which schema an answer must satisfy.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache

# The regular-expression parser behind ``re`` (public as sre_parse until 3.11, deprecated since): generating a string
# a pattern matches needs the pattern's structure, and no public API gives it.
from re import _parser as sre_parse  # type: ignore[attr-defined,unused-ignore]
from typing import Any, Final

import fastjsonschema

from sfn_offline.chain_standin import JsonAnswers, replace_placeholder

_TEXT: Final[str] = "simulated"
_MAX_DEPTH: Final[int] = 12
_MAX_BRANCHES: Final[int] = 16
_MAX_CANDIDATES: Final[int] = 12
_BUDGET: Final[int] = 20_000
_FORMATS: Final[Mapping[str, str]] = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "simulated@example.com",
    "idn-email": "simulated@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/simulated",
    "uri-reference": "https://example.com/simulated",
    "iri": "https://example.com/simulated",
    "url": "https://example.com/simulated",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "regex": "^simulated$",
    "json-pointer": "/simulated",
}
_DEFINITIONS: Final[tuple[str, ...]] = ("definitions", "$defs")
_TYPE_ORDER: Final[tuple[str, ...]] = ("object", "array", "string", "integer", "number", "boolean", "null")


class UnsatisfiableSchemaError(Exception):
    """No instance this generator can build satisfies the schema (or the schema itself is invalid)."""


def instance_for(schema: Any, *, label: str = "") -> Any:
    """A deterministic instance valid for ``schema`` (as fastjsonschema checks it).

    Parameters
    ----------
    schema
        A JSON Schema (an object, or ``true``); local ``$ref`` are followed.
    label
        Words quoted in generated strings (e.g. the step's name), so answers of different steps differ.

    Raises
    ------
    UnsatisfiableSchemaError
        The schema does not compile, or no candidate satisfies it (e.g. ``false``, contradictory bounds, a ``pattern``
        too elaborate for the generator).
    """
    try:
        validate = _validator(json.dumps(schema, sort_keys=True))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, re.error, RecursionError) as exc:
        raise UnsatisfiableSchemaError(f"the schema does not compile: {_first_line(exc)}") from exc
    generator = _Generator(schema, label)
    try:
        for candidate in generator.candidates(schema, "", 0):
            if _valid(validate, candidate):
                return candidate
    except _BudgetSpentError as exc:
        raise UnsatisfiableSchemaError(
            f"the schema is too elaborate to answer (over {_BUDGET} sub-schemas tried)"
        ) from exc
    except RecursionError as exc:
        raise UnsatisfiableSchemaError("the schema is nested too deeply to answer") from exc
    raise UnsatisfiableSchemaError("no generated instance satisfies the schema")


@cache
def _validator(schema_json: str) -> Callable[[Any], Any]:
    compiled: Callable[[Any], Any] = fastjsonschema.compile(json.loads(schema_json))
    return compiled


def _valid(validate: Callable[[Any], Any], candidate: Any) -> bool:
    try:
        validate(candidate)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _BudgetSpentError(Exception):
    """Raised inside the generator when a schema's branches and nesting would take too long to try."""


class _Generator:
    """Candidates for a schema, most plausible first; :func:`instance_for` keeps the first one that validates."""

    def __init__(self, root: Any, label: str) -> None:
        self.root = root
        self.label = label
        self.budget = _BUDGET

    def candidates(self, schema: Any, name: str, depth: int) -> Iterator[Any]:
        # Branches times nesting can grow exponentially; a bounded number of sub-schema visits keeps a hostile schema
        # from hanging the run.
        self.budget -= 1
        if self.budget < 0:
            raise _BudgetSpentError
        if schema is True or schema == {}:
            yield self.text(name, {})
            return
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return
        schema = self.resolved(schema, depth)
        if "const" in schema:
            yield copy.deepcopy(schema["const"])
            return
        if isinstance(schema.get("enum"), list):
            yield from (copy.deepcopy(value) for value in schema["enum"])
            return
        branches = [
            branch for key in ("anyOf", "oneOf") if isinstance(schema.get(key), list) for branch in schema[key]
        ][:_MAX_BRANCHES]
        base = {key: value for key, value in schema.items() if key not in {"anyOf", "oneOf"}}
        if branches:
            for branch in branches:
                yield from self.candidates(_merged(base, self.resolved(branch, depth)), name, depth + 1)
            return
        for kind in self.types(schema):
            yield from self.of_type(kind, schema, name, depth)

    def resolved(self, schema: Any, depth: int) -> Any:
        """The schema with a local ``$ref`` and ``allOf`` folded in (the candidates are checked anyway)."""
        if not isinstance(schema, Mapping):
            return schema
        result = dict(schema)
        reference = result.pop("$ref", None)
        if isinstance(reference, str) and depth <= _MAX_DEPTH:
            result = _merged(self.resolved(_pointer(self.root, reference), depth + 1), result)
        for part in result.pop("allOf", None) or []:
            result = _merged(result, self.resolved(part, depth + 1))
        return result

    def types(self, schema: Mapping[str, Any]) -> list[str]:
        declared = schema.get("type")
        if isinstance(declared, str):
            return [declared]
        if isinstance(declared, list):
            return [kind for kind in _TYPE_ORDER if kind in declared]
        hints = {
            "object": ("properties", "required", "additionalProperties", "minProperties"),
            "array": ("items", "prefixItems", "minItems", "maxItems", "contains"),
            "string": ("minLength", "maxLength", "pattern", "format"),
            "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        }
        hinted = [kind for kind, keys in hints.items() if any(key in schema for key in keys)]
        return hinted or list(_TYPE_ORDER)

    def of_type(self, kind: str, schema: Mapping[str, Any], name: str, depth: int) -> Iterator[Any]:
        if kind == "object":
            yield from self.objects(schema, depth)
        elif kind == "array":
            yield from self.arrays(schema, name, depth)
        elif kind == "string":
            yield from self.strings(schema, name)
        elif kind in {"integer", "number"}:
            yield from _numbers(schema, integer=kind == "integer")
        elif kind == "boolean":
            yield from (True, False)
        elif kind == "null":
            yield None

    def first(self, schema: Any, name: str, depth: int, *, unlike: list[Any] | None = None) -> Any:
        """The first candidate that validates on its own (and is not in ``unlike``), else the first one (the whole
        answer is checked later)."""
        candidates = [
            candidate
            for candidate in _limited(self.candidates(schema, name, depth + 1), _MAX_CANDIDATES)
            if not unlike or candidate not in unlike
        ]
        validate = self.sub_validator(schema)
        for candidate in candidates:
            if validate is None or _valid(validate, candidate):
                return candidate
        return candidates[0] if candidates else None

    def sub_validator(self, schema: Any) -> Callable[[Any], Any] | None:
        """A validator for a part of the root schema (its ``$ref`` see the root's definitions), or None."""
        if not isinstance(schema, Mapping) or not isinstance(self.root, Mapping):
            return None
        definitions = {key: self.root[key] for key in _DEFINITIONS if key in self.root}
        try:
            return _validator(json.dumps({**definitions, **schema}, sort_keys=True))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, re.error, RecursionError):
            return None  # the whole answer is checked against the root schema anyway

    def objects(self, schema: Mapping[str, Any], depth: int) -> Iterator[dict[str, Any]]:
        given = schema.get("properties")
        properties: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        required = [key for key in schema.get("required") or [] if isinstance(key, str)]
        names = list(dict.fromkeys([*required, *properties]))
        for chosen in (names, required):
            value = {key: self.first(properties.get(key, True), key, depth) for key in chosen}
            extra = schema.get("additionalProperties", True)
            index = 0
            while len(value) < int(schema.get("minProperties") or 0) and extra is not False and index < 100:
                value.setdefault(f"{_TEXT}_{index}", self.first(extra, f"{_TEXT}_{index}", depth))
                index += 1
            yield value

    def arrays(self, schema: Mapping[str, Any], name: str, depth: int) -> Iterator[list[Any]]:
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems")
        count = max(low, 1) if high is None else min(max(low, 1), int(high))
        prefix = schema.get("prefixItems") or (schema["items"] if isinstance(schema.get("items"), list) else [])
        items = schema.get("items") if isinstance(schema.get("items"), Mapping | bool) else True
        if isinstance(schema.get("additionalItems"), Mapping | bool) and prefix:
            items = schema["additionalItems"]
        count = max(count, min(len(prefix), low)) if prefix else count
        value: list[Any] = []
        unique = bool(schema.get("uniqueItems"))
        for index in range(count):
            item = prefix[index] if index < len(prefix) else items
            value.append(self.first(item, f"{name} {index + 1}".strip(), depth, unlike=value if unique else None))
        if "contains" in schema and value:
            value[0] = self.first(schema["contains"], name, depth)
        yield value
        if low == 0:
            yield []

    def strings(self, schema: Mapping[str, Any], name: str) -> Iterator[str]:
        known = _FORMATS.get(str(schema.get("format")))
        if known is not None:
            yield known
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            yield from _matching(pattern, schema)
        yield self.text(name, schema)

    def text(self, name: str, schema: Mapping[str, Any]) -> str:
        words = " ".join(part for part in (_TEXT, self.label, name) if part)
        low, high = int(schema.get("minLength") or 0), schema.get("maxLength")
        while len(words) < low:
            words += f" {_TEXT}"
        return words if high is None else words[: int(high)]


def _limited(candidates: Iterator[Any], limit: int) -> Iterator[Any]:
    for index, candidate in enumerate(candidates):
        if index >= limit:
            return
        yield candidate


def _merged(base: Mapping[str, Any], extra: Any) -> dict[str, Any]:
    if not isinstance(extra, Mapping):
        return dict(base)
    merged = {**extra, **base}
    if isinstance(base.get("properties"), Mapping) and isinstance(extra.get("properties"), Mapping):
        merged["properties"] = {**extra["properties"], **base["properties"]}
    required = [*(extra.get("required") or []), *(base.get("required") or [])]
    if required:
        merged["required"] = list(dict.fromkeys(required))
    return merged


def _pointer(root: Any, reference: str) -> Any:
    if not reference.startswith("#"):
        return {}
    target = root
    for part in [part for part in reference[1:].split("/") if part]:
        key = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            return {}
    return target


def _numbers(schema: Mapping[str, Any], *, integer: bool) -> Iterator[int | float]:
    low, high = _bound(schema, "minimum", "exclusiveMinimum"), _bound(schema, "maximum", "exclusiveMaximum")
    step = schema.get("multipleOf")
    step = step if isinstance(step, int | float) and not isinstance(step, bool) and step > 0 else None
    if integer:
        step = 1 if step is None else (step if float(step).is_integer() else None) or 1
    start = low[0] if low is not None else (min(1, high[0]) if high is not None else 1)
    for candidate in _around(start, low, high, step):
        yield int(candidate) if integer else candidate


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[float, bool] | None:
    given = schema.get(exclusive)
    if isinstance(given, int | float) and not isinstance(given, bool):
        return float(given), True
    # Draft 4 spelled exclusivity as a boolean beside minimum/maximum.
    value = schema.get(inclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), given is True
    return None


def _around(
    start: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None, step: float | None
) -> Iterator[float]:
    def inside(value: float) -> bool:
        above = low is None or (value > low[0] if low[1] else value >= low[0])
        below = high is None or (value < high[0] if high[1] else value <= high[0])
        return above and below

    unit = step or 1
    first = math.ceil(start / unit) * unit if step is not None else start
    # Upwards first; downwards too, for a range with only an upper bound.
    candidates = [first + k * unit for k in range(_MAX_CANDIDATES)] + [first - k * unit for k in range(1, 4)]
    if step is None and low is not None and high is not None:
        middle = (low[0] + high[0]) / 2
        candidates = [middle, *(middle + (high[0] - middle) * k / _MAX_CANDIDATES for k in range(1, 6)), *candidates]
    yield from (value for value in candidates if inside(value))


def _matching(pattern: str, schema: Mapping[str, Any]) -> Iterator[str]:
    """A short string ``re.search`` finds ``pattern`` in, built from the pattern's parse (simple patterns only)."""
    try:
        parsed = sre_parse.parse(pattern)
        text = _build(parsed)
    except (re.error, ValueError, TypeError, RecursionError, OverflowError):
        return
    low = int(schema.get("minLength") or 0)
    anchored_end = pattern.endswith("$")
    if len(text) < low and not anchored_end:
        text += "x" * (low - len(text))
    yield text


def _build(parsed: Any) -> str:
    out: list[str] = []
    for op, argument in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(argument))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(argument) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_from_class(argument))
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            low, _high, item = argument
            out.append(_build(item) * max(int(low), 0))
        elif name == "SUBPATTERN":
            out.append(_build(argument[-1]))
        elif name == "ATOMIC_GROUP":
            out.append(_build(argument))
        elif name == "BRANCH":
            out.append(_build(argument[1][0]))
        elif name == "CATEGORY":
            out.append(_from_category(str(argument)))
        elif name in {"AT", "ASSERT", "ASSERT_NOT"}:
            continue
        else:
            raise ValueError(f"unsupported pattern element {name}")
    return "".join(out)


def _from_class(items: Any) -> str:
    negated = any(str(op) == "NEGATE" for op, _ in items)
    if negated:
        excluded = {chr(argument) for op, argument in items if str(op) == "LITERAL"}
        return next(char for char in "azAZ09_-" if char not in excluded)
    for op, argument in items:
        name = str(op)
        if name == "LITERAL":
            return chr(argument)
        if name == "RANGE":
            return chr(argument[0])
        if name == "CATEGORY":
            return _from_category(str(argument))
    raise ValueError("empty character class")


def _from_category(category: str) -> str:
    return {
        "CATEGORY_DIGIT": "0",
        "CATEGORY_NOT_DIGIT": "a",
        "CATEGORY_SPACE": " ",
        "CATEGORY_NOT_SPACE": "a",
        "CATEGORY_WORD": "a",
        "CATEGORY_NOT_WORD": "-",
    }.get(category, "a")


SchemaChooser = Callable[[str, Any], "tuple[str, Any] | None"]
"""``(state_name, request_body) -> (label, schema)`` for a request whose answer must satisfy ``schema``, else None."""


class SchemaAnswers(JsonAnswers):
    """The stand-in, answering a request its ``chooser`` recognises with :func:`instance_for` the chosen schema.

    Scripted answers, faults, ``rejected`` markers and marker answers (:class:`JsonAnswers`) come first and are left
    as they are, so a scripted invalid answer still drives a re-prompt loop; only the stand-in's own placeholder text
    is replaced. Still SIMULATED: the JSON is generated from the schema, no model is called.
    """

    def __init__(self, chooser: SchemaChooser, answers: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(answers or {}, **kwargs)
        self.chooser = chooser

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        answer = super().invoke_model(model_id, body, state_name=state_name, attempt=attempt)
        chosen = self.chooser(state_name, body)
        if chosen is None:
            return answer
        label, schema = chosen
        return dict(replace_placeholder(answer, json.dumps(instance_for(schema, label=label))))
