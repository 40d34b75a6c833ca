"""The scheduled chain batch offline: ChainBatchStateMachine of template.yaml started from its ScheduleV2 event,
a Distributed Map over a prompt set in (moto's) S3 starting one PromptChainStateMachine execution per line, the
real Lambdas, the simulated Bedrock, and the summary object the batch writes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.chain_standin import JsonAnswers
from sfn_offline.stack import ExecutionResult, OfflineStack
from sfn_offline.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
BATCH = "ChainBatchStateMachine"
CHAIN = "PromptChainStateMachine"
ANSWERS = {
    "Write an outline": {"title": "Chains offline", "sections": ["Why", "How", "Limits"]},
    "Critique this draft": {"score": 7, "strengths": ["clear"], "issues": ["short"]},
}
SCHEDULE_EVENT = ROOT / "events" / "schedule" / "chain_batch.json"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@contextlib.contextmanager
def open_stack(template: Template, bedrock: BedrockStandIn) -> Iterator[OfflineStack]:
    """The template's stack with its own moto, closed even when the test's assertion fails inside it."""
    with mock_aws(), OfflineStack(template, bedrock=bedrock) as stack:
        yield stack


@pytest.fixture
def bucket(template: Template) -> str:
    return template.buckets["PayloadBucket"]


def put_prompt_set(bucket: str, key: str, lines: list[Any]) -> None:
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=key, Body=body.encode())


def read_json(bucket: str, uri: str) -> Any:
    key = uri.removeprefix(f"s3://{bucket}/")
    return json.loads(boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read())


def scheduled_input(template: Template) -> Any:
    event = json.loads(SCHEDULE_EVENT.read_text())
    return template.state_machines[BATCH].input_from_event("ScheduledBatch", event)


TOPICS = [{"topic": f"topic {n}", "audience": "developers"} for n in range(4)]


def run_batch(stack: OfflineStack, batch_input: Any, name: str = "batch-test") -> ExecutionResult:
    return stack.run(BATCH, batch_input, name=name, timeout=120)


def test_the_schedule_runs_the_configured_chain_over_every_prompt_and_writes_a_summary(
    template: Template, bucket: str
) -> None:
    with open_stack(template, JsonAnswers(ANSWERS)) as stack:
        # Given the prompt set the schedule is configured with (template defaults), four lines
        batch_input = scheduled_input(template)
        assert batch_input["chain"] == "outline-draft-critique"
        put_prompt_set(bucket, batch_input["prompt_set"], TOPICS)
        # When the schedule's event starts the batch
        result = run_batch(stack, batch_input)
        # Then it succeeds with one chain execution per prompt, all succeeded
        assert result.status == "SUCCEEDED", result.cause
        summary = result.output
        assert summary["items"] == {
            "total": 4, "succeeded": 4, "failed": 0, "timed_out": 0, "aborted": 0, "not_reported": 0,
        }  # fmt: skip
        assert len(stack.executions(CHAIN)) == 4
        # And the tokens are the sum over every chain's accepted answers
        assert summary["tokens"]["input"] > 0
        assert summary["tokens"]["output"] > 0
        # And the summary object in S3 says the same, and the results are in S3 too
        stored = read_json(bucket, summary["summary_s3_uri"])
        assert stored["items"] == summary["items"]
        assert stored["tokens"] == summary["tokens"]
        assert stored["status"] == "SUCCEEDED"
        manifest = read_json(bucket, summary["results_manifest"])
        [succeeded_file] = manifest["ResultFiles"]["SUCCEEDED"]
        records = read_json(bucket, f"s3://{bucket}/{succeeded_file['Key']}")
        finals = [json.loads(record["Output"])["final"]["json"] for record in records]
        assert finals == [ANSWERS["Critique this draft"]] * 4


def test_failures_within_the_tolerance_are_counted_and_listed(template: Template, bucket: str) -> None:
    with open_stack(template, JsonAnswers(ANSWERS, rejected=["topic 2"])) as stack:
        put_prompt_set(bucket, "prompt-sets/tolerant.jsonl", TOPICS)
        batch_input = {
            "chain": "outline-draft-critique",
            "prompt_set": "prompt-sets/tolerant.jsonl",
            "max_concurrency": 2,
            "tolerated_failure_percentage": 30,
        }
        result = run_batch(stack, batch_input)
        # Then one of four failing (25 %) is within 30 %: the batch succeeds and says which item failed and why
        assert result.status == "SUCCEEDED", result.cause
        assert (result.output["items"]["succeeded"], result.output["items"]["failed"]) == (3, 1)
        assert result.output["failure_percentage"] == 25.0
        stored = read_json(bucket, result.output["summary_s3_uri"])
        [failed] = stored["failures"]
        assert json.loads(failed["input"]) == TOPICS[2]
        assert failed["error"] == "Bedrock.ValidationException"


def test_failures_past_the_tolerance_fail_the_batch_after_writing_the_summary(template: Template, bucket: str) -> None:
    with open_stack(template, JsonAnswers(ANSWERS, rejected=["topic 1", "topic 2", "topic 3"])) as stack:
        put_prompt_set(bucket, "prompt-sets/failing.jsonl", TOPICS)
        batch_input = {"chain": "outline-draft-critique", "prompt_set": "prompt-sets/failing.jsonl"}
        result = run_batch(stack, batch_input, name="failing-batch")
        # Then the batch fails with the Map's error (a Fail state may not raise States.*), and the summary says so
        assert result.status == "FAILED"
        assert result.error == "ChainBatch.ExceedToleratedFailureThreshold"
        assert "batches/summaries/failing-batch/summary.json" in str(result.cause)
        summary_key = "batches/summaries/failing-batch/summary.json"
        stored = read_json(bucket, f"s3://{bucket}/{summary_key}")
        assert stored["status"] == "FAILED"
        assert stored["error"] == "States.ExceedToleratedFailureThreshold"
        assert stored["items"]["total"] == 4


def test_a_malformed_prompt_set_fails_before_any_chain_starts(template: Template, bucket: str) -> None:
    standin = JsonAnswers(ANSWERS)
    with open_stack(template, standin) as stack:
        put_prompt_set(bucket, "prompt-sets/broken.jsonl", [TOPICS[0], "not json", "[1, 2]", TOPICS[1]])
        result = run_batch(stack, {"chain": "outline-draft-critique", "prompt_set": "prompt-sets/broken.jsonl"})
        assert result.status == "FAILED"
        assert result.error == "PromptSetInvalidError"
        assert "line 2: not JSON" in str(result.cause)
        assert "line 3: a JSON list" in str(result.cause)
        assert stack.executions(CHAIN) == []
        assert standin.calls == []


def test_a_missing_prompt_set_and_an_unknown_chain_are_named_errors(template: Template, bucket: str) -> None:
    with open_stack(template, JsonAnswers(ANSWERS)) as stack:
        missing = run_batch(stack, {"chain": "outline-draft-critique", "prompt_set": "prompt-sets/nope.jsonl"}, "a")
        assert (missing.status, missing.error) == ("FAILED", "PromptSetNotFoundError")
        put_prompt_set(bucket, "prompt-sets/ok.jsonl", TOPICS[:1])
        unknown = run_batch(stack, {"chain": "no-such-chain", "prompt_set": "prompt-sets/ok.jsonl"}, "b")
        assert (unknown.status, unknown.error) == ("FAILED", "UnknownChainError")
        outside = run_batch(stack, {"chain": "outline-draft-critique", "prompt_set": "offload/x.jsonl"}, "c")
        assert (outside.status, outside.error) == ("FAILED", "S3LocationError")


# ---------------------------------------------------------------- every example chain, from both event sources

EXAMPLE_ANSWERS = {
    **ANSWERS,
    "distinct ideas": {"items": [{"title": "Cache", "why": "cheaper"}, {"title": "Batch", "why": "faster"}]},
}
EXAMPLE_INPUTS = {
    "outline-draft-critique": {"topic": "SFN", "audience": "developers"},
    "parallel-perspectives": {"question": "Adopt chains?"},
    "map-over-items": {"goal": "cut Bedrock costs"},
}
API_EVENT = ROOT / "events" / "api" / "start_chain.json"


@pytest.mark.parametrize("chain", sorted(EXAMPLE_INPUTS))
def test_every_example_chain_runs_from_the_api_event(template: Template, chain: str) -> None:
    with open_stack(template, JsonAnswers(EXAMPLE_ANSWERS)) as stack:
        # Given the sample API Gateway event (POST /chains) naming this chain, without an Idempotency-Key
        event = json.loads(API_EVENT.read_text())
        event["body"] = json.dumps({"chain": chain, "variables": EXAMPLE_INPUTS[chain]})
        event["headers"].pop("Idempotency-Key", None)
        event["multiValueHeaders"].pop("Idempotency-Key", None)
        # When the real ChainApiFunction handles it, then the execution it started runs to its end
        answer = stack.functions["ChainApiFunction"](event, None)
        assert answer["statusCode"] == 202, answer["body"]
        result = stack.wait(json.loads(answer["body"])["executionArn"], timeout=60)
        assert result.status == "SUCCEEDED", result.cause
        assert result.output["chain"] == chain
        assert result.output["usage"]["output_tokens"] > 0


@pytest.mark.parametrize("chain", sorted(EXAMPLE_INPUTS))
def test_every_example_chain_runs_from_the_schedule_event(template: Template, bucket: str, chain: str) -> None:
    with open_stack(template, JsonAnswers(EXAMPLE_ANSWERS)) as stack:
        # Given the schedule's input with this chain over a two-line prompt set
        batch_input = {**scheduled_input(template), "chain": chain}
        put_prompt_set(bucket, batch_input["prompt_set"], [EXAMPLE_INPUTS[chain]] * 2)
        # When the batch runs, then both chains succeed
        result = run_batch(stack, batch_input)
        assert result.status == "SUCCEEDED", result.cause
        assert (result.output["items"]["total"], result.output["items"]["succeeded"]) == (2, 2)
