from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.chains import (
    MAX_PARALLEL_STEPS,
    MAX_PROMPT_CHARS,
    MAX_STEPS,
    Chain,
    MapSteps,
    ParallelSteps,
    ResolvedStep,
    SingleStep,
    execution_input,
    load_chain,
)
from companion.codec.models import ModelFamily
from companion.errors import ChainDefinitionError
from companion.steps.postprocess import PostprocessResultInput
from companion.steps.preprocess import PreprocessPromptInput
from companion.steps.templating import render_all

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "layers" / "runtime" / "companion" / "chains" / "library"
CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA = "us.amazon.nova-lite-v1:0"
LLAMA = "us.meta.llama3-1-8b-instruct-v1:0"


def step(name: str, prompt: Any = "Say hi", **fields: Any) -> dict[str, Any]:
    return {"name": name, "model_id": NOVA, "prompt": prompt, **fields}


def json_step(name: str, prompt: Any = "Answer in JSON", **fields: Any) -> dict[str, Any]:
    return step(name, prompt, **{"output": {"format": "json"}, **fields})


def chain(*stages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "test-chain", "steps": list(stages), **fields}


def problems_of(source: Any) -> list[str]:
    with pytest.raises(ChainDefinitionError) as caught:
        load_chain(source)
    return caught.value.problems


# ------------------------------------------------------------------------------------------------ the example chains


def result(text: str, parsed: Any = None) -> dict[str, Any]:
    return {"text": text, "json": parsed}


PLAUSIBLE_RESULTS: dict[str, dict[str, Any]] = {
    "outline-draft-critique": {
        "input": {"topic": "Step Functions and Bedrock", "audience": "platform engineers"},
        "steps": {
            "outline": result("{...}", {"title": "Chains as data", "sections": ["Why", "How", "Costs"]}),
            "draft": result("A long draft."),
            "critique": result("{...}", {"score": 7, "strengths": ["clear"], "issues": []}),
        },
    },
    "parallel-perspectives": {
        "input": {"question": "Should we move batch jobs to Step Functions?"},
        "steps": {
            "optimist": result("Yes, because..."),
            "skeptic": result("No, because..."),
            "pragmatist": result("Pilot one job first."),
        },
    },
    "map-over-items": {
        "input": {"goal": "reduce cold starts"},
        "steps": {
            "ideas": result("{...}", {"items": [{"title": "Smaller layer", "why": "less to import"}]}),
            "expansions": {"results": [result("1. Measure ...")]},
        },
    },
}


@pytest.mark.parametrize("path", sorted(CHAINS.glob("*.json")), ids=lambda path: path.stem)
def test_every_example_chain_loads_and_renders_with_plausible_variables(path: Path) -> None:
    # Given an example chain from the repository and the results its steps would produce
    chain_ = load_chain(path)
    assert chain_.name == path.stem
    variables = PLAUSIBLE_RESULTS[chain_.name]
    # When each step's templates are rendered with the variables the state machine will build
    for stage in chain_.step_order():
        for resolved, extra in _steps_with_item_variables(stage, variables):
            templates = [(f"{resolved.name}.{i}", turn.content) for i, turn in enumerate(resolved.prompt.messages)]
            if resolved.prompt.system is not None:
                templates.append((f"{resolved.name}.system", resolved.prompt.system))
            rendered = render_all(templates, {**variables, **extra})
            # Then every reference resolves (render_all raises on any missing one) and no placeholder is left
            assert all("{{" not in text for text in rendered)
            # And the chain's fields are accepted as they are by pre-process and post-process
            PreprocessPromptInput.model_validate(
                {**resolved.preprocess_input(), "execution_name": "e", "variables": {**variables, **extra}}
            )
            PostprocessResultInput.model_validate(
                {"model_id": resolved.model_id, "result": {}, "output": resolved.postprocess_output()}
            )


def _steps_with_item_variables(stage: Any, variables: dict[str, Any]) -> list[tuple[ResolvedStep, dict[str, Any]]]:
    if isinstance(stage, ParallelSteps):
        return [(member, {}) for member in stage.steps]
    if isinstance(stage, MapSteps):
        # The map's items come from the path it names, walked like a template path.
        items: Any = variables
        for segment in stage.items.split("."):
            items = items[int(segment)] if isinstance(items, list) else items[segment]
        return [(stage.step, {stage.item_variable: item, stage.index_variable: i}) for i, item in enumerate(items)]
    return [(stage.step, {})]


def test_the_examples_mix_model_families() -> None:
    # Given the examples that promise mixed families
    for name in ("outline-draft-critique", "parallel-perspectives", "map-over-items"):
        # When their plans are resolved
        families = {resolved.model_family for resolved in load_chain(CHAINS / f"{name}.json").resolved_steps()}
        # Then each uses at least three families
        assert len(families) >= 3, name


def test_the_plan_has_one_stage_per_definition_stage_with_defaults_applied() -> None:
    # Given the map example
    chain_ = load_chain(CHAINS / "map-over-items.json")
    # When the plan is built
    ideas, expansions, summary = chain_.step_order()
    # Then stages keep their kind and order, and the map carries what its state needs
    assert isinstance(ideas, SingleStep)
    assert isinstance(summary, SingleStep)
    assert isinstance(expansions, MapSteps)
    assert (expansions.items, expansions.item_variable, expansions.index_variable) == (
        "steps.ideas.json.items",
        "idea",
        "idea_index",
    )
    assert expansions.max_concurrency == 4
    # And defaults were merged field by field: the summary's max_tokens wins, the default temperature stays
    assert summary.step.inference.max_tokens == 800
    assert summary.step.inference.temperature == 0.4
    assert ideas.step.model_id == NOVA
    assert ideas.step.model_family is ModelFamily.NOVA
    # And the plan is JSON for a state machine's input
    json.dumps([stage.model_dump(mode="json") for stage in chain_.step_order()])


def test_model_ids_lists_every_model_once() -> None:
    chain_ = load_chain(CHAINS / "parallel-perspectives.json")
    assert chain_.model_ids() == [
        "mistral.mistral-large-2407-v1:0",
        "us.amazon.nova-pro-v1:0",
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
    ]


def test_a_step_with_its_own_model_does_not_inherit_the_default_family() -> None:
    # Given defaults naming an opaque ARN with its family, and a step naming a plain Llama id
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"
    chain_ = load_chain(
        chain(
            {"name": "a", "prompt": "hi"},
            {"name": "b", "model_id": LLAMA, "prompt": "hi"},
            defaults={"model_id": arn, "model_family": "claude"},
        )
    )
    # When resolved
    first, second = chain_.resolved_steps()
    # Then the default family goes with the default model only
    assert (first.model_id, first.model_family) == (arn, ModelFamily.CLAUDE)
    assert (second.model_id, second.model_family) == (LLAMA, ModelFamily.LLAMA)


def test_a_string_prompt_becomes_one_user_turn_and_output_keeps_its_reprompt_limit() -> None:
    chain_ = load_chain(chain(json_step("a", "Q?", output={"format": "json", "max_reprompts": 3})))
    (resolved,) = chain_.resolved_steps()
    assert resolved.prompt.model_dump(exclude_none=True) == {"messages": [{"role": "user", "content": "Q?"}]}
    assert resolved.output.max_reprompts == 3
    assert resolved.postprocess_output() == {"format": "json", "schema": None, "on_truncation": "report"}


# ----------------------------------------------------------------------------------------------------- the sources


def test_yaml_text_loads_when_it_is_not_json() -> None:
    # Given the definition written as YAML
    text = f"""
name: yaml-chain
steps:
  - name: only
    model_id: {CLAUDE}
    prompt: "Hello {{{{ input.name }}}}"
"""
    # When loaded from str and from bytes
    # Then both give the chain
    assert load_chain(text).steps[0].name == "only"  # type: ignore[union-attr]
    assert load_chain(text.encode()).name == "yaml-chain"


def test_a_yaml_file_loads_from_its_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"name: file-chain\nsteps:\n  - {{name: a, model_id: '{NOVA}', prompt: hi}}\n")
    assert load_chain(path).name == "file-chain"


def test_yaml_without_pyyaml_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment without PyYAML (as in the Lambda layer)
    monkeypatch.setitem(__import__("sys").modules, "yaml", None)
    # When YAML text is loaded
    # Then the error says why
    (problem,) = problems_of("name: x\nsteps: []\n")
    assert "not JSON" in problem
    assert "PyYAML is not installed" in problem


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"\xff\xfe", "(root): the definition is not UTF-8"),
        ("[1, 2]", "(root): expected an object, got an array"),
        ('{"name": NaN}', "(root): NaN is not a JSON number"),
        ("{", "(root): not JSON"),
        ("[" * 100_000, "(root): "),
    ],
)
def test_unreadable_sources_are_definition_errors(source: Any, expected: str) -> None:
    (problem,) = problems_of(source)
    assert problem.startswith(expected)


def test_a_missing_file_and_a_json_file_with_yaml_are_definition_errors(tmp_path: Path) -> None:
    assert "cannot read the chain file" in problems_of(tmp_path / "absent.json")[0]
    path = tmp_path / "yaml-in-disguise.json"
    path.write_text("name: x\n")
    assert problems_of(path)[0].startswith("(root): not JSON")


# -------------------------------------------------------------------------------------------- structural problems


def test_structural_problems_are_all_listed_with_readable_locations() -> None:
    # Given a definition with several structural mistakes
    source = chain(
        {"name": "a.b", "model_id": NOVA, "prompt": 3, "bogus": 1},
        {"parallel": {"name": "g"}},
        5,
        step("t", output={"max_reprompts": 2}),
        step("u", output={"format": "json", "max_reprompts": 6}),
        name="Bad Name",
    )
    # When loaded
    problems = problems_of(source)
    # Then every one is listed, located without Pydantic's union tags
    assert problems == [
        "name: String should match pattern '^[a-z0-9-]{1,64}$'",
        "steps[0].name: a chain step name may not contain '.' (templates could not refer to it)",
        "steps[0].prompt: a prompt is a template string or {system, messages: [{role, content}]}",
        "steps[0].bogus: is not a known field",
        "steps[1].parallel.steps: Field required",
        "steps[2]: a stage is a step object, {parallel: {name, steps}} or {map: {name, items, step}}",
        "steps[3].output: max_reprompts needs format json (a text answer is never invalid)",
        "steps[4].output.max_reprompts: Input should be less than or equal to 5",
    ]


def test_a_parallel_group_holds_at_most_ten_steps() -> None:
    members = [step(f"p{i}") for i in range(MAX_PARALLEL_STEPS + 1)]
    (problem,) = problems_of(chain({"parallel": {"name": "g", "steps": members}}))
    assert problem.startswith("steps[0].parallel.steps: List should have at most 10 items")


def test_a_schema_with_text_output_is_refused() -> None:
    (problem,) = problems_of(chain(step("a", output={"schema": {"type": "object"}})))
    assert problem == "steps[0].output: schema needs format json (a text answer is not validated)"


@pytest.mark.parametrize("variable", ["input", "steps", "1x", "a-b"])
def test_the_item_variable_must_be_a_free_identifier(variable: str) -> None:
    source = chain(
        json_step("list"),
        {"map": {"name": "m", "items": "steps.list.json", "item_variable": variable, "step": step("each")}},
    )
    (problem,) = problems_of(source)
    assert problem.startswith("steps[1].map.item_variable: ")


# ------------------------------------------------------------------------------------------------ static problems


def test_step_names_are_unique_across_the_whole_chain() -> None:
    # Given a name reused by a parallel member, a map and a map's step
    source = chain(
        step("a"),
        {"parallel": {"name": "g", "steps": [step("a"), step("b")]}},
        {"map": {"name": "b", "items": "steps.x.json", "step": step("g")}},
        json_step("x"),
    )
    problems = problems_of(source)
    # Then each reuse names the first holder
    assert "steps[1].parallel.steps[0].name: 'a' is already the name of steps[0]" in problems
    assert "steps[2].map.name: 'b' is already the name of steps[1].parallel.steps[1]" in problems
    assert "steps[2].map.step.name: 'g' is already the name of steps[1].parallel" in problems


def test_a_reference_to_a_later_or_unknown_step_is_reported_where_it_is() -> None:
    # Given a map step whose second turn refers to a step that comes later, and one that does not exist
    map_step = step(
        "each",
        {
            "messages": [
                {"role": "user", "content": "{{ item }}"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "{{ steps.later.text }} {{ steps.outline_x.text }}"},
            ]
        },
        model_id=CLAUDE,
    )
    source = chain(
        json_step("outline"),
        step("b"),
        {"map": {"name": "m", "items": "steps.outline.json", "step": map_step}},
        step("later"),
    )
    # When loaded
    problems = problems_of(source)
    # Then each problem names the exact template
    assert problems == [
        "steps[2].map.step.prompt.messages[2].content: refers to steps.later, which is not an earlier step",
        "steps[2].map.step.prompt.messages[2].content: refers to steps.outline_x, which is not an earlier step",
    ]


def test_a_step_may_not_refer_to_itself() -> None:
    (problem,) = problems_of(
        chain(step("a", {"system": "{{ steps.a.text }}", "messages": [{"role": "user", "content": "x"}]}))
    )
    assert problem == "steps[0].prompt.system: refers to steps.a, which is this step itself"


def test_parallel_siblings_and_the_group_itself_are_not_earlier_steps() -> None:
    # Given members of a group that refer to a sibling and to their group
    group = {"parallel": {"name": "g", "steps": [step("p", "{{ steps.q.text }}"), step("q", "{{ steps.g }}")]}}
    # When loaded, then both are reported
    assert problems_of(chain(group)) == [
        "steps[0].parallel.steps[0].prompt: refers to steps.q, which runs at the same time in parallel group 'g', "
        "not earlier",
        "steps[0].parallel.steps[1].prompt: refers to steps.g, which is the parallel group this step belongs to",
    ]


def test_later_steps_see_parallel_members_but_not_the_group_or_a_map_step() -> None:
    # Given a step after a group and a map, referring to the group, a member, the map's inner step and the map
    source = chain(
        json_step("list"),
        {"parallel": {"name": "g", "steps": [step("p"), step("q")]}},
        {"map": {"name": "m", "items": "steps.list.json", "step": step("each")}},
        step("end", "{{ steps.p.text }} {{ steps.g }} {{ steps.each.text }} {{ steps.m.results.0.text }}"),
    )
    # Then only the group and the inner step are problems
    assert problems_of(source) == [
        "steps[3].prompt: refers to steps.g, which is a parallel group: refer to its members by their own names",
        "steps[3].prompt: refers to steps.each, which runs inside map 'm': use steps.m.results",
    ]


def test_json_is_only_read_from_json_steps() -> None:
    source = chain(
        step("t"), json_step("j"), step("end", "{{ steps.t.json.x }} {{ steps.j.json.x }} {{ steps.t.raw }}")
    )
    assert problems_of(source) == [
        "steps[2].prompt: refers to steps.t.json, but steps[0] has output format text (use .text)",
        "steps[2].prompt: refers to steps.t.raw; a step's result has only .text and .json",
    ]


def test_map_results_are_read_by_index_and_field() -> None:
    source = chain(
        json_step("list"),
        {"map": {"name": "m", "items": "steps.list.json", "step": step("each")}},
        step("end", "{{ steps.m.results.0.json }} {{ steps.m.results.first }} {{ steps.m.output }}"),
    )
    assert problems_of(source) == [
        "steps[2].prompt: refers to steps.m.results.0.json, but steps[1].map.step has output format text (use .text)",
        "steps[2].prompt: refers to steps.m.results.first; index the results with a number (results.0.text)",
        "steps[2].prompt: refers to steps.m.output; a map's result has only .results (a list of {text, json})",
    ]


def test_unknown_variable_roots_are_reported() -> None:
    (problem,) = problems_of(chain(step("a", "{{ topic }}")))
    assert (
        problem == "steps[0].prompt: refers to topic, which is not a variable (templates may use input.*, "
        "steps.<earlier step>.*)"
    )


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ("steps.text_step.json.items", "refers to steps.text_step.json, but steps[0] has output format text"),
        ("steps.nowhere.json", "refers to steps.nowhere, which is not an earlier step"),
        ("steps.m.json", "refers to steps.m, which is this map itself"),
        ("input.items", "must be a path into an earlier JSON step's answer (steps.<name>.json...)"),
        ("steps.j.text", "must be a path into an earlier JSON step's answer (steps.<name>.json...)"),
        ("{{ steps.j.json }}", "'{{ steps.j.json }}' is not a variable path (e.g. steps.outline.json.sections)"),
        ("steps.j.json | json", "'steps.j.json | json' is not a variable path (e.g. steps.outline.json.sections)"),
    ],
)
def test_map_items_must_come_from_an_earlier_json_step(items: str, expected: str) -> None:
    source = chain(step("text_step"), json_step("j"), {"map": {"name": "m", "items": items, "step": step("each")}})
    assert problems_of(source) == [f"steps[2].map.items: {expected}"]


def test_model_ids_must_resolve_to_a_family() -> None:
    # Given an unknown provider, an opaque ARN without a family, and a step with no model at all
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/xyz"
    source = chain(step("a", model_id="acme.model-v1"), step("b", model_id=arn), {"name": "c", "prompt": "x"})
    problems = problems_of(source)
    assert problems[0].startswith("steps[0].model_id: cannot tell the model family of 'acme.model-v1'")
    assert problems[1].startswith(f"steps[1].model_id: cannot tell the model family of '{arn}'")
    assert problems[2] == "steps[2].model_id: the step has no model_id and defaults.model_id is not set"
    # And the same ARN with its family given is fine
    assert load_chain(chain(step("b", model_id=arn, model_family="nova"))).model_ids() == [arn]


def test_requests_the_codec_would_refuse_are_reported() -> None:
    # Given Llama with stop sequences, and Claude starting with an assistant turn
    source = chain(
        step("a", model_id=LLAMA, inference={"stop_sequences": ["END"]}),
        step("b", {"messages": [{"role": "assistant", "content": "x"}]}, model_id=CLAUDE),
    )
    problems = problems_of(source)
    assert (
        problems[0] == f"steps[0]: {LLAMA} cannot take this request: llama: stop_sequences is not supported by "
        "this model family"
    )
    assert problems[1].startswith(f"steps[1]: {CLAUDE} cannot take this request: claude: messages[0] has role")


def test_json_output_needs_a_text_model() -> None:
    (problem,) = problems_of(chain(json_step("e", model_id="amazon.titan-embed-text-v2:0")))
    assert (
        problem == "steps[0].output.format: json needs a text model; amazon.titan-embed-text-v2:0 is an embedding "
        "model (titan_embed)"
    )


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "foo"}, "steps[0].output.schema: is not a valid JSON Schema: Unknown type"),
        ({"properties": 1}, "steps[0].output.schema: is not a valid JSON Schema: "),
        (
            {"pattern": "("},
            "steps[0].output.schema: pattern '(': not usable in a linear-time regular expression engine",
        ),
        ({"$ref": "https://example.com/s.json"}, "steps[0].output.schema: may only use local $ref ('#/...')"),
    ],
)
def test_schemas_must_compile(schema: dict[str, Any], expected: str) -> None:
    (problem,) = problems_of(chain(step("a", output={"format": "json", "schema": schema})))
    assert problem.startswith(expected)


def test_template_syntax_errors_are_reported_with_their_location() -> None:
    problems = problems_of(chain(step("a", {"messages": [{"role": "user", "content": "{{ x() }}"}]}), step("b", "{{")))
    assert problems == [
        "steps[0].prompt.messages[0].content: '{{ x() }}' at offset 0 is not a variable path "
        "(use {{ name }}, {{ name.key.0 }} or {{ name | json }})",
        "steps[1].prompt: unclosed '{{' at offset 0",
    ]


def test_limits_on_steps_and_prompt_size() -> None:
    # Given more steps than allowed, one with an oversized template
    stages = [step(f"s{i}") for i in range(MAX_STEPS + 1)]
    stages[0] = step("s0", "x" * (MAX_PROMPT_CHARS + 1))
    problems = problems_of(chain(*stages))
    assert problems == [
        f"steps[0].prompt: {MAX_PROMPT_CHARS + 1} characters of template text; at most {MAX_PROMPT_CHARS} per step",
        f"steps: the chain has {MAX_STEPS + 1} steps; at most {MAX_STEPS} are allowed",
    ]


def test_every_static_problem_is_reported_at_once_in_one_error() -> None:
    # Given a chain with problems of several kinds in several stages
    source = chain(
        step("a", "{{ steps.b.text }}", model_id="acme.x"),
        {
            "parallel": {
                "name": "g",
                "steps": [step("p", "{{ x( }}"), json_step("a", output={"format": "json", "schema": {"type": 1}})],
            }
        },
        {"map": {"name": "m", "items": "steps.a.json", "step": step("each", "{{ nope }}")}},
    )
    # When loaded
    with pytest.raises(ChainDefinitionError) as caught:
        load_chain(source)
    # Then one error lists them all, and its message names the chain and the count
    problems = caught.value.problems
    assert [problem.split(": ")[0] for problem in problems] == [
        "steps[0].model_id",
        "steps[0].prompt",
        "steps[1].parallel.steps[0].prompt",
        "steps[1].parallel.steps[1].name",
        "steps[1].parallel.steps[1].output.schema",
        "steps[2].map.items",
        "steps[2].map.step.prompt",
    ]
    assert str(caught.value).startswith("chain 'test-chain': 7 problems: steps[0].model_id: ")
    assert all(problem in str(caught.value) for problem in caught.value.problems)


# ----------------------------------------------------------------------------------------------------- properties

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "name",
        "steps",
        "prompt",
        "model_id",
        "parallel",
        "map",
        "items",
        "step",
        "output",
        "schema",
        "inference",
        "defaults",
        "messages",
        "item_variable",
        "format",
        "max_reprompts",
    ]
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSONISH, st.dictionaries(KEYS, JSONISH, max_size=6)))
def test_arbitrary_json_either_loads_or_raises_a_definition_error(data: Any) -> None:
    # Given any JSON-ish value, as a mapping and as JSON text
    # When it is loaded
    # Then the only failure is a ChainDefinitionError (never KeyError, TypeError or Pydantic's ValidationError)
    for source in (data, json.dumps(data)):
        problems: list[str] | None = None
        try:
            assert isinstance(load_chain(source), Chain)
        except ChainDefinitionError as exc:
            problems = exc.problems
        assert problems is None or (problems and all(problem.strip() for problem in problems))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


EXAMPLES = [json.loads(path.read_text()) for path in sorted(CHAINS.glob("*.json"))]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data())
def test_an_example_with_any_part_replaced_loads_or_raises_a_definition_error(base: dict[str, Any], data: Any) -> None:
    # Given an example chain with one node anywhere replaced by arbitrary JSON or a template-like string
    mutated = copy.deepcopy(base)
    path = data.draw(st.sampled_from(_paths(mutated)[1:]))
    replacement = data.draw(JSONISH | st.sampled_from(["{{ steps.x.json }}", "{{", "steps.outline.json", "", "a.b"]))
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = replacement
    # When it is loaded, then it loads or fails with a named, located error
    problems = ["(loaded)"]
    try:
        load_chain(mutated)
    except ChainDefinitionError as exc:
        problems = exc.problems
    assert problems
    assert all(": " in problem or problem == "(loaded)" for problem in problems)


# ---------------------------------------------------------------- execution_input (the state machines' input)


def test_execution_input_lists_each_stage_with_its_step_runs() -> None:
    # Given the map example chain
    chain = load_chain(CHAINS / "map-over-items.json")
    # When its execution input is computed
    document = execution_input(chain, {"goal": "ship"})
    # Then it names the chain, carries the input, and has one plan entry per stage with the Lambdas' fields
    assert (document["chain"], document["input"]) == ("map-over-items", {"goal": "ship"})
    assert [stage["kind"] for stage in document["plan"]] == ["step", "map", "step"]
    mapped = document["plan"][1]
    assert (mapped["items"], mapped["item_variable"], mapped["max_concurrency"]) == (
        "steps.ideas.json.items",
        "idea",
        4,
    )
    [run] = mapped["steps"]
    assert run["name"] == "expand-idea"
    PreprocessPromptInput.model_validate({**run["step"], "execution_name": "x", "variables": {}})
    first = document["plan"][0]["steps"][0]
    assert first["max_reprompts"] == 1
    PostprocessResultInput.model_validate(
        {"model_id": first["step"]["model_id"], "result": {}, "output": first["output"]}
    )
    # And it is JSON
    assert json.loads(json.dumps(document)) == document


def test_parallel_stage_runs_all_its_members_at_once() -> None:
    document = execution_input(load_chain(CHAINS / "parallel-perspectives.json"))
    stage = document["plan"][0]
    assert stage["kind"] == "parallel"
    assert stage["max_concurrency"] == len(stage["steps"]) == 3
    assert document["input"] == {}


def test_sample_state_machine_input_is_the_current_plan_of_its_chain() -> None:
    # Given the sample input of the prompt-chain state machines (what the demo runs)
    sample = json.loads((ROOT / "events" / "statemachine" / "prompt_chain.json").read_text(encoding="utf-8"))
    # Then it is exactly what execution_input computes for its chain today (regenerate it when the chain changes)
    chain = load_chain(CHAINS / f"{sample['chain']}.json")
    assert sample == execution_input(chain, sample["input"])
