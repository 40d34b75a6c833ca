"""What the compiler writes: states named after the steps, the codec as the only home of family fields, generated
files that match their generator, least-privilege roles, and chains it refuses with every problem listed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sfn_offline.template import load_yaml

from companion.chains import load_chain, packaged_chain
from companion.chains.compiler import CompileSettings, compile_chain
from companion.codec.jsonata import ANSWER_FIELDS
from companion.errors import ChainDefinitionError
from tools import generate_chains

ROOT = Path(__file__).resolve().parents[3]


def test_the_sample_chain_has_a_state_per_step_named_after_it() -> None:
    # Given the packaged outline-draft-critique chain, compiled
    definition = compile_chain(packaged_chain("outline-draft-critique"))
    states = definition["States"]
    # Then each step is a bedrock:invokeModel state named after the step, and JSONata is declared once, at the top
    for step in ("outline", "draft", "critique"):
        assert states[step]["Resource"] == "arn:aws:states:::bedrock:invokeModel"
    assert definition["QueryLanguage"] == "JSONata"
    assert not any("QueryLanguage" in state for state in states.values())
    # And only the JSON steps and the S3 answer have a Lambda after them
    lambdas = sorted(
        name for name, state in states.items() if state.get("Resource") == "arn:aws:states:::lambda:invoke"
    )
    assert lambdas == ["Check critique Answer", "Check outline Answer", "Read draft Answer"]


def test_no_family_field_path_is_written_by_hand_in_the_state_machines() -> None:
    # Given every family's answer paths (the codec's table) and the definitions in statemachines/ not generated
    generated = {ROOT / path for path in generate_chains.generated_files()}
    hand_written = [p for p in (ROOT / "statemachines").rglob("*.asl.*") if p not in generated]
    assert hand_written, "no hand-written definition to check"
    paths = {fields.text for fields in ANSWER_FIELDS.values()} - {"text"}
    # Then none of them spells a family's answer path
    for path in hand_written:
        text = path.read_text(encoding="utf-8")
        found = [p for p in paths if p.split("[")[0] + "[" in text or p in text]
        assert found == [], f"{path.name} reads {found} itself; take it from companion.codec.jsonata"


def test_the_generated_files_are_what_make_generate_writes() -> None:
    # Given the committed machines and template block, and what the generator produces now
    stale = generate_chains.stale_files()
    # Then nothing differs (run make generate after changing a chain, the compiler or the codec)
    assert stale == [], f"stale generated files: {[str(p) for p in stale]}; run make generate"


def test_generated_definitions_are_yaml_with_jsonata_in_block_scalars() -> None:
    text = (ROOT / "statemachines" / "chains" / "outline-draft-critique.asl.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == compile_chain(packaged_chain("outline-draft-critique"))
    assert "Body: |-\n" in text


@pytest.mark.parametrize("chain_name", ["outline-draft-critique", "parallel-perspectives", "map-over-items"])
def test_each_packaged_chain_role_may_invoke_exactly_its_models(chain_name: str, resources: dict[str, Any]) -> None:
    # Given the chain's generated role
    role = resources[f"{generate_chains.logical_prefix(chain_name)}ChainRole"]
    statements = [
        s
        for p in role["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "bedrock:InvokeModel"
    ]
    granted = {_text(r) for s in statements for r in s["Resource"]}
    # Then every model of the chain is granted (a profile in the region, its model anywhere only through it)
    expected = set()
    for model in packaged_chain(chain_name).model_ids():
        if re.match(r"^(us|eu|apac|global)\.", model):
            expected.add(
                f"arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}:${{AWS::AccountId}}:inference-profile/{model}"
            )
            expected.add(f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{model.split('.', 1)[1]}")
        else:
            expected.add(f"arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}::foundation-model/{model}")
    assert granted == expected
    # And the cross-region grants hold only through the chain's own profiles
    for statement in statements:
        if any("*::foundation-model" in _text(r) for r in statement["Resource"]):
            assert statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]


def _text(resource: Any) -> str:
    return resource["Fn::Sub"] if isinstance(resource, dict) else str(resource)


def test_a_prompt_that_may_not_fit_is_rendered_by_pre_process(one_step: Callable[..., dict[str, Any]]) -> None:
    # Given a step using the input four times: with a 32 KiB input the Body may reach 256 KiB
    definition = one_step(prompt="{{ input.doc }} {{ input.doc }} {{ input.doc }} {{ input.doc }}")
    # Then the step renders through pre-process (which offloads to Input.S3Uri), and small prompts do not
    assert definition["States"]["answer"]["Arguments"].startswith("{%")
    assert "Render answer Prompt" in definition["States"]
    assert "Render answer Prompt" not in one_step(prompt="{{ input.doc }}")["States"]


def test_an_answer_that_may_not_fit_goes_to_s3_even_unasked(one_step: Callable[..., dict[str, Any]]) -> None:
    # Given a text step allowed 50,000 tokens (300 KB at the documented 6 bytes per token)
    definition = one_step(prompt="Write a book", inference={"max_tokens": 50_000})
    # Then its answer goes through Output.S3Uri and is read back by resolve-output
    assert "Output" in definition["States"]["answer"]["Arguments"]
    assert "Read answer Answer" in definition["States"]


def test_the_budgets_are_settings() -> None:
    chain = packaged_chain("outline-draft-critique")
    tight = compile_chain(chain, settings=CompileSettings(body_budget_bytes=1024))
    assert {"Render outline Prompt", "Render draft Prompt", "Render critique Prompt"} <= set(tight["States"])
    assert json.dumps(tight) != json.dumps(compile_chain(chain))


def test_the_packaged_batch_runs_each_prompt_as_an_express_child_running_the_compiled_chain() -> None:
    # Given the generated batch machine of the packaged chains
    definition = yaml.safe_load((ROOT / "statemachines" / "packaged_chain_batch.asl.yaml").read_text(encoding="utf-8"))
    run = definition["States"]["Run Chain Per Prompt"]
    processor = run["ItemProcessor"]
    # Then its Distributed Map runs EXPRESS children, which run the chains' own states (no nested execution)
    assert processor["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert "outline-draft-critique - outline" in processor["States"]
    resources = {state.get("Resource") for state in processor["States"].values()}
    assert not any("states:::states:" in str(resource) for resource in resources)
    # And the whole machine is JSONata, declared once at its top and by no state
    assert definition["QueryLanguage"] == "JSONata"
    assert "QueryLanguage" not in json.dumps(definition["States"])


def test_a_chain_the_compiler_cannot_compile_is_refused_with_every_problem() -> None:
    # Given two JSON steps whose long names differ only past what a state name can hold (80 characters), so their
    # generated states would share names, and a prompt holding a character the compiler reserves
    first, second = "a" * 70 + "-first", "a" * 70 + "-second"
    json_step = {"output": {"format": "json", "max_reprompts": 1}}
    chain = load_chain(
        {
            "name": "colliding",
            "defaults": {"model_id": "us.anthropic.claude-3-5-haiku-20241022-v1:0"},
            "steps": [
                {"name": first, "prompt": "one", **json_step},
                {"name": second, "prompt": "two", **json_step},
                {"name": "odd", "prompt": "private \ue000 use"},
            ],
        }
    )
    # Then compiling it raises ChainDefinitionError listing every problem
    with pytest.raises(ChainDefinitionError) as raised:
        compile_chain(chain)
    problems = raised.value.problems
    assert [problem for problem in problems if "also step" in problem] == [
        f"step {second!r}: the state name {'Check ' + 'a' * 67 + ' Answer'!r} is also step {first!r}; rename the step"
    ]
    assert any("'odd'" in problem and "reserves" in problem for problem in problems)


@pytest.mark.parametrize(
    ("error", "cause", "named"),
    [
        ("States.QueryEvaluationError", "... threw: ResponseDecodingError: no answer text", "ResponseDecodingError"),
        ("States.QueryEvaluationError", "MissingTemplateVariablesError: input.x", "MissingTemplateVariablesError"),
        ("States.QueryEvaluationError", "something else", "States.QueryEvaluationError"),
        ("Bedrock.ThrottlingException", "ResponseDecodingError: quoted by a model", "Bedrock.ThrottlingException"),
    ],
)
def test_an_error_raised_in_the_compiled_jsonata_fails_the_step_by_its_own_name(
    one_step: Callable[..., dict[str, Any]], evaluate: Any, error: str, cause: str, named: str
) -> None:
    # Given the catch of a text step's invoke state, and what Step Functions reports when an expression fails
    [catch] = one_step(prompt="Hello")["States"]["answer"]["Catch"]
    failed = evaluate(catch["Output"], {"states": {"input": {}, "errorOutput": {"Error": error, "Cause": cause}}})
    # Then the failure record carries the error the expression raised, by name
    assert failed["failure"]["error"] == named


def map_chain(max_items: int | None, item_prompt: str = "About {{ item }}") -> Any:
    """A chain listing items in JSON, then a map over them (``max_items`` as given)."""
    mapped: dict[str, Any] = {
        "name": "each",
        "items": "steps.list.json.items",
        "step": {"name": "ask", "prompt": item_prompt},
    }
    if max_items is not None:
        mapped["max_items"] = max_items
    return load_chain(
        {
            "name": "mapped",
            "defaults": {"model_id": "anthropic.claude-3-5-haiku-20241022-v1:0"},
            "steps": [
                {"name": "intro", "prompt": "Say hello"},
                {"name": "list", "prompt": "List items", "output": {"format": "json"}},
                {"map": mapped},
            ],
        }
    )


@pytest.mark.parametrize("max_items", [None, 40])
def test_a_map_bounded_small_stays_an_inline_map(max_items: int | None) -> None:
    state = compile_chain(map_chain(max_items))["States"]["each"]
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert "ResultWriter" not in state
    assert ("more than 40 items" in state["Items"]) is (max_items is not None)


def test_a_map_of_many_items_is_a_distributed_map_of_express_children_writing_to_s3() -> None:
    # Given a map allowed 2,000 items whose step uses an earlier answer
    definition = compile_chain(map_chain(2000, "About {{ item }} after {{ steps.intro.text }}"))
    states = definition["States"]
    each = states["each"]
    # Then it is a Distributed Map of EXPRESS children, its results written under the offload prefix
    assert each["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert each["ResultWriter"]["Arguments"]["Bucket"] == "${PayloadBucketName}"
    assert each["ResultWriter"]["Arguments"]["Prefix"].startswith('{% "offload/maps/" & $states.context.Execution.Name')
    assert each["ToleratedFailurePercentage"] == 100
    assert "more than 2000 items" in each["Items"]
    # And each child first assigns the variables its step reads (a child workflow sees none of the parent's)
    start = each["ItemProcessor"]["States"][each["ItemProcessor"]["StartAt"]]
    assert set(start["Assign"]) == {"input", "step_intro"}
    # And a failed item fails its child; the map's manifest decides whether the chain fails
    assert each["ItemProcessor"]["States"]["ask Failed"]["Type"] == "Fail"
    assert each["Next"] == "Read each Manifest"
    assert states["Read each Manifest"]["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"


def test_a_packaged_chains_role_may_run_its_distributed_map_and_nothing_more() -> None:
    # Given a chain with a Distributed Map, its generated resources
    chain = map_chain(2000)
    text = generate_chains.resources(chain, json.dumps(compile_chain(chain)))
    role = load_yaml(text)[f"{generate_chains.logical_prefix('mapped')}ChainRole"]
    statements = {s["Sid"]: s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]}
    # Then the role starts executions of its own machine only, follows them, and writes under offload/maps/ only
    machine = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    assert (
        _text(statements["RunMapChildWorkflows"]["Resource"])
        == f"{machine}:stateMachine:${{AWS::StackName}}-chain-mapped"
    )
    assert _text(statements["FollowMapChildWorkflows"]["Resource"]) == (
        f"{machine}:execution:${{AWS::StackName}}-chain-mapped/*"
    )
    maps = _text(statements["WriteMapResults"]["Resource"])
    assert maps == "arn:${AWS::Partition}:s3:::${PayloadBucket}/offload/maps/*"
    # And a chain without one gets none of them
    inline = map_chain(None)
    assert "RunMapChildWorkflows" not in generate_chains.resources(inline, json.dumps(compile_chain(inline)))
