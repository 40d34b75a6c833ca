"""The SIMULATED Bedrock's JSON answers (tools/offline/schema_answers.py): every instance it generates passes the
project's own post-process check (companion.steps.json_answers.validate_json), and a schema nothing satisfies is a
named error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sfn_offline.schema_answers import SchemaAnswers, UnsatisfiableSchemaError, instance_for

from companion.chains import packaged_chain
from companion.steps.json_answers import validate_json
from tools.chain.answers import chooser_for, packaged_chains

CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

TRICKY: list[dict[str, Any]] = [
    {"type": "object", "required": ["a"], "additionalProperties": False, "properties": {"a": {"const": [1, "x"]}}},
    {"type": "array", "minItems": 3, "maxItems": 3, "uniqueItems": True, "items": {"type": "integer", "maximum": 2}},
    {"type": "array", "uniqueItems": True, "minItems": 2, "items": {"type": "boolean"}},
    {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 5},
    {"type": "integer", "multipleOf": 7, "minimum": 10},
    {"type": "number", "minimum": 0.25, "maximum": 0.5},
    {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    {"type": "string", "minLength": 30, "maxLength": 31},
    {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"},
    {"type": "string", "pattern": r"^(foo|bar)+\d$"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": ["null", "string"], "maxLength": 0},
    {"anyOf": [{"type": "integer", "minimum": 5, "maximum": 4}, {"type": "string", "enum": ["ok"]}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}, {"type": "string"}]},
    {"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"a": {"type": "integer", "minimum": 2}}}]},
    {"type": "object", "minProperties": 3, "properties": {"a": {"type": "integer"}}},
    {"type": "array", "items": [{"type": "integer"}, {"type": "string"}], "minItems": 2},
    {"type": "array", "contains": {"type": "integer", "minimum": 9}, "items": {"type": ["integer", "string"]}},
    {"not": {"type": "string"}},
    {
        "$ref": "#/definitions/node",
        "definitions": {
            "leaf": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "node": {
                "type": "object",
                "required": ["name", "children"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/leaf"}},
                },
            },
        },
    },
    {
        "$defs": {"tone": {"enum": ["a", "b"]}},
        "type": "object",
        "required": ["t"],
        "properties": {"t": {"$ref": "#/$defs/tone"}},
    },
]


def step_schemas() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{chain.name}/{step.name}", step.output.json_schema)
        for chain in packaged_chains()
        for step in chain.resolved_steps()
        if step.output.json_schema is not None
    ]


@pytest.mark.parametrize(("step", "schema"), step_schemas(), ids=[name for name, _ in step_schemas()])
def test_every_packaged_step_schema_gets_a_valid_answer(step: str, schema: dict[str, Any]) -> None:
    # Given a JSON step of a packaged chain
    # When the stand-in's generator answers for its schema
    answer = instance_for(schema, label=step)
    # Then post-process would accept it
    validate_json(answer, schema)


@pytest.mark.parametrize("schema", TRICKY, ids=range(len(TRICKY)))
def test_tricky_schemas_get_valid_answers(schema: dict[str, Any]) -> None:
    # Given a schema with bounds, patterns, formats, branches, references or tuples
    # When an instance is generated, twice
    answer = instance_for(schema)
    # Then post-process accepts it, and the same schema always gets the same answer
    validate_json(answer, schema)
    assert instance_for(schema) == answer


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 5, "maximum": 4},
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        {"type": "object", "properties": 1},
        {"type": "array", "minItems": 3, "uniqueItems": True, "items": {"enum": [1, 2]}},
    ],
)
def test_an_unsatisfiable_or_invalid_schema_is_a_named_error(schema: dict[str, Any]) -> None:
    # Given a schema no instance satisfies, or that does not compile
    # When an instance is asked for
    # Then the error is named, never a wrong answer
    with pytest.raises(UnsatisfiableSchemaError):
        instance_for(schema)


_SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "minLength": 12},
        {"type": "integer", "minimum": -3, "maximum": 3},
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "boolean"},
        {"type": "null"},
        {"enum": ["x", 2, None]},
        {"type": "string", "format": "uuid"},
    ]
)


def _compound(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), children, min_size=1, max_size=4).flatmap(
        lambda properties: st.builds(
            lambda required, closed: {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": not closed,
            },
            st.lists(st.sampled_from(sorted(properties)), unique=True),
            st.booleans(),
        )
    )
    arrays = st.builds(
        lambda items, low, extra: {"type": "array", "items": items, "minItems": low, "maxItems": low + extra},
        children,
        st.integers(0, 3),
        st.integers(0, 2),
    )
    branches = st.lists(children, min_size=1, max_size=3).map(lambda options: {"anyOf": options})
    return objects | arrays | branches


@settings(max_examples=150, deadline=None)
@given(st.recursive(_SCALARS, _compound, max_leaves=12))
def test_generated_schemas_get_valid_answers(schema: dict[str, Any]) -> None:
    # Given any schema built from objects, arrays, branches and bounded scalars
    # When an instance is generated
    answer = instance_for(schema)
    # Then post-process accepts it
    validate_json(answer, schema)


def test_the_chooser_finds_the_step_by_state_name_or_by_its_prompt() -> None:
    # Given the packaged outline-draft-critique chain
    choose = chooser_for([packaged_chain("outline-draft-critique")])
    outline_request = {
        "system": "You plan articles. Answer with JSON only.",
        "messages": [
            {
                "role": "user",
                "content": "Write an outline for a short article about caching for testers. Answer with a JSON object: "
                '{"title": string, "sections": [string, ...]} with 3 to 6 sections.',
            }
        ],
    }
    # When requests are matched
    by_prompt = choose("Invoke Model Inline", outline_request)
    by_state = choose("Invoke critique", {"prompt": "anything"})
    text_step = choose("Invoke Model Inline", {"messages": [{"role": "user", "content": "Write the article"}]})
    # Then the JSON steps are found and a text step is not
    assert by_prompt is not None
    assert by_prompt[0] == "outline"
    assert by_state is not None
    assert by_state[0] == "critique"
    assert text_step is None


def test_scripted_invalid_answers_are_left_as_they_are_so_the_reprompt_loop_still_runs() -> None:
    # Given the schema-answering stand-in with a scripted invalid first answer for a state
    standin = SchemaAnswers(lambda _state, _body: ("step", {"type": "object", "required": ["a"]}))
    scripted = {"content": [{"type": "text", "text": "not JSON at all"}], "stop_reason": "end_turn"}
    standin.script("Invoke Model Inline", [{"Return": scripted}])
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Answer as JSON"}],
    }
    # When the state is called twice
    first = standin.invoke_model(CLAUDE, body, state_name="Invoke Model Inline", attempt=0)
    second = standin.invoke_model(CLAUDE, body, state_name="Invoke Model Inline", attempt=1)
    # Then the script wins the first time and the generated JSON answers the second, in the family's shape
    assert first["content"][0]["text"] == "not JSON at all"
    assert json.loads(second["content"][0]["text"]) == {"a": "simulated step a"}
    assert second["stop_reason"] == "end_turn"
