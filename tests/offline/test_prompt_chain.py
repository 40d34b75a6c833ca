"""The prompt-chain state machines offline: the template's PromptChainStateMachine (statemachines/prompt_chain.asl.yaml)
with the real handlers, a simulated Bedrock and S3 emulated by moto, running the example chains and one-step chains
through every path of the step flow (inline, Input.S3Uri, Output.S3Uri, re-prompt, throttling, failures)."""

from __future__ import annotations

import json
import os
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
from sfn_offline.template import Template, load_template

from companion.adapters.s3 import default_client
from companion.chains import execution_input, load_chain
from companion.chains.compiler.interpreter import interpreter_definition
from tests.offline.chain_runs import (
    CLAUDE,
    STATE_PAYLOAD_LIMIT,
    EntryCountingStandIn,
    claude_answer,
    entered,
    failure,
    invoke_arguments,
    largest_payload,
    map_results,
    stored_answer,
    stored_json,
)
from tools.chain.machine import substituted

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "layers" / "runtime" / "companion" / "chains" / "library"
INVOKE = "Invoke Model"
HISTORY_LIMIT = 25_000  # events of a Standard execution
BEDROCK_ATTEMPTS = 5  # the first try and MaxAttempts (4) retries of the transient Bedrock errors
EXECUTION = "prompt-chain-test"
SCHEMA = {
    "type": "object",
    "required": ["title", "points"],
    "properties": {"title": {"type": "string"}, "points": {"type": "array", "items": {"type": "string"}}},
}
OUTLINE = {"title": "Chains on Step Functions", "sections": ["Why", "How", "Limits"]}
CRITIQUE = {"score": 7, "strengths": ["clear"], "issues": ["short"]}
IDEAS = {
    "items": [
        {"title": "Cache", "why": "cheaper"},
        {"title": "Batch", "why": "faster"},
        {"title": "Trim", "why": "smaller"},
    ]
}


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


def run_chain(
    template: Template,
    bedrock: BedrockStandIn,
    chain: Any,
    chain_input: dict[str, Any],
    definition: dict[str, Any] | None = None,
    timeout: float = 60.0,
) -> ExecutionResult:
    """``chain`` on the Standard machine's definition, or on ``definition``."""
    return run_definition(
        definition or template.state_machines["PromptChainStateMachine"].definition,
        execution_input(load_chain(chain), chain_input),
        functions=handlers_for(template),
        bedrock=bedrock,
        execution_name=EXECUTION,
        time_scale=0,
        timeout=timeout,
    )


def run_step(
    template: Template,
    bedrock: BedrockStandIn,
    step: dict[str, Any],
    chain_input: dict[str, Any] | None = None,
) -> ExecutionResult:
    """A one-step chain: the step is named ``answer`` and uses Claude unless it says otherwise."""
    chain = {"name": "one-step", "steps": [{"name": "answer", "model_id": CLAUDE, **step}]}
    return run_chain(template, bedrock, chain, chain_input or {})


# ---------------------------------------------------------------- the example chains


def test_outline_draft_critique_runs_three_families_in_order(template: Template, aws: Any) -> None:
    # Given the stand-in answering the two JSON steps with valid JSON
    bedrock = JsonAnswers({"Write an outline": OUTLINE, "Critique this draft": CRITIQUE})
    # When the example chain runs
    result = run_chain(template, bedrock, CHAINS / "outline-draft-critique.json", {"topic": "SFN", "audience": "devs"})
    # Then it succeeds with every step's result, the critique's JSON as the final result
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert output["chain"] == "outline-draft-critique"
    assert list(output["steps"]) == ["outline", "draft", "critique"]
    assert output["steps"]["outline"]["json"] == OUTLINE
    assert output["steps"]["draft"]["text"].startswith("Simulated answer")
    assert output["final"] == output["steps"]["critique"]
    assert output["final"]["json"] == CRITIQUE
    # And three families answered, the draft through Output.S3Uri, and the draft's prompt had the outline's JSON
    assert [call.target for call in bedrock.calls] == [
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.amazon.nova-lite-v1:0",
        "us.meta.llama3-1-70b-instruct-v1:0",
    ]
    assert "Resolve Output" in entered(result)
    assert "Chains on Step Functions" in json.dumps(bedrock.calls[1].request)


def test_parallel_perspectives_merge_step_receives_every_perspective(template: Template, aws: Any) -> None:
    bedrock = BedrockStandIn()
    result = run_chain(template, bedrock, CHAINS / "parallel-perspectives.json", {"question": "Adopt chains?"})
    assert result.status == "SUCCEEDED", result.cause
    steps = result.output["steps"]
    assert set(steps) == {"optimist", "skeptic", "pragmatist", "merge"}
    assert result.output["final"] == steps["merge"]
    # The merge step (last call) got the three answers of the parallel group, from three families
    merge_call = bedrock.calls[-1]
    assert merge_call.target == "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
    request = json.dumps(merge_call.request)
    for name in ("optimist", "skeptic", "pragmatist"):
        assert json.dumps(steps[name]["text"])[1:-1] in request
    assert {call.target for call in bedrock.calls[:3]} == {
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.amazon.nova-pro-v1:0",
        "mistral.mistral-large-2407-v1:0",
    }


def test_map_over_items_runs_one_step_per_item_of_the_first_answer(template: Template, aws: Any) -> None:
    bedrock = JsonAnswers({"distinct ideas": IDEAS})
    result = run_chain(template, bedrock, CHAINS / "map-over-items.json", {"goal": "cut Bedrock costs"})
    assert result.status == "SUCCEEDED", result.cause
    steps = result.output["steps"]
    assert steps["ideas"]["json"] == IDEAS
    results = steps["expansions"]["results"]
    assert len(results) == len(IDEAS["items"])
    assert all(item["text"].startswith("Simulated answer") for item in results)
    # One expand-idea call per item, each with its own item and index
    expand_calls = [call for call in bedrock.calls if "claude" in call.target]
    assert len(expand_calls) == 3
    prompts = sorted(json.dumps(call.request) for call in expand_calls)
    for index, idea in enumerate(IDEAS["items"]):
        assert any(f"Idea {index}: {idea['title']}" in prompt for prompt in prompts)
    # And the summary saw every plan
    assert "llama" in bedrock.calls[-1].target
    assert result.output["final"] == steps["summary"]


def test_a_failing_step_keeps_the_completed_results_in_the_cause(template: Template, aws: Any) -> None:
    # Given the outline answers JSON but the critique never does
    bedrock = JsonAnswers({"Write an outline": OUTLINE})
    result = run_chain(template, bedrock, CHAINS / "outline-draft-critique.json", {"topic": "SFN", "audience": "devs"})
    # Then the execution fails naming the step, with the outline and the draft kept
    assert result.error == "ModelOutputInvalid"
    cause = failure(result)
    assert cause["step"] == "critique"
    assert set(cause["completed_steps"]) == {"outline", "draft"}
    assert cause["completed_steps"]["outline"]["json"] == OUTLINE
    assert entered(result)[-3:] == ["Record Failure", "Save Completed Steps", "Fail Chain"]


# ---------------------------------------------------------------- one-step chains: the step flow's paths


def test_small_text_prompt_runs_inline_and_returns_the_text(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a small prompt as a plain string (shorthand for one user turn)
    result = run_step(template, standin, {"prompt": "Say hello to {{ input.who }}"}, {"who": "Ada"})

    # Then it succeeds with the answer and its tokens, read in the invoke state itself: a text step pays for no
    # post-processing Lambda
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["text"].startswith("Simulated answer")
    assert result.output["final"]["json"] is None
    assert result.output["final"]["usage"]["output_tokens"] > 0
    assert result.output["steps"] == {"answer": result.output["final"]}
    assert entered(result) == ["Start Chain", "Check Next Stage", "Run Stage Steps", "Preprocess Prompt", INVOKE,
                               "Route Answer", "Finish Step", "Check Next Stage", "Finish Chain"]  # fmt: skip
    [call] = standin.calls
    assert call.target == CLAUDE
    assert call.request["messages"][-1]["content"] in (
        "Say hello to Ada",
        [{"type": "text", "text": "Say hello to Ada"}],
    )


def test_large_prompt_goes_to_the_model_through_input_s3uri(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a ~75 KiB input rendered four times (the state holds it twice, the Body is > 300 KiB)
    document = "lorem ipsum " * (75 * 1024 // 12)
    step = {"prompt": "{{ input.doc }}\n---\n{{ input.doc }}\n---\n{{ input.doc }}\n---\n{{ input.doc }}"}

    result = run_step(template, standin, step, {"doc": document})

    # Then the request went through S3 and the model got the whole body
    assert result.status == "SUCCEEDED", result.cause
    [arguments] = invoke_arguments(result)
    assert set(arguments) == {"ModelId", "ContentType", "Accept", "Input"}
    [call] = standin.calls
    assert len(json.dumps(call.request)) > 300 * 1024
    keys = [item["Key"] for item in aws.list_objects_v2(Bucket=template.buckets["PayloadBucket"])["Contents"]]
    assert keys == [f"offload/requests/{EXECUTION}/answer.json"]


def test_output_to_s3_is_resolved_from_the_payload_bucket(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    result = run_step(template, standin, {"prompt": "Write a long essay", "offload": {"output_to_s3": True}})

    # Then Bedrock wrote the answer to the Output.S3Uri, Resolve Output read it back, and post-process normalized it
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result)[4:8] == [INVOKE, "Route Answer", "Resolve Output", "Postprocess Result"]
    [arguments] = invoke_arguments(result)
    assert set(arguments) == {"ModelId", "ContentType", "Accept", "Body", "Output"}
    stored = aws.get_object(Bucket=template.buckets["PayloadBucket"], Key=f"offload/responses/{EXECUTION}/answer.json")
    assert json.loads(stored["Body"].read())["content"][0]["text"] == result.output["final"]["text"]
    assert result.output["final"]["text"].startswith("Simulated answer")


def test_an_answer_read_back_from_s3_is_json_checked_and_re_prompted_too(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script(INVOKE, [claude_answer("Here is some prose."), claude_answer(json.dumps(valid))])
    result = run_step(
        template,
        standin,
        {
            "prompt": "Outline chains as JSON",
            "offload": {"output_to_s3": True},
            "output": {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
        },
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["json"] == valid
    assert entered(result).count("Resolve Output") == 2
    assert entered(result).count("Add Correction Turns") == 1


def test_invalid_json_answer_is_reprompted_once_then_succeeds(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script(INVOKE, [claude_answer("Sure! Here is your outline."), claude_answer(json.dumps(valid))])

    result = run_step(
        template,
        standin,
        {
            "prompt": "Outline {{ input.topic }} as JSON",
            "output": {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
        },
        {"topic": "prompt chains"},
    )

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["json"] == valid
    assert entered(result).count("Add Correction Turns") == 1
    # And the re-prompt carried the rejected answer and the error message written for the model, verbatim
    first, second = standin.calls
    assert [turn["role"] for turn in first.request["messages"]] == ["user"]
    turns = second.request["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert json.dumps(turns[1]["content"]).count("Sure! Here is your outline.") == 1
    assert "JSON" in json.dumps(turns[2]["content"])
    assert "{{" not in json.dumps(turns)


@pytest.mark.parametrize(
    "crafted",
    ["[" * 990, '{"title": ' + "9" * 5000 + "}", '{"title": NaN}', '{"title": "\\ud800", "points": []}'],
    ids=["990 brackets", "5000 digits", "NaN", "lone surrogate"],
)
def test_a_crafted_answer_enters_the_re_prompt_loop(
    template: Template, standin: BedrockStandIn, aws: Any, crafted: str
) -> None:
    # Given a first answer built to crash a JSON parser, then a valid one
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script(INVOKE, [claude_answer(crafted), claude_answer(json.dumps(valid))])
    # When the step asks for JSON with one re-prompt allowed
    result = run_step(
        template,
        standin,
        {"prompt": "Outline as JSON", "output": {"format": "json", "schema": SCHEMA, "max_reprompts": 1}},
    )
    # Then post-processing rejected the crafted answer with a ModelOutput* error, the loop re-prompted once, and
    # the step succeeded on the second answer
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result).count("Add Correction Turns") == 1
    assert result.output["final"]["json"] == valid
    assert len(standin.calls) == 2


def test_never_valid_json_fails_with_model_output_invalid(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    standin.script(INVOKE, {"0-5": claude_answer("I would rather not use {{ braces }} or JSON.")})

    result = run_step(template, standin, {"prompt": "Answer as JSON", "output": {"format": "json", "max_reprompts": 2}})

    # Then it fails after three answers, naming the step and the error the model was shown
    assert result.error == "ModelOutputInvalid"
    cause = failure(result)
    assert cause["step"] == "answer"
    assert "JSON" in cause["cause"]
    assert not cause["cause"].startswith("{")  # the message, not the Lambda error envelope
    assert cause["completed_steps"] == {}
    assert len(standin.calls) == 3


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
    # The failed run ends as a record, so the stage merges what else completed before the chain fails
    assert entered(result)[-5:] == [
        "Describe Step Failure",
        "Check Next Stage",
        "Record Failure",
        "Save Completed Steps",
        "Fail Chain",
    ]


def test_bad_step_input_fails_with_the_function_error(template: Template, standin: BedrockStandIn, aws: Any) -> None:
    # Given a step whose template refers to an input field the execution does not have
    result = run_step(template, standin, {"prompt": "Hello {{ input.who }}"})
    # Then the execution fails with the pre-processing error, and the model was never called
    assert result.error == "MissingTemplateVariablesError"
    assert "who" in failure(result)["cause"]
    assert standin.calls == []


def test_the_express_machine_runs_the_same_flow_without_distributed_maps(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given the Express machine of the template (short chains): the Standard definition less its Distributed Map,
    # which Step Functions runs in Standard workflows only
    express = template.state_machines["PromptChainExpressStateMachine"]
    standard = template.state_machines["PromptChainStateMachine"].definition
    assert set(standard["States"]) - set(express.definition["States"]) == {
        "Write Map Items",
        "Write Map Variables",
        "Run Map Items",
    }
    assert "DISTRIBUTED" not in json.dumps(express.definition)
    assert express.definition["States"]["Run Stage Steps"] == standard["States"]["Run Stage Steps"]
    # When a one-step chain runs on it
    chain = {"name": "one-step", "steps": [{"name": "answer", "model_id": CLAUDE, "prompt": "Say hello"}]}
    result = run_definition(
        express.definition,
        execution_input(load_chain(chain), {}),
        functions=handlers_for(template),
        bedrock=standin,
        execution_name=EXECUTION,
        time_scale=0,
    )
    # Then it succeeds like the Standard one
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["final"]["text"].startswith("Simulated answer")


def test_a_map_over_something_that_is_not_a_list_fails_naming_the_map(template: Template, aws: Any) -> None:
    # Given the map chain whose first step answers JSON where items is not a list
    bedrock = JsonAnswers({"distinct ideas": {"items": {"title": "one idea", "why": "not a list"}}})
    chain = json.loads((CHAINS / "map-over-items.json").read_text(encoding="utf-8"))
    chain["steps"][0]["output"].pop("schema")
    # When it runs
    result = run_chain(template, bedrock, chain, {"goal": "cut Bedrock costs"})
    # Then the map's Items ($error) fail before any map step runs, with the message naming the map, and the chain
    # fails as PromptChain.QueryEvaluationError (a Fail state may not raise States.*) keeping the completed step
    assert (result.status, result.error) == ("FAILED", "PromptChain.QueryEvaluationError")
    cause = failure(result)
    assert (cause["step"], cause["error"]) == ("expansions", "States.QueryEvaluationError")
    assert "steps.ideas.json.items is not a list" in cause["cause"]
    assert set(cause["completed_steps"]) == {"ideas"}
    assert len(bedrock.calls) == 1


# ---------------------------------------------------------------- what a failing stage keeps; token usage


def test_a_failing_parallel_member_keeps_the_other_members_results(template: Template, aws: Any) -> None:
    # Given a parallel group whose second member's request Bedrock rejects (ValidationException)
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
    # When the chain runs
    result = run_chain(template, JsonAnswers({}, rejected=["Say no"]), chain, {})
    # Then it fails with Bedrock's error, naming the failed member
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert (cause["step"], cause["stage"]) == ("bad", "pair")
    # And both the earlier step and the member that completed are kept
    assert set(cause["completed_steps"]) == {"first", "good"}
    assert cause["completed_steps"]["good"]["text"].startswith("Simulated answer")


def test_a_failing_map_item_keeps_the_other_items_in_order(template: Template, aws: Any) -> None:
    # Given a map over three items whose second item's request Bedrock rejects
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
    # Then the execution fails on that item and keeps the others in item order, null where the item failed
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert cause["step"] == "ask-1"
    results = cause["completed_steps"]["each"]["results"]
    assert [item is None for item in results] == [False, True, False]


def test_the_chain_output_counts_the_tokens_of_every_accepted_answer(template: Template, aws: Any) -> None:
    # Given the example chain answered by the stand-in (which reports usage for these families)
    bedrock = JsonAnswers({"Write an outline": OUTLINE, "Critique this draft": CRITIQUE})
    # When it runs
    result = run_chain(template, bedrock, CHAINS / "outline-draft-critique.json", {"topic": "SFN", "audience": "devs"})
    # Then each step carries its answer's tokens and the chain's usage is their sum
    assert result.status == "SUCCEEDED", result.cause
    steps = result.output["steps"].values()
    per_step = [(step["usage"]["input_tokens"], step["usage"]["output_tokens"]) for step in steps]
    assert all(tokens > 0 for pair in per_step for tokens in pair)
    assert result.output["usage"] == {
        "input_tokens": sum(pair[0] for pair in per_step),
        "output_tokens": sum(pair[1] for pair in per_step),
        "steps_without_usage": 0,
        "unaccepted": {"input_tokens": 0, "output_tokens": 0},
    }


def test_a_states_error_fails_the_chain_under_a_name_a_fail_state_may_raise(template: Template, aws: Any) -> None:
    # Given the chain's failure states, reached with a States.* error (a Lambda timeout, as Step Functions names it)
    # after one step completed
    states = template.state_machines["PromptChainStateMachine"].definition["States"]
    reached = {
        "Type": "Pass",
        "Assign": {
            "plan": [{"kind": "step", "name": "answer"}],
            "index": 0,
            "steps": {"first": {"text": "kept"}},
            "unaccepted": {"input_tokens": 0, "output_tokens": 0},
        },
        "Next": "Record Failure",
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Reach Failure",
        "States": {"Reach Failure": reached}
        | {name: states[name] for name in ("Record Failure", "Save Completed Steps", "Fail Chain")},
    }
    cause = json.dumps({"step": "answer", "cause": "Task timed out"})
    failed = {"failure": {"Error": "States.Timeout", "Cause": cause}}
    # When they run
    result = run_definition(definition, failed, execution_name=EXECUTION)
    # Then the chain fails as PromptChain.Timeout (a Fail state may not raise States.*), the Cause keeping the original
    assert result.error == "PromptChain.Timeout"
    document = {
        "step": "answer",
        "stage": "answer",
        "error": "States.Timeout",
        "cause": "Task timed out",
        "unaccepted": {"input_tokens": 0, "output_tokens": 0},
        "completed_steps": {"first": {"text": "kept"}},
    }
    key = f"offload/failures/{EXECUTION}.json"
    assert failure(result) == document | {"completed_steps_uri": f"s3://{template.buckets['PayloadBucket']}/{key}"}
    # And the same document is in S3, where a Cause too long for its 32,768 characters points
    stored = aws.get_object(Bucket=template.buckets["PayloadBucket"], Key=key)
    assert json.loads(stored["Body"].read()) == document


# ---------------------------------------------------------------- no payload ceiling: long chains, long answers

LONG_ANSWER_CHARS = 200_000
LONG_STEPS = 10


def long_answer(step: int) -> str:
    return f"answer {step}: " + "lorem ipsum " * (LONG_ANSWER_CHARS // 12)


def long_chain(extra: list[dict[str, Any]]) -> dict[str, Any]:
    """Ten steps, each prompt quoting the whole answer before it, then ``extra``."""
    steps = [{"name": "s0", "model_id": CLAUDE, "prompt": "Begin"}]
    steps += [
        {"name": f"s{n}", "model_id": CLAUDE, "prompt": f"Step {n} after: {{{{ steps.s{n - 1}.text }}}}"}
        for n in range(1, LONG_STEPS)
    ]
    return {"name": "long-answers", "steps": steps + extra}


def test_ten_steps_with_two_megabytes_of_answers_complete(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given ten steps answering 200,000 characters each (2 MB in all), each prompt quoting the answer before it
    standin.script(INVOKE, [claude_answer(long_answer(n)) for n in range(LONG_STEPS)])
    # When the chain runs
    result = run_chain(template, standin, long_chain([]), {})
    # Then it succeeds, no state ever carried more than Step Functions' 256 KiB
    assert result.status == "SUCCEEDED", result.cause
    assert largest_payload(result) <= STATE_PAYLOAD_LIMIT
    # And every step's record is a preview with the reference to its whole answer in S3
    steps = result.output["steps"]
    assert list(steps) == [f"s{n}" for n in range(LONG_STEPS)]
    for n, record in enumerate(steps.values()):
        assert record["truncated"] is True
        assert long_answer(n).startswith(record["text"])
        assert stored_answer(aws, record["ref"]) == long_answer(n)
    # And each prompt got the whole answer before it, read back from S3
    for n in range(1, LONG_STEPS):
        assert long_answer(n - 1) in json.dumps(standin.calls[n].request)


def test_a_failure_after_long_steps_keeps_every_completed_step(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given the ten long steps, then an eleventh whose request Bedrock rejects
    rejected = {"Throw": {"Error": "Bedrock.ValidationException", "Cause": "The request is malformed."}}
    standin.script(INVOKE, [*(claude_answer(long_answer(n)) for n in range(LONG_STEPS)), rejected])
    chain = long_chain([{"name": "last", "model_id": CLAUDE, "prompt": "Sum up {{ steps.s9.text }}"}])
    # When the chain runs
    result = run_chain(template, standin, chain, {})
    # Then it fails with Bedrock's error, naming the step
    assert result.error == "Bedrock.ValidationException"
    cause = failure(result)
    assert cause["step"] == "last"
    # And the Cause and the failure document in S3 keep all ten completed steps, each answer readable from its ref
    document = stored_json(aws, cause["completed_steps_uri"])
    assert cause["completed_steps"] == document["completed_steps"]
    assert list(document["completed_steps"]) == [f"s{n}" for n in range(LONG_STEPS)]
    for n, record in enumerate(document["completed_steps"].values()):
        assert stored_answer(aws, record["ref"]) == long_answer(n)
    assert largest_payload(result) <= STATE_PAYLOAD_LIMIT


LARGE_MAP_ITEMS = 2000


def large_map_chain(extra: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON step listing items, a map asking about each, then ``extra``."""
    return {
        "name": "large-map",
        "steps": [
            {"name": "list", "model_id": CLAUDE, "prompt": "List the items", "output": {"format": "json"}},
            {"map": {"name": "each", "items": "steps.list.json.items", "step": {
                "name": "ask", "model_id": CLAUDE, "prompt": "Describe {{ item }} ({{ item_index }})"}}},
            *extra,
        ],
    }  # fmt: skip


def test_a_map_over_more_items_than_an_inline_map_carries_runs_as_a_distributed_map(
    template: Template, aws: Any
) -> None:
    # Given the Standard definition with the inline Map's limit lowered to 2, and a map over 5 generated items whose
    # results a last step quotes
    items = [f"item-{n}" for n in range(5)]
    bedrock = JsonAnswers({"List the items": {"items": items}})
    chain = large_map_chain([{"name": "sum", "model_id": CLAUDE, "prompt": "Sum up {{ steps.each.results }}"}])
    definition = substituted(interpreter_definition(map_items=2), template)
    # When the chain runs
    result = run_chain(template, bedrock, chain, {}, definition)
    # Then the map ran as a Distributed Map, its items and the chain's variables written to S3 first
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result)[9:13] == ["Check Next Stage", "Write Map Items", "Write Map Variables", "Run Map Items"]
    assert "Run Stage Steps" not in entered(result)[10:14]
    # And its record is a reference to the manifest of its result files in S3, one record per item
    record = result.output["steps"]["each"]
    assert (record["results"], record["truncated"]) == (None, True)
    assert record["ref"].startswith(f"s3://{template.buckets['PayloadBucket']}/offload/maps/{EXECUTION}/each/")
    assert len(map_results(aws, record)) == len(items)
    # And the last prompt got every item's answer, in item order, read back from those files
    last = json.dumps(bedrock.calls[-1].request)
    positions = [last.index(f"Describe {item} ({n})") for n, item in enumerate(items)]
    assert positions == sorted(positions)
    assert len(bedrock.calls) == len(items) + 2


def test_a_failed_item_of_a_distributed_map_fails_the_chain_keeping_the_completed_steps(
    template: Template, aws: Any
) -> None:
    # Given a map over 4 items run as a Distributed Map, whose third item's request Bedrock rejects
    bedrock = JsonAnswers({"List the items": {"items": ["a", "b", "c", "d"]}}, rejected=["Describe c"])
    definition = substituted(interpreter_definition(map_items=2), template)
    # When the chain runs
    result = run_chain(template, bedrock, large_map_chain([]), {}, definition)
    # Then the map run fails at the failed item, naming the map, and the chain keeps the list step
    assert result.error == "PromptChain.ExceedToleratedFailureThreshold"
    cause = failure(result)
    assert (cause["step"], cause["stage"]) == ("each", "each")
    assert set(cause["completed_steps"]) == {"list"}


@pytest.mark.skipif(
    not os.environ.get("COMPANION_LARGE_MAP_TEST"),
    reason="2,000 child workflows and a step quoting all their results take about 80 s offline (set "
    "COMPANION_LARGE_MAP_TEST=1); the Distributed Map path itself runs in every test run through the lowered-limit "
    "tests above, and a compiled chain's 2,000-item map in tests/offline/test_compiled_chains.py",
)
def test_a_map_over_two_thousand_generated_items_completes(template: Template, aws: Any) -> None:
    # Given a first step that generates 2,000 items, a map over them on the Standard machine, and a step after it
    items = [f"item-{n}" for n in range(LARGE_MAP_ITEMS)]
    bedrock = JsonAnswers({"List the items": {"items": items}})
    chain = large_map_chain([{"name": "sum", "model_id": CLAUDE, "prompt": "Sum up {{ steps.each.results }}"}])
    # When the chain runs (an hour at most: the runner's wall-clock limit, not a speed goal)
    result = run_chain(template, bedrock, chain, {}, timeout=3600)
    # Then every item was asked about and the last step saw them all, within the payload and history limits
    assert result.status == "SUCCEEDED", result.cause
    assert len(bedrock.calls) == LARGE_MAP_ITEMS + 2
    assert len(map_results(aws, result.output["steps"]["each"])) == LARGE_MAP_ITEMS
    assert f"Describe item-{LARGE_MAP_ITEMS - 1}" in json.dumps(bedrock.calls[-1].request)
    assert largest_payload(result) <= STATE_PAYLOAD_LIMIT
    assert len(result.history) < HISTORY_LIMIT


def test_the_express_machine_refuses_a_map_over_more_items_than_it_carries(template: Template, aws: Any) -> None:
    # Given a map over 101 generated items (one more than an inline Map carries), on the Express machine
    bedrock = JsonAnswers({"List the items": {"items": list(range(101))}})
    chain = large_map_chain([])
    # When the chain runs
    result = run_chain(
        template, bedrock, chain, {}, template.state_machines["PromptChainExpressStateMachine"].definition
    )
    # Then it fails by name before any item runs, saying the limit, and keeps the list it made
    assert result.error == "PromptChain.MapTooLarge"
    cause = failure(result)
    assert (cause["step"], cause["stage"]) == ("each", "each")
    assert "101 items" in cause["cause"]
    assert "at most 100" in cause["cause"]
    assert cause["completed_steps"]["list"]["json"] == {"items": list(range(101))}
    assert len(bedrock.calls) == 1
