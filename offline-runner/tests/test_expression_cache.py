"""The expression cache: moto's composed JSONata programs give what they gave parsed whole, with their data declarations
read by json and the rest parsed once; JSONPath texts parsed once."""

from __future__ import annotations

import json
from typing import Any

import jsonata
import pytest
from moto.stepfunctions.parser.asl.component.intrinsic.jsonata import _DECLARATION_BY_VARIABLE_REFERENCE
from moto.stepfunctions.parser.asl.jsonata.jsonata import (
    compose_jsonata_expression,
    encode_jsonata_variable_declarations,
)

from sfn_offline import expression_cache
from sfn_offline.moto_engine import jsonata_hash

STATES = {
    "input": {"n": 2, "ratio": 2.0, "big": 12345678901234567890, "none": None, "rows": [[1, 2], [3]], "empty": []},
    "context": {"Execution": {"Name": "exec-1"}},
}


def program(expression: str, **variables: Any) -> str:
    """A program as moto composes it: intrinsic functions the expression uses, then $states, then the variables."""
    functions = "".join(text for name, text in _DECLARATION_BY_VARIABLE_REFERENCE.items() if name in expression)
    declarations = [encode_jsonata_variable_declarations({"$states": STATES})]
    declarations.append(encode_jsonata_variable_declarations({f"${name}": value for name, value in variables.items()}))
    return compose_jsonata_expression(expression, [functions, *declarations])


def uncached(text: str) -> Any:
    whole = jsonata.Jsonata(text)
    whole.register_lambda("hash", jsonata_hash)
    return whole.evaluate(None)


def outcome(evaluate: Any, text: str) -> tuple[str, Any]:
    try:
        return ("result", json.dumps(evaluate(text), sort_keys=True))
    except Exception as exc:  # noqa: BLE001  (both ways must fail alike)
        return ("error", str(exc))


@pytest.mark.parametrize(
    "text",
    [
        program("$states.input.n + 1"),
        program("$states.input.ratio"),  # JSONata reads 2.0 as the integer 2
        program("$states.input.big"),  # ... and a large integer through a float
        program("[$exists($states.input.none), $type($states.input.none), $states.input.none]"),
        program("$states.input.rows[0]"),
        program("$count($states.input.rows)"),
        program("$states.input.empty"),
        program("$states.context.Execution.Name & '/' & $name", name="line one\nline two"),
        program("$name", name='say "hi"'),  # moto does not escape a string variable: a syntax error either way
        program("$name", name="back\\slash"),  # ... nor its backslashes: an escape either way
        program("$count($x) + $x[1].y", x=[{"y": 1}, {"y": 2}]),
        program("$partition([1, 2, 3], 2)"),
        program("$range(0, 4, 2)"),
        program("$partition", partition=5),  # a variable named like an intrinsic function shadows it
        program("$hash('a', 'SHA-256')"),
        program("$nope("),
        program("$error('stopped')"),
        "$type(" + program("$states.input") + ")",
        "$exists(" + program("$states.input.missing") + ")",
    ],
)
def test_a_program_gives_what_it_gives_parsed_whole(text: str) -> None:
    # Given a program as moto composes it
    # When it is evaluated through the cache and parsed whole
    # Then both give the same result, or fail with the same message
    assert outcome(lambda t: expression_cache.evaluate_jsonata(t, {"hash": jsonata_hash}), text) == outcome(
        uncached, text
    )


def test_the_data_declarations_are_read_and_the_rest_repeats() -> None:
    # Given two evaluations of one expression on different data
    first = expression_cache.split_program(program("$states.input.n * $k", k=3))
    second = expression_cache.split_program(program("$states.input.n * $k", k=4))
    # Then the text left to parse is the same and the data are values
    assert first[0] == second[0] == "($states.input.n * $k)"
    assert first[1]["k"] == 3
    assert second[1]["k"] == 4
    assert first[1]["states"]["input"]["n"] == 2


def test_a_variable_named_like_a_kept_function_stays_in_the_text() -> None:
    # Given a program that declares $partition and also a variable of that name
    text, values = expression_cache.split_program(program("$partition", partition=5))
    # Then that variable (and what follows it) is left for JSONata to read, in order
    assert "partition" not in values
    assert "$partition:=5;" in text


def test_a_jsonpath_is_parsed_once() -> None:
    # Given one path text asked for twice
    # Then the same parsed path answers, and it finds as jsonpath_ng does
    assert expression_cache.jsonpath("$.a[0].b") is expression_cache.jsonpath("$.a[0].b")
    assert [match.value for match in expression_cache.jsonpath("$.a[0].b").find({"a": [{"b": 7}]})] == [7]
