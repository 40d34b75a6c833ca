"""The deployed state machines on their no-cost paths: each refuses bad input before any model or job is billed.

A run that calls Bedrock needs model access in the account; set COMPANION_INVOKE_MODELS=1 (`make smoke STACK=...
INVOKE_MODELS=1`) to include the one test that does (one short chain, a few hundred tokens).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.deployed


def _chain_missing_a_variable() -> dict[str, Any]:
    """A one-step chain whose prompt needs ``input.who``, started without it: pre-process fails before Bedrock."""
    from companion.chains import execution_input, load_chain

    step = {"name": "greet", "model_id": "amazon.nova-lite-v1:0", "prompt": "Hello {{ input.who }}"}
    return execution_input(load_chain({"name": "deployed-test-no-cost", "steps": [step]}), {})


@pytest.mark.parametrize("machine", ["PromptChainStateMachineArn", "FineTuningEvaluationStateMachineArn"])
def test_a_chain_missing_a_variable_fails_before_the_model(
    machine: str, stack_outputs: dict[str, str], run_execution: Callable[..., dict[str, Any]]
) -> None:
    # When a Standard chain machine runs a chain whose prompt refers to an input it was not given
    described = run_execution(stack_outputs[machine], _chain_missing_a_variable())
    # Then it fails with the pre-processing error, so no model was called
    assert (described["status"], described["error"]) == ("FAILED", "MissingTemplateVariablesError")
    assert "who" in described["cause"]


def test_the_express_machine_answers_a_synchronous_start(stack_outputs: dict[str, str]) -> None:
    import boto3

    # When the Express machine is started synchronously with the same chain
    described = boto3.client("stepfunctions").start_sync_execution(
        stateMachineArn=stack_outputs["PromptChainExpressStateMachineArn"],
        name=f"deployed-test-{uuid.uuid4().hex[:12]}",
        input=json.dumps(_chain_missing_a_variable()),
    )
    # Then it answers within the call, with the same pre-processing error
    assert (described["status"], described["error"]) == ("FAILED", "MissingTemplateVariablesError")


def test_a_batch_over_a_missing_prompt_set_fails_before_any_chain(
    stack_outputs: dict[str, str], run_execution: Callable[..., dict[str, Any]]
) -> None:
    prompt_set = f"prompt-sets/deployed-test-missing-{uuid.uuid4().hex}.jsonl"
    described = run_execution(
        stack_outputs["ChainBatchStateMachineArn"], {"chain": "outline-draft-critique", "prompt_set": prompt_set}
    )
    assert (described["status"], described["error"]) == ("FAILED", "PromptSetNotFoundError")


def test_an_invalid_dataset_fails_before_any_customization_job(
    stack_outputs: dict[str, str], run_execution: Callable[..., dict[str, Any]]
) -> None:
    import boto3

    bucket = stack_outputs["PayloadBucketName"]
    key = f"fine-tuning/datasets/deployed-test/{uuid.uuid4().hex}.jsonl"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"not": "a conversation"}\nnot json\n')
    try:
        described = run_execution(
            stack_outputs["FineTuningStateMachineArn"],
            {"training_data_s3_uri": f"s3://{bucket}/{key}", "hyperparameters": {"epochCount": 1}},
        )
    finally:
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    assert (described["status"], described["error"]) == ("FAILED", "DatasetValidationError")
    assert "dataset-report.json" in described["cause"]


@pytest.mark.skipif(
    os.environ.get("COMPANION_INVOKE_MODELS") != "1",
    reason="calls Bedrock (costs a few hundred tokens): set COMPANION_INVOKE_MODELS=1 (make smoke ... INVOKE_MODELS=1)",
)
def test_a_one_step_chain_answers_through_the_standard_machine(
    stack_outputs: dict[str, str], run_execution: Callable[..., dict[str, Any]]
) -> None:
    from companion.chains import execution_input, load_chain

    model = os.environ.get("COMPANION_TEST_MODEL_ID", "anthropic.claude-3-5-haiku-20241022-v1:0")
    step = {"name": "answer", "model_id": model, "prompt": "Say hello in one word.", "inference": {"max_tokens": 20}}
    chain = load_chain({"name": "deployed-test", "steps": [step]})
    described = run_execution(stack_outputs["PromptChainStateMachineArn"], execution_input(chain, {}))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["final"]["text"]
    assert output["usage"]["output_tokens"] > 0
