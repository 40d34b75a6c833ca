"""Bounded JSON parsing: every input a result or JsonLimitError (a JSONDecodeError), never a crash."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion import safejson
from companion.causes import public_cause


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 100_000, "nesting deeper than 100"),
        ("[" * 150 + "]" * 150, "nesting deeper than 100"),
        ('{"a": ' * 101 + "1" + "}" * 101, "nesting deeper than 100"),
        ("9" * 5000, "5000 digits"),
        ("1e999", "out of range"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
    ],
)
def test_limits_raise_a_decode_error_that_says_which(text: str, problem: str) -> None:
    # Given text that Python's json would crash on, or accept although nothing downstream would
    # When parsed, Then a JSONDecodeError subclass names the limit
    with pytest.raises(safejson.JsonLimitError, match=problem) as caught:
        safejson.loads(text)
    assert isinstance(caught.value, json.JSONDecodeError)


def test_within_the_limits_it_is_json_loads() -> None:
    text = json.dumps({"a": [[1, 2.5, "x", None, True]] * 3, "deep": [[[[[]]]]]})
    assert safejson.loads(text) == json.loads(text)
    assert safejson.loads(text.encode()) == json.loads(text)
    assert safejson.raw_decode("prose [1, 2] more", 6) == ([1, 2], 12)


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_decode_error(text: str) -> None:
    with contextlib.suppress(json.JSONDecodeError):
        safejson.loads(text)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": [math.nan]}, "a.0: nan"),
        ({"n": 10**150}, "n: a number with more than 100 digits"),
        ([[[]]], None),
        ({"deep": json.loads("[" * 120 + "]" * 120)}, "nested deeper than 100"),
        ({"s": {1, 2}}, "a set is not a JSON value"),
    ],
)
def test_parsed_values_are_checked_the_same_way(value: object, problem: str | None) -> None:
    found = safejson.value_problem(value)
    assert found == problem if problem is None else problem in (found or "")


def test_causes_keep_the_name_and_message_and_drop_stack_traces() -> None:
    # Given a Lambda error document, wrapped in a chain failure record
    lambda_cause = json.dumps(
        {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ['  File "/var/task/app.py", line 3']}
    )
    wrapped = json.dumps({"Error": "ValueError", "Cause": lambda_cause})
    # When made public, Then name and message stay and no file or line does
    cleaned = public_cause(wrapped) or ""
    assert "boom" in cleaned
    assert "ValueError" in cleaned
    assert "/var/task" not in cleaned
    assert "stackTrace" not in cleaned
    assert public_cause('oops\nTraceback (most recent call last):\n  File "/x.py", line 1') == "oops"
    assert public_cause(None) is None
