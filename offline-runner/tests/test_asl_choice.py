"""Choice rules: comparison operators, their ...Path forms, IsPresent/IsNull, StringMatches, And/Or/Not, Default."""

from __future__ import annotations

from typing import Any

import pytest

from sfn_offline.engine import run_definition


def choose(rule: dict[str, Any], document: Any, *, default: bool = True) -> Any:
    """A Choice with ``rule`` leading to "Matched" and (optionally) a Default "Unmatched"; return the execution."""
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": "Matched"}]}
    if default:
        choice["Default"] = "Unmatched"
    definition = {
        "StartAt": "Decide",
        "States": {
            "Decide": choice,
            "Matched": {"Type": "Pass", "Result": "matched", "End": True},
            "Unmatched": {"Type": "Pass", "Result": "unmatched", "End": True},
        },
    }
    return run_definition(definition, document)


DOCUMENT = {
    "name": "ada",
    "other_name": "ada",
    "count": 12,
    "limit": 10,
    "enabled": True,
    "nothing": None,
    "file": "report-2024.json",
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.name", "StringEquals": "ada"}, "matched"),
        ({"Variable": "$.name", "StringEquals": "bob"}, "unmatched"),
        ({"Variable": "$.name", "StringEqualsPath": "$.other_name"}, "matched"),
        ({"Variable": "$.name", "StringLessThan": "b"}, "matched"),
        ({"Variable": "$.count", "NumericGreaterThan": 10}, "matched"),
        ({"Variable": "$.count", "NumericGreaterThanPath": "$.limit"}, "matched"),
        ({"Variable": "$.limit", "NumericGreaterThanPath": "$.count"}, "unmatched"),
        ({"Variable": "$.count", "NumericLessThanEquals": 12}, "matched"),
        ({"Variable": "$.enabled", "BooleanEquals": True}, "matched"),
        ({"Variable": "$.enabled", "BooleanEquals": False}, "unmatched"),
        ({"Variable": "$.missing", "IsPresent": False}, "matched"),
        ({"Variable": "$.name", "IsPresent": True}, "matched"),
        ({"Variable": "$.nothing", "IsNull": True}, "matched"),
        ({"Variable": "$.name", "IsNull": True}, "unmatched"),
        ({"Variable": "$.name", "IsString": True}, "matched"),
        ({"Variable": "$.count", "IsNumeric": True}, "matched"),
        ({"Variable": "$.file", "StringMatches": "report-*.json"}, "matched"),
        ({"Variable": "$.file", "StringMatches": "*.csv"}, "unmatched"),
        (
            {
                "And": [
                    {"Variable": "$.count", "NumericGreaterThan": 10},
                    {"Not": {"Variable": "$.name", "StringEquals": "bob"}},
                ]
            },
            "matched",
        ),
        (
            {"Or": [{"Variable": "$.count", "NumericLessThan": 0}, {"Variable": "$.enabled", "BooleanEquals": False}]},
            "unmatched",
        ),
    ],
)
def test_rule(rule: dict[str, Any], expected: str) -> None:
    result = choose(rule, DOCUMENT)
    assert (result.status, result.output) == ("SUCCEEDED", expected)


def test_choice_passes_its_input_through_unchanged() -> None:
    definition = {
        "StartAt": "Decide",
        "States": {
            "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}]},
            "Done": {"Type": "Succeed"},
        },
    }
    result = run_definition(definition, {"n": 1, "keep": "me"})
    assert result.output == {"n": 1, "keep": "me"}


def test_no_match_without_default_fails_with_no_choice_matched() -> None:
    result = choose({"Variable": "$.name", "StringEquals": "bob"}, DOCUMENT, default=False)
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")


@pytest.mark.xfail(
    strict=True,
    reason="moto 5.2.5 evaluates a comparison on an absent Variable as false (takes the Default); "
    "AWS fails the execution with States.Runtime (invalid path)",
)
def test_comparing_a_missing_variable_fails_the_execution() -> None:
    # A comparison on an absent path is a runtime error on AWS (guard with IsPresent)
    result = choose({"Variable": "$.missing", "StringEquals": "x"}, DOCUMENT)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
