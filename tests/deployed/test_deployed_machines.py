"""The deployed state machines on their no-cost paths: each refuses bad input before any model or job is billed.

A run that calls Bedrock needs model access in the account; set COMPANION_INVOKE_MODELS=1 to include the one test that
does (one short chain, a few hundred tokens).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.deployed
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _run(machine_arn: str, execution_input: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    import boto3

    client = boto3.client("stepfunctions")
    name = f"deployed-test-{uuid.uuid4().hex[:12]}"
    arn = client.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input))[
        "executionArn"
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = client.describe_execution(executionArn=arn)
        if described["status"] in FINISHED:
            return described
        time.sleep(2)
    client.stop_execution(executionArn=arn, error="DeployedTest.Timeout", cause="the test stopped waiting")
    pytest.fail(f"{arn} did not finish within {timeout} s")


def test_a_batch_over_a_missing_prompt_set_fails_before_any_chain(stack_outputs: dict[str, str]) -> None:
    prompt_set = f"prompt-sets/deployed-test-missing-{uuid.uuid4().hex}.jsonl"
    described = _run(
        stack_outputs["ChainBatchStateMachineArn"], {"chain": "outline-draft-critique", "prompt_set": prompt_set}
    )
    assert (described["status"], described["error"]) == ("FAILED", "PromptSetNotFoundError")


def test_an_invalid_dataset_fails_before_any_customization_job(stack_outputs: dict[str, str]) -> None:
    import boto3

    bucket = stack_outputs["PayloadBucketName"]
    key = f"fine-tuning/datasets/deployed-test/{uuid.uuid4().hex}.jsonl"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b'{"not": "a conversation"}\nnot json\n')
    try:
        described = _run(
            stack_outputs["FineTuningStateMachineArn"],
            {"training_data_s3_uri": f"s3://{bucket}/{key}", "hyperparameters": {"epochCount": 1}},
        )
    finally:
        boto3.client("s3").delete_object(Bucket=bucket, Key=key)
    assert (described["status"], described["error"]) == ("FAILED", "DatasetValidationError")
    assert "dataset-report.json" in described["cause"]


@pytest.mark.skipif(
    os.environ.get("COMPANION_INVOKE_MODELS") != "1", reason="calls Bedrock: set COMPANION_INVOKE_MODELS=1"
)
def test_a_one_step_chain_answers_through_the_standard_machine(stack_outputs: dict[str, str]) -> None:
    from companion.chains import execution_input, load_chain

    model = os.environ.get("COMPANION_TEST_MODEL_ID", "anthropic.claude-3-5-haiku-20241022-v1:0")
    step = {"name": "answer", "model_id": model, "prompt": "Say hello in one word.", "inference": {"max_tokens": 20}}
    chain = load_chain({"name": "deployed-test", "steps": [step]})
    described = _run(stack_outputs["PromptChainStateMachineArn"], execution_input(chain, {}))
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["final"]["text"]
    assert output["usage"]["output_tokens"] > 0
