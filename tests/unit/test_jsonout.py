from __future__ import annotations

import contextlib

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
        ({"type": "string", "pattern": "(unclosed"}, "not a valid JSON Schema"),
        ({"$ref": "https://example.com/schema.json"}, "local \\$ref"),
        ({"properties": {"a": {"$ref": "file:///etc/passwd"}}}, "local \\$ref"),
    ],
)
def test_every_broken_schema_is_the_named_error(schema: dict[str, object], reason: str) -> None:
    # A schema that fastjsonschema chokes on, or that would make it fetch a remote document, never escapes as a bare
    # exception nor reaches the network.
    with pytest.raises(SchemaDefinitionError, match=reason):
        validate_json({}, schema)
