"""Hyperparameter checks: the names, types and ranges a base model documents, normalized to Bedrock's strings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from companion.codec._text import quote
from companion.errors import HyperparameterValidationError
from companion.finetune.catalog import BaseModelSpec, Hyperparameter

_INTEGER = re.compile(r"[+-]?\d{1,18}")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_MAX_NUMBER_TEXT = 40


def validate_hyperparameters(model: BaseModelSpec, given: Mapping[str, str | int | float]) -> dict[str, str]:
    """Check every hyperparameter against ``model``'s table entry and return them as Bedrock's string map.

    Numbers given as JSON numbers become strings; every value is written in plain decimal notation (``1e-5`` becomes
    ``"0.00001"``), a form any parser reads the same way.

    Raises
    ------
    HyperparameterValidationError
        Listing every unknown name, value that is not a number (or not a whole number where one is needed), and
        value out of range, each with what is allowed.
    """
    problems: list[str] = []
    normalized: dict[str, str] = {}
    for name, value in given.items():
        spec = model.hyperparameters.get(name)
        if spec is None:
            problems.append(_unknown_name(name, model))
            continue
        try:
            normalized[name] = _normalize(value, spec)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise HyperparameterValidationError(problems, model=model.name)
    return normalized


def _unknown_name(name: str, model: BaseModelSpec) -> str:
    allowed = ", ".join(model.hyperparameters)
    by_case = {known.lower(): known for known in model.hyperparameters}
    hint = f" (did you mean {by_case[name.lower()]!r}?)" if name.lower() in by_case else ""
    return f"unknown hyperparameter {quote(name, 40)}{hint}; {model.name} accepts {allowed}"


def _normalize(value: str | int | float, spec: Hyperparameter) -> str:
    number = _parse(value, integer=spec.integer)
    if not spec.minimum <= number <= spec.maximum:
        raise ValueError(
            f"{_plain(number)} is out of range: allowed from {_plain(spec.minimum)} to {_plain(spec.maximum)}"
        )
    return _plain(number)


def _parse(value: str | int | float, *, integer: bool) -> Decimal:
    # bool is an int subclass, and True would otherwise pass as 1.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")  # noqa: TRY004  (a value problem, reported as such)
    kind = "a whole number" if integer else "a number"
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if integer:
            raise ValueError(f"expected {kind}, got {value!r}")
        text = repr(value)
    else:
        text = value.strip()
    pattern = _INTEGER if integer else _NUMBER
    if len(text) > _MAX_NUMBER_TEXT or pattern.fullmatch(text) is None:
        raise ValueError(f"expected {kind}, got {quote(value, 40)}")
    # The patterns admit only finite numbers that Decimal parses: no nan, inf or underscores.
    return Decimal(text)


def _plain(number: Decimal) -> str:
    """``Decimal`` in plain notation without trailing zeros: 1E-5 -> '0.00001', 2.50 -> '2.5', 1E+2 -> '100'."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text
