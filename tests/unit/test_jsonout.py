from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.errors import ModelOutputNotJsonError, ModelOutputSchemaError, SchemaDefinitionError
from companion.steps.json_answers import compile_schema, extract_json, validate_json

SCHEMA = {
    "type": "object",
    "required": ["title", "points"],
    "properties": {"title": {"type": "string"}, "points": {"type": "array", "minItems": 2}},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]\n", [1, 2]),
        ('Sure!\n```json\n{"a": 1}\n```\nAnything else?', {"a": 1}),
        ('```\n{"a": 2}\n```', {"a": 2}),
        ('Here you go: {"a": {"b": [1]}} -- hope it helps {not json}', {"a": {"b": [1]}}),
        ('Set {x} is not JSON but {"a": 3} is', {"a": 3}),
        ("42", 42),
    ],
)
def test_json_is_found_in_prose_and_fences(text: str, expected: object) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "no json at all", "{'single': 'quotes'}", '{"a": 1'])
def test_an_answer_without_json_gets_a_message_the_model_can_act_on(text: str | None) -> None:
    with pytest.raises(ModelOutputNotJsonError, match="Reply with only the JSON value"):
        extract_json(text)


def test_schema_violations_name_the_rule() -> None:
    # Given an answer missing a required property
    # When validated
    # Then the error says which rule failed, for the re-prompt
    with pytest.raises(ModelOutputSchemaError, match=r"points.*Reply with only the corrected JSON"):
        validate_json({"title": "x"}, SCHEMA)


def test_a_valid_answer_passes() -> None:
    validate_json({"title": "x", "points": ["a", "b"]}, SCHEMA)


def test_a_broken_schema_is_the_step_authors_error_not_the_models() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"output\.schema"):
        validate_json({}, {"type": "not-a-type"})


@given(st.text(max_size=300))
def test_arbitrary_text_yields_json_or_the_named_error(text: str) -> None:
    with contextlib.suppress(ModelOutputNotJsonError):
        extract_json(text)


def test_compile_schema_returns_a_reusable_validator_and_names_a_bad_schema() -> None:
    # Given a valid and an invalid schema
    # When compiled, then the valid one validates and the invalid one is a SchemaDefinitionError
    compile_schema({"type": "integer"})(3)
    with pytest.raises(SchemaDefinitionError, match=r"^output\.schema is not a valid JSON Schema"):
        compile_schema({"type": "nope"})


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"properties": 1}, "not a valid JSON Schema"),
        ({"type": "string", "pattern": "(unclosed"}, "linear-time regular expression engine"),
        ({"type": "string", "pattern": "(a)\\1"}, "backreferences and lookaround are not supported"),
        ({"type": "string", "pattern": "(?=a)a"}, "linear-time"),
        ({"type": "object", "patternProperties": {"(?<=x)y": {}}}, "linear-time"),
        ({"$ref": "#"}, "recursive"),
        ({"properties": {"a": {"$ref": "#/properties"}}}, "recursive"),
        ({"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}}, "recursive"),
        ({"$ref": "#/definitions/missing"}, "points nowhere"),
        ({"type": "string", "maxLength": float("nan")}, "nan is not a JSON number"),
        ({"type": "array", "items": json.loads("[" * 40 + "{}" + "]" * 40)}, "nested deeper than 32"),
        ({"enum": list(range(10_000))}, "at most 5000"),
        ({"$ref": "https://example.com/schema.json"}, "local \\$ref"),
        ({"properties": {"a": {"$ref": "file:///etc/passwd"}}}, "local \\$ref"),
    ],
)
def test_every_broken_or_hostile_schema_is_the_named_error(schema: dict[str, object], reason: str) -> None:
    # A schema that fastjsonschema chokes on, or that would make it fetch a remote document, never escapes as a bare
    # exception nor reaches the network.
    with pytest.raises(SchemaDefinitionError, match=reason):
        validate_json({}, schema)


@pytest.mark.parametrize(
    ("schema", "answer"),
    [
        ({"type": "string", "pattern": "^(a+)+$"}, "a" * 50_000 + "!"),
        ({"type": "string", "pattern": "^(a|aa)+$"}, "a" * 50_000 + "!"),
        ({"type": "object", "patternProperties": {"^(x+x+)+y$": {}}, "additionalProperties": False}, {"x" * 50_000: 1}),
    ],
)
def test_catastrophic_patterns_run_in_linear_time(schema: dict[str, object], answer: object) -> None:
    # Given a pattern that takes a backtracking engine exponential time on this answer
    # When validated (the pattern runs on RE2), Then the verdict comes, here a mismatch the model can act on
    with pytest.raises(ModelOutputSchemaError):
        validate_json(answer, schema)


def test_a_validation_over_its_time_budget_is_a_schema_error_the_model_can_act_on() -> None:
    # Given a schema whose check is slow on a large answer (many alternatives for each of many items)
    schema = {"type": "array", "items": {"anyOf": [{"type": "string", "pattern": f"^{i}x$"} for i in range(200)]}}
    answer = ["199x"] * 50_000  # each item matches only the last alternative
    # When validated with a tiny budget, Then it stops with a ModelOutputSchemaError instead of running on
    with pytest.raises(ModelOutputSchemaError, match=r"within 0\.01 seconds"):
        validate_json(answer, schema, time_budget_seconds=0.01)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("[" * 990, "nesting deeper than 100|Expecting value"),  # unclosed: which one shows depends on Python
        ("[" * 990 + "]" * 990, "nesting deeper than 100"),
        ("[" * 100_000 + "]" * 100_000, "nesting deeper than 100"),
        ('{"n": ' + "9" * 5000 + "}", "digits"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ("x" * (2 * 1024 * 1024), "characters long"),
    ],
)
def test_crafted_answers_are_model_output_errors(answer: str, reason: str) -> None:
    # Given an answer built to crash a parser; When JSON is extracted, Then the re-prompt loop's error names why
    with pytest.raises(ModelOutputNotJsonError, match=reason):
        extract_json(answer)
