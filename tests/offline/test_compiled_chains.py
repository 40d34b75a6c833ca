"""Compiled chain machines offline (companion.chains.compiler): the packaged chains' generated machines from the
template, and one-step chains compiled on the fly with the template's functions, run with the real handlers, the
Bedrock stand-in (simulated: no model is called) and S3 emulated by moto, through every path of a step (inline,
Input.S3Uri, Output.S3Uri, re-prompt, throttling, failures) and with the transitions and Lambda calls they cost."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.chain_standin import JsonAnswers
from sfn_offline.engine import ExecutionResult, run_definition
from sfn_offline.functions import handlers_for
from sfn_offline.report import count_transitions
from sfn_offline.template import Template, load_template

from companion.adapters.s3 import default_client
from companion.chains import load_chain
from companion.chains.compiler import CompileSettings, compile_chain, machine_input
from tests.offline.chain_runs import CLAUDE, EntryCountingStandIn, claude_answer, entered, failure, map_results
from tools.chain.machine import substituted

ROOT = Path(__file__).resolve().parents[2]
BEDROCK_ATTEMPTS = 5  # the first try and MaxAttempts (4) retries of the transient Bedrock errors
EXECUTION = "compiled-chain-test"
SCHEMA = {
    "type": "object",
    "required": ["title", "points"],
    "properties": {"title": {"type": "string"}, "points": {"type": "array", "items": {"type": "string"}}},
}
OUTLINE = {"title": "Chains on Step Functions", "sections": ["Why", "How", "Limits"]}
CRITIQUE = {"score": 7, "strengths": ["clear"], "issues": ["short"]}
IDEAS = {"items": [{"title": "Cache", "why": "cheaper"}, {"title": "Batch", "why": "faster"}]}
SAMPLE_INPUT = {"topic": "SFN", "audience": "devs"}
HAND_WRITTEN_TRANSITIONS = 6  # outline, check it, draft, read it back, critique, check it


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture
def aws(template: Template) -> Iterator[Any]:
    """moto's S3 with the template's buckets, and the handlers' cached S3 client reset around it."""
    with mock_aws():
        default_client.cache_clear()
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in template.buckets.values():
            client.create_bucket(Bucket=bucket)
        yield client
        default_client.cache_clear()


@pytest.fixture
def standin() -> BedrockStandIn:
    return EntryCountingStandIn()


def run_packaged(template: Template, bedrock: BedrockStandIn, name: str, chain_input: Any) -> ExecutionResult:
    logical_id = "".join(part.capitalize() for part in name.split("-")) + "ChainStateMachine"
    return run_definition(
        template.state_machines[logical_id].definition,
        chain_input,
        functions=handlers_for(template),
        bedrock=bedrock,
        execution_name=EXECUTION,
        time_scale=0,
    )


def run_chain(
    template: Template,
    bedrock: BedrockStandIn,
    chain: dict[str, Any],
    chain_input: dict[str, Any],
    settings: CompileSettings | None = None,
) -> ExecutionResult:
    definition = substituted(compile_chain(load_chain(chain), settings=settings), template)
    return run_definition(
        definition,
        machine_input(chain_input),
        functions=handlers_for(template),
        bedrock=bedrock,
        execution_name=EXECUTION,
        time_scale=0,
    )


def run_step(
    template: Template,
    bedrock: BedrockStandIn,
    step: dict[str, Any],
    chain_input: dict[str, Any] | None = None,
    settings: CompileSettings | None = None,
) -> ExecutionResult:
    """A one-step chain: the step is named ``answer`` and uses Claude unless it says otherwise."""
    chain = {"name": "one-step", "steps": [{"name": "answer", "model_id": CLAUDE, **step}]}
    return run_chain(template, bedrock, chain, chain_input or {}, settings)


def lambda_calls(result: ExecutionResult) -> int:
    scheduled = [event.get("taskScheduledEventDetails", {}) for event in result.history]
    return sum(1 for details in scheduled if details.get("resourceType") == "lambda")


# ---------------------------------------------------------------- the packaged chains' own machines


def test_outline_draft_critique_runs_its_steps_by_name_within_nine_transitions(template: Template, aws: Any) -> None:
    # Given the stand-in answering the two JSON steps with valid JSON
    bedrock = JsonAnswers({"Write an outline": OUTLINE, "Critique this draft": CRITIQUE})
    # When the packaged chain's own machine runs
    result = run_packaged(template, bedrock, "outline-draft-critique", machine_input(SAMPLE_INPUT))
    # Then it succeeds with every step's result, the critique's JSON as the final result
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert list(output["steps"]) == ["outline", "draft", "critique"]
    assert output["steps"]["outline"]["json"] == OUTLINE
    assert output["steps"]["draft"]["text"].startswith("Simulated answer")
    assert output["final"] == output["steps"]["critique"]
    assert output["final"]["json"] == CRITIQUE
    # And three families answered in order, the draft's prompt carrying the outline's JSON
    assert [call.target for call in bedrock.calls] == [
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.amazon.nova-lite-v1:0",
        "us.meta.llama3-1-70b-instruct-v1:0",
    ]
    assert "Chains on Step Functions" in json.dumps(bedrock.calls[1].request)
    # And the graph shows the steps by name, at most 1.5x the hand-written machine's transitions, with Lambdas only
    # where JSON is checked or an S3 answer read
    assert entered(result) == ["Check Input", "outline", "Check outline Answer", "draft", "Read draft Answer",
                               "critique", "Check critique Answer", "Finish Chain"]  # fmt: skip
    assert count_transitions(result.history).billed <= 1.5 * HAND_WRITTEN_TRANSITIONS
    assert lambda_calls(result) == 3


def test_the_chain_output_counts_the_tokens_of_every_accepted_answer(template: Template, aws: Any) -> None:
    bedrock = JsonAnswers({"Write an outline": OUTLINE, "Critique this draft": CRITIQUE})
    result = run_packaged(template, bedrock, "outline-draft-critique", machine_input(SAMPLE_INPUT))
    assert result.status == "SUCCEEDED", result.cause
    per_step = [(s["usage"]["input_tokens"], s["usage"]["output_tokens"]) for s in result.output["steps"].values()]
    assert all(tokens > 0 for pair in per_step for tokens in pair)
    assert result.output["usage"] == {
        "input_tokens": sum(pair[0] for pair in per_step),
        "output_tokens": sum(pair[1] for pair in per_step),
        "steps_without_usage": 0,
        "unaccepted": {"input_tokens": 0, "output_tokens": 0},
    }


def test_a_failing_step_keeps_the_completed_results_in_the_cause(template: Template, aws: Any) -> None:
    # Given the outline answers JSON but the critique never does
    bedrock = JsonAnswers({"Write an outline": OUTLINE})
    result = run_packaged(template, bedrock, "outline-draft-critique", machine_input(SAMPLE_INPUT))
    # Then the execution fails naming the step, with the outline and the draft kept
    assert result.error == "ModelOutputInvalid"
    cause = failure(result)
    assert cause["step"] == "critique"
    assert set(cause["completed_steps"]) == {"outline", "draft"}
    assert cause["completed_steps"]["outline"]["json"] == OUTLINE
    assert entered(result)[-2:] == ["Save Completed Steps", "Fail Chain"]
    # And the same record is in S3 first, whatever the size of the Cause
    bucket = template.buckets["PayloadBucket"]
    assert cause["completed_steps_uri"] == f"s3://{bucket}/offload/failures/{EXECUTION}.json"
    saved = json.loads(aws.get_object(Bucket=bucket, Key=f"offload/failures/{EXECUTION}.json")["Body"].read())
    assert saved["completed_steps"] == cause["completed_steps"]


@pytest.mark.parametrize(
    ("execution_input", "expected"),
    [
        ({"input": {"topic": "SFN"}}, "input.audience"),
        ({}, "an object"),
        ({"input": "SFN"}, "an object"),
        ({"input": {"topic": "x" * 40_000, "audience": "devs"}}, "over 32768 bytes"),
    ],
)
def test_a_missing_or_malformed_input_fails_by_name_before_any_model_call(
    template: Template, standin: BedrockStandIn, aws: Any, execution_input: Any, expected: str
) -> None:
    result = run_packaged(template, standin, "outline-draft-critique", execution_input)
    assert (result.status, result.error) == ("FAILED", "ChainInputError")
    assert expected in (result.cause or "")
    assert standin.calls == []


def test_parallel_perspectives_merge_step_receives_every_perspective(template: Template, aws: Any) -> None:
    bedrock = BedrockStandIn()
    result = run_packaged(template, bedrock, "parallel-perspectives", machine_input({"question": "Adopt chains?"}))
    assert result.status == "SUCCEEDED", result.cause
    steps = result.output["steps"]
    assert set(steps) == {"optimist", "skeptic", "pragmatist", "merge"}
    assert result.output["final"] == steps["merge"]
    request = json.dumps(bedrock.calls[-1].request)
    for name in ("optimist", "skeptic", "pragmatist"):
        assert json.dumps(steps[name]["text"])[1:-1] in request
    # The console shows the members by name inside the Parallel named after the group
    assert {"perspectives", "optimist", "skeptic", "pragmatist", "merge"} <= set(entered(result))


def test_map_over_items_runs_one_step_per_item_of_the_first_answer(template: Template, aws: Any) -> None:
    bedrock = JsonAnswers({"distinct ideas": IDEAS})
    result = run_packaged(template, bedrock, "map-over-items", machine_input({"goal": "cut Bedrock costs"}))
    assert result.status == "SUCCEEDED", result.cause
    steps = result.output["steps"]
    results = steps["expansions"]["results"]
    assert len(results) == len(IDEAS["items"])
    prompts = [json.dumps(call.request) for call in bedrock.calls if "claude" in call.target]
    for index, idea in enumerate(IDEAS["items"]):
        assert any(f"Idea {index}: {idea['title']}" in prompt for prompt in prompts)
    assert "llama" in bedrock.calls[-1].target
    assert entered(result).count("expand-idea") == len(IDEAS["items"])


# ---------------------------------------------------------------- one-step chains: the step's paths


def test_small_text_prompt_runs_inline_without_any_lambda(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    result = run_step(template, standin, {"prompt": "Say hello to {{ input.who }}"}, {"who": "Ada"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["text"].startswith("Simulated answer")
    assert result.output["final"]["usage"]["output_tokens"] > 0
    assert entered(result) == ["Check Input", "answer", "Finish Chain"]
    assert lambda_calls(result) == 0
    [call] = standin.calls
    assert call.request["messages"][-1]["content"] == "Say hello to Ada"


def test_large_prompt_goes_to_the_model_through_input_s3uri(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a ~60 KiB input rendered four times (a Body over 240 KiB), within a machine built for 64 KiB inputs
    document = "lorem ipsum " * (60 * 1024 // 12)
    step = {"prompt": "{{ input.doc }}\n---\n{{ input.doc }}\n---\n{{ input.doc }}\n---\n{{ input.doc }}"}
    settings = CompileSettings(max_input_bytes=64 * 1024)
    result = run_step(template, standin, step, {"doc": document}, settings)
    # Then pre-process rendered it and the request went through S3
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result)[:3] == ["Check Input", "Render answer Prompt", "answer"]
    [call] = standin.calls
    assert len(json.dumps(call.request)) > 240 * 1024
    keys = [item["Key"] for item in aws.list_objects_v2(Bucket=template.buckets["PayloadBucket"])["Contents"]]
    assert keys == [f"offload/requests/{EXECUTION}/answer.json"]


def test_output_to_s3_is_resolved_from_the_payload_bucket(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    result = run_step(template, standin, {"prompt": "Write a long essay", "offload": {"output_to_s3": True}})
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result) == ["Check Input", "answer", "Read answer Answer", "Finish Chain"]
    stored = aws.get_object(Bucket=template.buckets["PayloadBucket"], Key=f"offload/responses/{EXECUTION}/answer.json")
    assert json.loads(stored["Body"].read())["content"][0]["text"] == result.output["final"]["text"]


def test_an_answer_read_back_from_s3_is_json_checked_and_re_prompted_too(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script("answer", [claude_answer("Here is some prose."), claude_answer(json.dumps(valid))])
    step = {
        "prompt": "Outline chains as JSON",
        "offload": {"output_to_s3": True},
        "output": {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
    }
    result = run_step(template, standin, step)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["json"] == valid
    assert entered(result).count("Read answer Answer") == 2
    assert entered(result).count("Retry answer") == 1


def test_invalid_json_answer_is_reprompted_once_then_succeeds(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script("answer", [claude_answer("Sure! Here is your outline."), claude_answer(json.dumps(valid))])
    step = {
        "prompt": "Outline {{ input.topic }} as JSON",
        "output": {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
    }
    result = run_step(template, standin, step, {"topic": "prompt chains"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["json"] == valid
    # And the re-prompt carried the rejected answer and the error message written for the model, verbatim
    first, second = standin.calls
    assert [turn["role"] for turn in first.request["messages"]] == ["user"]
    turns = second.request["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == "Sure! Here is your outline."
    assert "JSON" in turns[2]["content"]
    # And the model is shown the error alone; the rejected answer's tokens are counted apart from the accepted ones
    assert "[usage]" not in turns[2]["content"]
    assert result.output["usage"]["unaccepted"] == {"input_tokens": 20, "output_tokens": 10}
    assert (result.output["usage"]["input_tokens"], result.output["usage"]["output_tokens"]) == (20, 10)


def test_never_valid_json_fails_with_model_output_invalid(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    standin.script("answer", {"0-5": claude_answer("I would rather not use {{ braces }} or JSON.")})
    result = run_step(template, standin, {"prompt": "Answer as JSON", "output": {"format": "json", "max_reprompts": 2}})
    assert result.error == "ModelOutputInvalid"
    cause = failure(result)
    assert cause["step"] == "answer"
    assert "JSON" in cause["cause"]
    assert not cause["cause"].startswith("{")
    assert cause["completed_steps"] == {}
    assert len(standin.calls) == 3
    # And the failure counts the tokens of all three answers it received, none of them accepted
    assert "[usage]" not in cause["cause"]
    assert cause["unaccepted"] == {"input_tokens": 60, "output_tokens": 30}


def test_throttled_twice_then_answers(template: Template, standin: BedrockStandIn, aws: Any) -> None:
    standin.throttle(2)
    result = run_step(template, standin, {"prompt": "Say hello"})
    assert result.status == "SUCCEEDED", result.cause
    assert [call.attempt for call in standin.calls] == [0, 1, 2]


def test_throttled_past_the_retries_fails_with_the_bedrock_error(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    standin.throttle(BEDROCK_ATTEMPTS + 5)
    result = run_step(template, standin, {"prompt": "Say hello"})
    assert result.error == "Bedrock.ThrottlingException"
    assert failure(result)["step"] == "answer"
    assert len(standin.calls) == BEDROCK_ATTEMPTS


def test_a_failing_parallel_member_keeps_the_other_members_results(template: Template, aws: Any) -> None:
    chain = {
        "name": "half-broken",
        "steps": [
            {"name": "first", "model_id": CLAUDE, "prompt": "First question"},
            {
                "parallel": {
                    "name": "pair",
                    "steps": [
                        {"name": "good", "model_id": CLAUDE, "prompt": "Say yes"},
                        {"name": "bad", "model_id": CLAUDE, "prompt": "Say no"},
                    ],
                }
            },
        ],
    }
    result = run_chain(template, JsonAnswers({}, rejected=["Say no"]), chain, {})
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert (cause["step"], cause["stage"]) == ("bad", "pair")
    assert set(cause["completed_steps"]) == {"first", "good"}


def test_a_failing_map_item_keeps_the_other_items_in_order(template: Template, aws: Any) -> None:
    bedrock = JsonAnswers({"List models": {"models": ["a", "b", "c"]}}, rejected=["Model 1: b"])
    chain = {
        "name": "map-with-a-bad-item",
        "steps": [
            {"name": "list", "model_id": CLAUDE, "prompt": "List models", "output": {"format": "json"}},
            {
                "map": {
                    "name": "each",
                    "items": "steps.list.json.models",
                    "item_variable": "model",
                    "step": {"name": "ask", "model_id": CLAUDE, "prompt": "Model {{ model_index }}: {{ model }}"},
                }
            },
        ],
    }
    result = run_chain(template, bedrock, chain, {})
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert cause["step"] == "ask-1"
    results = cause["completed_steps"]["each"]["results"]
    assert [item is None for item in results] == [False, True, False]


# ---------------------------------------------------------------- capacity: answers kept in S3 by reference


def test_ten_steps_whose_answers_total_2_mb_complete_with_the_large_answers_by_reference(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given ten text steps allowed 40,000 tokens each, each answering ~200 KB, each later one using the one before
    names = [f"s{n}" for n in range(1, 11)]
    steps: list[dict[str, Any]] = [{"name": "s1", "prompt": "Write part 1 about {{ input.topic }}"}]
    steps += [
        {"name": name, "prompt": f"Continue: {{{{ steps.{previous}.text }}}}"}
        for previous, name in itertools.pairwise(names)
    ]
    chain = {
        "name": "big-answers",
        "defaults": {"model_id": CLAUDE, "inference": {"max_tokens": 40_000}},
        "steps": steps,
    }
    answers = {name: (f"{name} " * 70_000)[:210_000] for name in names}  # 210 KB each, 2.1 MB together
    for name in names:
        standin.script(name, [claude_answer(answers[name])])
    # When the chain runs
    result = run_chain(template, standin, chain, {"topic": "capacity"})
    # Then it succeeds; every answer is in S3, the output carries a preview and the reference of each
    assert result.status == "SUCCEEDED", result.cause
    assert sum(len(text) for text in answers.values()) > 2_000_000
    bucket = template.buckets["PayloadBucket"]
    for name in names:
        kept = result.output["steps"][name]
        assert kept["truncated"] is True
        assert answers[name].startswith(kept["text"])
        key = kept["ref"].removeprefix(f"s3://{bucket}/")
        stored = json.loads(aws.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert stored["content"][0]["text"] == answers[name]
    assert len(json.dumps(result.output)) < 64 * 1024
    # And each step's prompt held the whole previous answer (read back from S3 by pre-process)
    for previous, call in zip(names, standin.calls[1:], strict=False):
        assert call.request["messages"][0]["content"] == f"Continue: {answers[previous]}"


def test_a_failure_after_large_answers_keeps_every_completed_step(template: Template, aws: Any) -> None:
    # Given three large text steps, the third of which Bedrock refuses
    chain = {
        "name": "big-then-broken",
        "defaults": {"model_id": CLAUDE, "inference": {"max_tokens": 40_000}},
        "steps": [
            {"name": "one", "prompt": "Part one"},
            {"name": "two", "prompt": "Part two after {{ steps.one.text }}"},
            {"name": "three", "prompt": "Part three after {{ steps.two.text }}"},
        ],
    }
    rejected = JsonAnswers({}, rejected=["Part three"])
    rejected.script("one", [claude_answer("a " * 100_000)])
    rejected.script("two", [claude_answer("b " * 100_000)])
    result = run_chain(template, rejected, chain, {})
    # Then the execution fails on the third step, keeping the two completed ones by reference
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert cause["step"] == "three"
    assert set(cause["completed_steps"]) == {"one", "two"}
    assert all(step["ref"].startswith("s3://") for step in cause["completed_steps"].values())


# ---------------------------------------------------------------- capacity: a map over many items (Distributed Map)


def many_items_chain(max_items: int, *, then: str | None = None) -> dict[str, Any]:
    """A JSON step listing items, a map asking about each one as a Distributed Map, and maybe a step after it."""
    steps: list[dict[str, Any]] = [
        {"name": "list", "prompt": "List the items", "output": {"format": "json"}},
        {
            "map": {
                "name": "each",
                "items": "steps.list.json.items",
                "max_items": max_items,
                "max_concurrency": 40,
                "step": {"name": "ask", "prompt": "Item {{ item_index }}: {{ item.n }}"},
            }
        },
    ]
    if then is not None:
        steps.append({"name": "after", "prompt": then})
    return {"name": "many-items", "defaults": {"model_id": CLAUDE}, "steps": steps}


def test_a_map_over_2000_generated_items_completes_with_its_results_by_reference(template: Template, aws: Any) -> None:
    # Given a first step generating 2,000 items and a map allowed 2,000 items (a Distributed Map)
    count = 2000
    bedrock = JsonAnswers({"List the items": {"items": [{"n": n} for n in range(count)]}})
    # When the chain runs
    result = run_chain(template, bedrock, many_items_chain(count), {})
    # Then it succeeds with the map's results by reference, every item's answer read back in item order
    assert result.status == "SUCCEEDED", result.cause
    reference = result.output["steps"]["each"]
    assert (reference["results"], reference["truncated"]) == (None, True)
    assert len(json.dumps(reference)) < 1024
    results = map_results(aws, reference)
    assert [item["text"].startswith("Simulated answer") for item in results] == [True] * count


def test_a_failed_item_of_a_distributed_map_stays_null_and_fails_the_chain_keeping_the_rest(
    template: Template, aws: Any
) -> None:
    # Given 60 items (over the inline bound) of which Bedrock refuses two
    bedrock = JsonAnswers(
        {"List the items": {"items": [{"n": n} for n in range(60)]}}, rejected=["Item 7: 7", "Item 42: 42"]
    )
    # When the chain runs
    result = run_chain(template, bedrock, many_items_chain(100, then="Sum up {{ steps.each.results }}"), {})
    # Then the chain fails at the map, keeping the list and the map's reference among its completed steps
    assert result.error == "MapItemsFailed"
    cause = failure(result)
    assert (cause["step"], cause["stage"]) == ("ask", "each")
    assert set(cause["completed_steps"]) == {"list", "each"}
    # And the two refused items are null, the 58 others kept
    results = map_results(aws, cause["completed_steps"]["each"])
    assert [index for index, item in enumerate(results) if item is None] == [7, 42]
    assert len(results) == 60


def test_a_distributed_map_returns_its_results_by_reference_and_a_later_step_reads_them(
    template: Template, aws: Any
) -> None:
    """45 items are enough to leave the inline bound (40)."""
    # Given 45 generated items and a step after the map using all its results
    count = 45
    bedrock = JsonAnswers({"List the items": {"items": [{"n": n} for n in range(count)]}})
    chain = many_items_chain(50, then="Sum up {{ steps.each.results | json }}")
    # When the chain runs
    result = run_chain(template, bedrock, chain, {})
    # Then it succeeds, the map's results kept in S3 by reference (the output stays small)
    assert result.status == "SUCCEEDED", result.cause
    reference = result.output["steps"]["each"]
    assert (reference["results"], reference["truncated"]) == (None, True)
    assert reference["ref"].startswith(f"s3://{template.buckets['PayloadBucket']}/offload/maps/{EXECUTION}/each/")
    assert len(json.dumps(result.output)) < 16 * 1024
    # And the results hold every item's answer, in item order
    results = map_results(aws, reference)
    assert [item["text"].startswith("Simulated answer") for item in results] == [True] * count
    # And the last prompt holds every item's answer, read back from S3 by pre-process
    last = json.dumps(bedrock.calls[-1].request)
    assert last.count("Simulated answer") >= count
    assert len(bedrock.calls) == count + 2
