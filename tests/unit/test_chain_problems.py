"""companion.chains' problems with their field paths apart (ChainDefinitionError.located), structural and static
problems in one pass, and input_problems."""

from __future__ import annotations

from typing import Any

import pytest

from companion.chains import ChainProblem, input_problems, load_chain, packaged_chain
from companion.errors import ChainDefinitionError

NOVA = "us.amazon.nova-lite-v1:0"


def problems_of(definition: dict[str, Any]) -> ChainDefinitionError:
    with pytest.raises(ChainDefinitionError) as caught:
        load_chain(definition)
    return caught.value


def test_each_problem_has_its_field_path_and_the_text_stays_as_it_was() -> None:
    # Given a chain whose second step refers to itself and whose third repeats the first's name
    error = problems_of(
        {
            "name": "twice",
            "steps": [
                {"name": "a", "model_id": NOVA, "prompt": "one"},
                {"name": "b", "model_id": NOVA, "prompt": "{{ steps.b.text }}"},
                {"name": "a", "model_id": NOVA, "prompt": "three"},
            ],
        }
    )
    # Then located holds (path, message) and problems the "path: message" text other callers read
    assert error.located == [
        ("steps[1].prompt", "refers to steps.b, which is this step itself"),
        ("steps[2].name", "'a' is already the name of steps[0]"),
    ]
    assert error.problems == [f"{path}: {message}" for path, message in error.located]


def test_a_wrong_type_does_not_hide_the_static_problems_of_the_rest() -> None:
    # Given a wrong type in one step and a reference to a later step in another
    error = problems_of(
        {
            "name": "both",
            "steps": [
                {"name": "a", "model_id": NOVA, "prompt": "{{ steps.b.text }}"},
                {"name": "b", "model_id": NOVA, "prompt": "x", "inference": {"temperature": "hot"}},
            ],
        }
    )
    # Then both are reported, the structural one first
    assert [path for path, _ in error.located] == ["steps[1].inference.temperature", "steps[0].prompt"]


def test_a_wrong_required_field_reports_only_the_structure() -> None:
    # Given a step whose prompt has the wrong type (it cannot be left out to check the rest)
    error = problems_of({"name": "bad", "steps": [{"name": "a", "model_id": NOVA, "prompt": 3}]})
    # Then the structural problem alone is reported
    assert [path for path, _ in error.located] == ["steps[0].prompt"]


def test_a_problem_without_a_place_is_the_whole_definition() -> None:
    # Given a definition that is a list, not an object
    with pytest.raises(ChainDefinitionError) as caught:
        load_chain("- 1\n")
    error = caught.value
    # Then its path is empty and its text says (root)
    assert error.located == [ChainProblem("", "expected an object, got an array")]
    assert error.problems == ["(root): expected an object, got an array"]


def test_input_problems_name_every_missing_input_variable_where_it_is_used() -> None:
    # Given the packaged outline-draft-critique chain and an input with only the topic
    chain = packaged_chain("outline-draft-critique")
    # When its input is checked
    found = input_problems(chain, {"topic": "caching"})
    # Then each template using input.audience is named; the topic is there
    assert [path for path, _ in found] == [
        "steps[0].prompt.messages[0].content",
        "steps[1].prompt.messages[0].content",
        "steps[2].prompt",
    ]
    assert all("input.audience" in message for _, message in found)
    assert input_problems(chain, {"topic": "caching", "audience": "testers"}) == []


def test_a_wrong_field_hides_only_the_problems_of_its_own_step() -> None:
    # Given eleven steps: the second has a wrong type, the eleventh refers to itself
    steps: list[dict[str, Any]] = [{"name": f"s{i}", "model_id": NOVA, "prompt": "x"} for i in range(11)]
    steps[1]["inference"] = {"max_tokens": "many"}
    steps[10]["prompt"] = "{{ steps.s10.text }}"
    error = problems_of({"name": "eleven", "steps": steps})
    # Then the eleventh step's problem is still reported (steps[10] is not inside steps[1])
    assert [path for path, _ in error.located] == ["steps[1].inference.max_tokens", "steps[10].prompt"]
