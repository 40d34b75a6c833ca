"""InvokeStepStateMachine offline: the packaged template's state machine with the real handlers, a simulated Bedrock
and S3 emulated by moto (statemachines/invoke_step.asl.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from companion.adapters.s3 import default_client
from tools.offline.bedrock_standin import BedrockStandIn
from tools.offline.cli import main
from tools.offline.engine import ExecutionResult, run_definition
from tools.offline.functions import handlers_for
from tools.offline.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
INVOKE_INLINE = "Invoke Model Inline"
BEDROCK_ATTEMPTS = 5  # the first try and MaxAttempts (4) retries of the transient Bedrock errors
SCHEMA = {
    "type": "object",
    "required": ["title", "points"],
    "properties": {"title": {"type": "string"}, "points": {"type": "array", "items": {"type": "string"}}},
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


class EntryCountingStandIn(BedrockStandIn):
    """The stand-in with scripts indexed by the state's calls so far, loop re-entries included.

    The stand-in's ``attempt`` is the Retry attempt, which starts again at 0 each time the re-prompt loop re-enters
    the invoke state; scripting "first answer, then second answer" across the loop needs the running count.
    """

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        earlier = sum(1 for call in self.calls if call.state_name == state_name)
        return super().invoke_model(model_id, body, state_name=state_name, attempt=max(attempt, earlier))


@pytest.fixture
def standin() -> BedrockStandIn:
    return EntryCountingStandIn()


def run_step(
    template: Template,
    bedrock: BedrockStandIn,
    step: dict[str, Any],
    output: dict[str, Any] | None = None,
) -> ExecutionResult:
    machine = template.state_machines["InvokeStepStateMachine"]
    execution_input: dict[str, Any] = {"step": {"step": "answer", "model_id": CLAUDE, **step}}
    if output is not None:
        execution_input["output"] = output
    return run_definition(
        machine.definition,
        execution_input,
        functions=handlers_for(template),
        bedrock=bedrock,
        execution_name="invoke-step-test",
        time_scale=0,
    )


def entered(result: ExecutionResult) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"] for event in result.history if "stateEnteredEventDetails" in event
    ]


def claude_answer(text: str) -> dict[str, Any]:
    return {
        "Return": {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": CLAUDE,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 10},
        }
    }


def test_small_text_prompt_runs_inline_and_returns_normalized_text(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a small prompt as a plain string (shorthand for one user turn)
    # When the step runs
    result = run_step(template, standin, {"prompt": "Say hello to {{ who }}", "variables": {"who": "Ada"}})

    # Then it succeeds with the normalized answer, through the inline invoke and post-processing
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["family"] == "claude"
    assert result.output["text"].startswith("Simulated answer")
    assert result.output["stop_reason"] == "end_turn"
    assert entered(result) == ["Prepare Step", "Preprocess Prompt", "Choose Request Form", INVOKE_INLINE,
                               "Postprocess Result"]  # fmt: skip
    [call] = standin.calls
    assert call.request["messages"][-1]["content"] in (
        "Say hello to Ada",
        [{"type": "text", "text": "Say hello to Ada"}],
    )


def test_large_prompt_goes_to_the_model_through_input_s3uri(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a ~150 KiB variable rendered twice (the execution input stays under 256 KiB, the Body is > 300 KiB)
    document = "lorem ipsum " * (150 * 1024 // 12)
    step = {"prompt": "{{ doc }}\n---\n{{ doc }}", "variables": {"doc": document}}
    assert len(json.dumps({"step": step}).encode()) < 256 * 1024

    # When the step runs
    result = run_step(template, standin, step)

    # Then the request went through S3 and the model got the whole body
    assert result.status == "SUCCEEDED", result.cause
    assert "Invoke Model From S3" in entered(result)
    assert INVOKE_INLINE not in entered(result)
    [call] = standin.calls
    assert len(json.dumps(call.request)) > 300 * 1024
    keys = [item["Key"] for item in aws.list_objects_v2(Bucket=template.buckets["PayloadBucket"])["Contents"]]
    assert keys == ["offload/requests/invoke-step-test/answer.json"]


def test_output_to_s3_is_resolved_from_the_payload_bucket(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a step that expects a large answer
    # When it runs with offload.output_to_s3
    result = run_step(template, standin, {"prompt": "Write a long essay", "offload": {"output_to_s3": True}})

    # Then Bedrock wrote the answer to the Output.S3Uri, Resolve Output read it back, and post-process normalized it
    assert result.status == "SUCCEEDED", result.cause
    assert entered(result)[-3:] == ["Invoke Model Inline To S3", "Resolve Output", "Postprocess Result"]
    stored = aws.get_object(
        Bucket=template.buckets["PayloadBucket"], Key="offload/responses/invoke-step-test/answer.json"
    )
    assert json.loads(stored["Body"].read())["content"][0]["text"] == result.output["text"]
    assert result.output["text"].startswith("Simulated answer")
    assert (result.output["family"], result.output["usage"]) == ("claude", "reported")


def test_an_answer_read_back_from_s3_is_json_checked_and_re_prompted_too(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a JSON step whose answers go through Output.S3Uri, and a model whose first answer is prose
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script(
        "Invoke Model Inline To S3", [claude_answer("Here is some prose."), claude_answer(json.dumps(valid))]
    )
    # When it runs
    result = run_step(
        template,
        standin,
        {"prompt": "Outline chains as JSON", "offload": {"output_to_s3": True}},
        {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
    )
    # Then the answer read back from S3 was checked like an inline one: re-prompted once, then accepted
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["json"] == valid
    assert entered(result).count("Resolve Output") == 2
    assert entered(result).count("Add Correction Turns") == 1


def test_invalid_json_answer_is_reprompted_once_then_succeeds(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a model whose first answer is prose and whose second is valid JSON
    valid = {"title": "Chains", "points": ["one", "two"]}
    standin.script(INVOKE_INLINE, [claude_answer("Sure! Here is your outline."), claude_answer(json.dumps(valid))])

    # When a JSON step with one re-prompt allowed runs
    result = run_step(
        template,
        standin,
        {"prompt": "Outline {{ topic }} as JSON", "variables": {"topic": "prompt chains"}},
        {"format": "json", "schema": SCHEMA, "max_reprompts": 1},
    )

    # Then the second answer is the output, parsed
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["json"] == valid
    assert entered(result).count("Add Correction Turns") == 1
    # And the re-prompt carried the rejected answer and the error message written for the model, verbatim
    first, second = standin.calls
    assert [turn["role"] for turn in first.request["messages"]] == ["user"]
    turns = second.request["messages"]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user"]
    assert json.dumps(turns[1]["content"]).count("Sure! Here is your outline.") == 1
    assert "JSON" in json.dumps(turns[2]["content"])
    assert "{{" not in json.dumps(turns)


def test_never_valid_json_fails_with_model_output_invalid(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a model that never answers with JSON
    standin.script(INVOKE_INLINE, {"0-5": claude_answer("I would rather not use {{ braces }} or JSON.")})

    # When a JSON step with two re-prompts allowed runs
    result = run_step(template, standin, {"prompt": "Answer as JSON"}, {"format": "json", "max_reprompts": 2})

    # Then it fails after three answers, naming the error the model was shown
    assert result.status == "FAILED"
    assert result.error == "ModelOutputInvalid"
    assert result.cause
    assert "JSON" in result.cause
    assert not result.cause.startswith("{")  # the message, not the Lambda error envelope
    assert len(standin.calls) == 3


def test_throttled_twice_then_answers(template: Template, standin: BedrockStandIn, aws: Any) -> None:
    # Given a model that throttles twice
    standin.throttle(2)
    # When the step runs
    result = run_step(template, standin, {"prompt": "Say hello"})
    # Then the third attempt's answer went through
    assert result.status == "SUCCEEDED", result.cause
    assert [call.attempt for call in standin.calls] == [0, 1, 2]


def test_throttled_past_the_retries_fails_with_the_bedrock_error(
    template: Template, standin: BedrockStandIn, aws: Any
) -> None:
    # Given a model that keeps throttling
    standin.throttle(BEDROCK_ATTEMPTS + 5)
    # When the step runs
    result = run_step(template, standin, {"prompt": "Say hello"})
    # Then the execution fails with Bedrock's error once the retries are spent
    assert result.status == "FAILED"
    assert result.error == "Bedrock.ThrottlingException"
    assert len(standin.calls) == BEDROCK_ATTEMPTS
    assert entered(result)[-1] == "Fail Step"


def test_bad_step_input_fails_with_the_function_error(template: Template, standin: BedrockStandIn, aws: Any) -> None:
    # Given a step whose template misses a variable
    # When it runs
    result = run_step(template, standin, {"prompt": "Hello {{ who }}"})
    # Then the execution fails with the pre-processing error, and the model was never called
    assert result.status == "FAILED"
    assert result.error == "MissingTemplateVariablesError"
    assert "who" in (result.cause or "")
    assert standin.calls == []


def test_sample_input_runs_through_the_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the sample input of the packaged state machine
    monkeypatch.chdir(ROOT)
    # When it runs through the offline CLI with --json
    code = main(["run", "InvokeStepStateMachine", "--input", "events/statemachine/invoke_step.json", "--json"])
    # Then it succeeds and prints one object
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    assert document["status"] == "SUCCEEDED"
    assert document["output"]["family"] == "claude"
    assert document["output"]["text"]
