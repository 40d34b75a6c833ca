"""Evaluation of a fine-tuned model: the chain plans it runs, the metric, the report and the verdict.

S3 and Step Functions are in-memory fakes of the ports; the plans are checked by rendering them with the real
templating, and the chain outputs have the prompt-chain machine's shape (``{chain, steps, final}``).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from companion.adapters.stepfunctions import StepFunctionsExecutions
from companion.errors import ExecutionNotFoundError, InputValidationError, S3LocationError
from companion.executions import ExecutionRecord
from companion.finetune.evaluation import (
    MAX_PROMPTS,
    PrepareEvaluationInput,
    ScoreEvaluationInput,
    exact_match,
    literal_template,
    prepare_evaluation,
    read_prompt_set,
    score_evaluation,
    token_f1,
)
from companion.settings import FineTuningEvaluationSettings
from companion.steps.templating import render
from tests.fakes import FakeExecutions, FakeStore

BUCKET = "companion-payloads"
SETTINGS = FineTuningEvaluationSettings(offload_bucket=BUCKET)
CUSTOM = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
PROMPTS = [
    {"prompt": "Where is my invoice?", "reference": "Under Billing, then History."},
    {"prompt": "Reset my password {{ now }}", "reference": "Open Settings, then Security."},
]
BASE_RUN = "arn:aws:states:us-east-1:123456789012:execution:FineTuningEvaluation:run-1-base"
CUSTOM_RUN = "arn:aws:states:us-east-1:123456789012:execution:FineTuningEvaluation:run-1-custom"


def _prepare(store: FakeStore, **evaluation: Any) -> Any:
    task = PrepareEvaluationInput.model_validate(
        {
            "execution_name": "run-1",
            "base_model_id": "amazon.nova-lite-v1:0",
            "fine_tuned_from": "amazon.nova-lite-v1:0:300k",
            "custom_model_id": CUSTOM,
            "evaluation": evaluation or {"prompts": PROMPTS},
        }
    )
    return prepare_evaluation(task, SETTINGS, store)


# ---------------------------------------------------------------- metric


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("Under Billing, then History.", "under billing then history", 1.0),
        ("The invoice is under Billing", "Under Billing, then History", 0.5),  # 2 of 4 words each way
        ("I do not know", "Under Billing", 0.0),
        ("", "", 1.0),
        ("", "Under Billing", 0.0),
        ("billing billing billing", "billing", 0.5),
    ],
)
def test_token_f1_counts_shared_words_after_normalisation(answer: str, reference: str, expected: float) -> None:
    assert token_f1(answer, reference) == pytest.approx(expected)


def test_exact_match_ignores_case_punctuation_and_articles() -> None:
    assert exact_match("The answer: Billing!", "answer billing")
    assert not exact_match("Billing", "History")


# ---------------------------------------------------------------- prepare


def test_prepare_builds_one_chain_per_model_that_renders_each_prompt_verbatim() -> None:
    store = FakeStore()

    prepared = _prepare(store, prompts=PROMPTS, max_tokens=64, system="Be brief.")

    # Then the base model is asked by its id and the custom one through its throughput, as a Nova model
    assert [(run.model, run.model_id) for run in prepared.runs] == [
        ("base", "amazon.nova-lite-v1:0"),
        ("custom", CUSTOM),
    ]
    custom_plan = prepared.runs[1].input["plan"]
    steps = [step for stage in custom_plan for step in stage["steps"]]
    assert [step["name"] for step in steps] == ["p000", "p001"]
    assert {step["step"]["model_family"] for step in steps} == {"nova"}
    assert {step["step"]["inference"]["max_tokens"] for step in steps} == {64}
    # ... and a prompt that looks like a template reaches the model as written
    content = steps[1]["step"]["prompt"]["messages"][0]["content"]
    assert render(content, {}, where="test") == "Reset my password {{ now }}"
    assert steps[1]["step"]["prompt"]["system"] == "Be brief."
    # And the prompts with their references are saved where scoring reads them
    assert prepared.prompts_s3_uri == f"s3://{BUCKET}/fine-tuning/reports/run-1/evaluation-prompts.json"
    assert json.loads(store.objects[prepared.prompts_s3_uri]) == PROMPTS


def test_prepare_groups_prompts_in_stages_of_five() -> None:
    prompts = [{"prompt": f"q{i}", "reference": f"a{i}"} for i in range(12)]

    prepared = _prepare(FakeStore(), prompts=prompts)

    assert [len(stage["steps"]) for stage in prepared.runs[0].input["plan"]] == [5, 5, 2]


def test_prepare_reads_a_jsonl_prompt_set_from_the_evaluation_prefix() -> None:
    store = FakeStore()
    uri = f"s3://{BUCKET}/fine-tuning/evaluation/support.jsonl"
    store.objects[uri] = "\n".join(json.dumps(item) for item in PROMPTS).encode()

    prepared = _prepare(store, prompts_s3_uri=uri)

    assert prepared.prompt_count == 2


def test_prepare_refuses_prompt_sets_outside_the_evaluation_prefix() -> None:
    with pytest.raises(S3LocationError, match="fine-tuning/evaluation/"):
        _prepare(FakeStore(), prompts_s3_uri=f"s3://{BUCKET}/fine-tuning/datasets/train.jsonl")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json", "not a JSON array nor JSONL"),
        (json.dumps([{"prompt": "q"}]).encode(), "item 1: reference"),
        (json.dumps([{"prompt": "q", "reference": "a"}] * (MAX_PROMPTS + 1)).encode(), "1 to 20"),
        (b"[]", "0 prompts"),
    ],
)
def test_unreadable_prompt_sets_are_named_errors(data: bytes, problem: str) -> None:
    with pytest.raises(InputValidationError, match=problem):
        read_prompt_set(data, "s3://b/k")


def test_literal_template_escapes_only_double_braces() -> None:
    for text in ["{{ x }}", "a {{{ b }}}", "}}{{", "{single}", "plain"]:
        assert render(literal_template(text), {}, where="t") == text


# ---------------------------------------------------------------- score


def _chain_output(answers: list[str]) -> str:
    steps = {f"p{i:03d}": {"text": text, "json": None} for i, text in enumerate(answers)}
    return json.dumps({"chain": "fine-tuning-evaluation", "steps": steps, "final": {}})


def _score(base: list[str], custom: list[str], min_improvement: float = 0.0) -> tuple[Any, FakeStore]:
    store = FakeStore()
    prepared = _prepare(store)
    executions = FakeExecutions(
        {
            BASE_RUN: ExecutionRecord("b", BASE_RUN, "SUCCEEDED", output=_chain_output(base)),
            CUSTOM_RUN: ExecutionRecord("c", CUSTOM_RUN, "SUCCEEDED", output=_chain_output(custom)),
        }
    )
    task = ScoreEvaluationInput.model_validate(
        {
            "execution_name": "run-1",
            "prompts_s3_uri": prepared.prompts_s3_uri,
            "min_improvement": min_improvement,
            "chains": [
                {"model": "base", "model_id": "amazon.nova-lite-v1:0", "execution_arn": BASE_RUN},
                {"model": "custom", "model_id": CUSTOM, "execution_arn": CUSTOM_RUN},
            ],
        }
    )
    return score_evaluation(task, SETTINGS, store, executions), store


def test_a_custom_model_closer_to_the_references_is_not_worse() -> None:
    references = [item["reference"] for item in PROMPTS]

    scored, store = _score(base=["I do not know", "No idea"], custom=references)

    assert (scored.base.score, scored.custom.score) == (0.0, 1.0)
    assert scored.custom.exact_match == 1.0
    assert scored.improvement == 1.0
    assert scored.custom_is_worse is False
    report = json.loads(store.objects[scored.report_s3_uri])
    assert scored.report_s3_uri == f"s3://{BUCKET}/fine-tuning/reports/run-1/evaluation.json"
    assert report["prompts"][1]["custom"] == {"answer": references[1], "f1": 1.0, "exact_match": True}
    assert report["metric"] == "token_f1"


def test_a_custom_model_below_the_base_model_is_worse() -> None:
    references = [item["reference"] for item in PROMPTS]

    scored, _ = _score(base=references, custom=["Under Billing", ""])

    assert scored.custom_is_worse is True
    assert scored.improvement < 0


def test_min_improvement_asks_for_a_margin() -> None:
    references = [item["reference"] for item in PROMPTS]

    scored, _ = _score(base=references, custom=references, min_improvement=0.05)

    assert scored.improvement == 0.0
    assert scored.custom_is_worse is True


def test_a_failed_evaluation_chain_cannot_be_scored() -> None:
    store = FakeStore()
    prepared = _prepare(store)
    executions = FakeExecutions(
        {
            BASE_RUN: ExecutionRecord("b", BASE_RUN, "SUCCEEDED", output=_chain_output(["x", "y"])),
            CUSTOM_RUN: ExecutionRecord("c", CUSTOM_RUN, "FAILED", error="ModelOutputInvalid"),
        }
    )
    task = ScoreEvaluationInput.model_validate(
        {
            "execution_name": "run-1",
            "prompts_s3_uri": prepared.prompts_s3_uri,
            "chains": [
                {"model": "base", "model_id": "b", "execution_arn": BASE_RUN},
                {"model": "custom", "model_id": "c", "execution_arn": CUSTOM_RUN},
            ],
        }
    )
    with pytest.raises(InputValidationError, match="FAILED"):
        score_evaluation(task, SETTINGS, store, executions)


def test_scoring_needs_one_base_and_one_custom_chain() -> None:
    with pytest.raises(ValueError, match="one base and one custom"):
        ScoreEvaluationInput.model_validate(
            {
                "execution_name": "run-1",
                "prompts_s3_uri": "s3://b/k",
                "chains": [{"model": "base", "model_id": "b", "execution_arn": BASE_RUN}] * 2,
            }
        )


def test_the_executions_adapter_describes_by_arn() -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    arn = "arn:aws:states:us-east-1:123456789012:execution:Eval:abc"
    with Stubber(client) as stub:
        stub.add_response(
            "describe_execution",
            {
                "executionArn": arn,
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Eval",
                "status": "SUCCEEDED",
                "startDate": "2026-01-01T00:00:00Z",
                "output": "{}",
            },
            {"executionArn": arn},
        )
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist")

        record = StepFunctionsExecutions(client).describe(arn)
        with pytest.raises(ExecutionNotFoundError):
            StepFunctionsExecutions(client).describe(arn)

    assert (record.name, record.status, record.output) == ("abc", "SUCCEEDED", "{}")
