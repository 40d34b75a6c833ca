"""The fine-tuning pipeline offline: the template's FineTuningStateMachine (statemachines/fine_tuning.asl.yaml) with the
real handlers (dataset validator, evaluation, fine-tune API), the SIMULATED Bedrock stand-in's customization-job and
provisioned-throughput lifecycles, nested prompt-chain executions on FineTuningEvaluationStateMachine, and moto's S3,
SNS and SQS (a queue subscribed to the notifications topic shows what was published)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import ExecutionResult
from sfn_offline.stack import OfflineStack
from sfn_offline.template import Template, load_template

from tests.offline.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
MACHINE = "FineTuningStateMachine"
EVALUATION_MACHINE = "FineTuningEvaluationStateMachine"
BUCKET = "offline-payloadbucket"
TRAINING_KEY = "fine-tuning/datasets/support/train.jsonl"
VALIDATION_KEY = "fine-tuning/datasets/support/validation.jsonl"
CUSTOM_MODEL_NAME = re.compile(r"^([0-9a-zA-Z][_-]?)+$")
RECORD = {
    "schemaVersion": "bedrock-conversation-2024",
    "system": [{"text": "You answer support questions."}],
    "messages": [
        {"role": "user", "content": [{"text": "How do I reset my password?"}]},
        {"role": "assistant", "content": [{"text": "Open Settings, then Security, then Reset password."}]},
    ],
}
PROMPTS = [
    {"prompt": "How do I reset my password?", "reference": "Open Settings, then Security, then Reset password."},
    {"prompt": "Where is my invoice?", "reference": "Invoices are under Billing, then History."},
    {"prompt": "Can I change my plan?", "reference": "Yes, under Billing, then Plan."},
]
GOOD = {item["prompt"]: item["reference"] for item in PROMPTS}
BAD = dict.fromkeys(GOOD, "I do not know.")


def request(**extra: Any) -> dict[str, Any]:
    return {
        "customization_type": "FINE_TUNING",
        "training_data_s3_uri": f"s3://{BUCKET}/{TRAINING_KEY}",
        "validation_data_s3_uri": f"s3://{BUCKET}/{VALIDATION_KEY}",
        "hyperparameters": {"epochCount": 2, "learningRate": 0.00001},
        **extra,
    }


class EvaluationAnswers(BedrockStandIn):
    """The stand-in, answering the evaluation's prompts with chosen texts: ``base`` for foundation models, ``custom``
    for custom and provisioned models (Nova answer format); everything else as the stand-in does."""

    def __init__(self, base: dict[str, str], custom: dict[str, str]) -> None:
        super().__init__()
        self.answers = {"base": base, "custom": custom}

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        answer = super().invoke_model(model_id, body, state_name=state_name, attempt=attempt)
        role = "custom" if ":custom-model/" in model_id or ":provisioned-model/" in model_id else "base"
        question = body["messages"][-1]["content"][0]["text"]
        text = self.answers[role].get(question)
        if text is not None:
            answer["output"]["message"]["content"][0]["text"] = text
        return answer

    def requests(self, action: str) -> list[Any]:
        return [call.request for call in self.calls if call.api == "control_plane" and call.target == action]

    def invoked_models(self) -> set[str]:
        return {call.target for call in self.calls if call.api == "invoke_model"}


@dataclass
class Pipeline:
    stack: OfflineStack
    bedrock: EvaluationAnswers
    s3: Any
    sqs: Any
    queue_url: str

    def run(self, execution_input: Any, name: str = "fine-tune-1", timeout: float = 120.0) -> ExecutionResult:
        return self.stack.run(MACHINE, execution_input, name=name, timeout=timeout)

    def notifications(self) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in received]

    def read_json(self, uri: str) -> Any:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture
def bedrock() -> EvaluationAnswers:
    answers = EvaluationAnswers(base=BAD, custom=GOOD)
    answers.job_lifecycle(polls_until_done=2)
    answers.throughput_lifecycle(polls_until_in_service=2)
    return answers


@pytest.fixture
def pipeline(template: Template, bedrock: EvaluationAnswers) -> Iterator[Pipeline]:
    spec = template.state_machines[MACHINE]
    topic_arn = spec.definition["States"]["Notify Failure"]["Arguments"]["TopicArn"]
    with mock_aws(), OfflineStack(template, bedrock=bedrock) as stack:
        s3 = boto3.client("s3", region_name="us-east-1")
        line = json.dumps(RECORD) + "\n"
        s3.put_object(Bucket=BUCKET, Key=TRAINING_KEY, Body=(line * 40).encode())
        s3.put_object(Bucket=BUCKET, Key=VALIDATION_KEY, Body=(line * 10).encode())
        sns = boto3.client("sns", region_name="us-east-1")
        sns.get_topic_attributes(TopicArn=topic_arn)  # the stack created the template's topic
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="fine-tuning-notifications")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"}
        )
        yield Pipeline(stack, bedrock, s3, sqs, queue_url)


def _failure(result: ExecutionResult) -> dict[str, Any]:
    assert result.cause is not None
    failure: dict[str, Any] = json.loads(result.cause)
    return failure


# ---------------------------------------------------------------------------------------------- the happy path


def test_a_valid_dataset_is_fine_tuned_evaluated_and_summarised(pipeline: Pipeline) -> None:
    # Given a valid dataset, held-out prompts, and a custom model that answers them better than the base model
    # When the pipeline runs
    result = pipeline.run(request(evaluation={"prompts": PROMPTS}))

    # Then it succeeds: dataset checked, one job created and followed to Completed, no throughput bought
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    actions = pipeline.bedrock.control_plane_actions()
    assert actions.count("CreateModelCustomizationJob") == 1
    assert "CreateProvisionedModelThroughput" not in actions
    [create] = pipeline.bedrock.requests("CreateModelCustomizationJob")
    # ... with Bedrock's naming rules, a token derived from the execution name and hyperparameters as strings
    assert len(create["JobName"]) <= 63
    assert len(create["CustomModelName"]) <= 63
    assert CUSTOM_MODEL_NAME.fullmatch(create["CustomModelName"])
    digest = hashlib.sha256(b"fine-tune-1").hexdigest()
    assert create["ClientRequestToken"] == f"ft-{digest}"
    assert create["CustomModelName"] == f"ft-fine-tune-1-{digest[:12]}"
    assert create["HyperParameters"] == {"epochCount": "2", "learningRate": "0.00001"}
    assert create["BaseModelIdentifier"] == "amazon.nova-lite-v1:0:300k"
    assert create["RoleArn"].endswith("-BedrockCustomizationRole")
    assert create["TrainingDataConfig"] == {"S3Uri": f"s3://{BUCKET}/{TRAINING_KEY}"}
    assert create["ValidationDataConfig"] == {"Validators": [{"S3Uri": f"s3://{BUCKET}/{VALIDATION_KEY}"}]}
    assert create["OutputDataConfig"]["S3Uri"].startswith(f"s3://{BUCKET}/fine-tuning/output/")

    # And the summary names the job, the model, the metrics and every report
    summary = result.output
    assert summary["status"] == "SUCCEEDED"
    assert summary["job_arn"].startswith("arn:aws:bedrock:us-east-1:123456789012:model-customization-job/")
    assert summary["custom_model_arn"].startswith("arn:aws:bedrock:us-east-1:123456789012:custom-model/")
    assert summary["training_metrics"]["TrainingLoss"] > 0
    assert summary["validation_metrics"][0]["ValidationLoss"] > 0
    assert summary["provisioned_throughput"] is None
    assert summary["reports"]["dataset"] == f"s3://{BUCKET}/fine-tuning/reports/fine-tune-1/dataset-report.json"
    # ... and the evaluation asked both models every prompt (the custom one by its ARN) and scored them
    evaluation = summary["evaluation"]
    assert evaluation["metric"] == "token_f1"
    assert evaluation["prompt_count"] == len(PROMPTS)
    assert evaluation["custom"]["score"] == 1.0
    assert evaluation["base"]["score"] < 0.2
    assert evaluation["custom_is_worse"] is False
    assert pipeline.bedrock.invoked_models() == {"amazon.nova-lite-v1:0", summary["custom_model_arn"]}
    assert len(pipeline.stack.executions(EVALUATION_MACHINE)) == 2
    report = pipeline.read_json(summary["reports"]["evaluation"])
    assert summary["reports"]["evaluation"] == f"s3://{BUCKET}/fine-tuning/reports/fine-tune-1/evaluation.json"
    assert [row["reference"] for row in report["prompts"]] == [item["reference"] for item in PROMPTS]
    assert report["prompts"][0]["custom"] == {"answer": PROMPTS[0]["reference"], "f1": 1.0, "exact_match": True}

    # And one success notification carries the summary
    [notification] = pipeline.notifications()
    assert notification["Subject"] == "Fine-tuning succeeded"
    assert notification["MessageAttributes"]["status"]["Value"] == "SUCCEEDED"
    assert json.loads(notification["Message"]) == summary


def test_without_evaluation_the_summary_has_no_scores(pipeline: Pipeline) -> None:
    result = pipeline.run(request())

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["evaluation"] is None
    assert result.output["reports"]["evaluation"] is None
    assert pipeline.bedrock.invoked_models() == set()


# ---------------------------------------------------------------------------------------------- failures


def test_an_invalid_dataset_fails_before_any_job_with_a_report_naming_the_bad_lines(pipeline: Pipeline) -> None:
    # Given a training file whose lines 2 and 4 are not records
    good = json.dumps(RECORD)
    pipeline.s3.put_object(
        Bucket=BUCKET, Key=TRAINING_KEY, Body="\n".join([good, "not json", good, '{"prompt": 1}', good]).encode()
    )

    # When the pipeline runs
    result = pipeline.run(request())

    # Then it fails on the dataset, and Bedrock was never asked to create anything
    assert result.status == "FAILED"
    assert result.error == "DatasetValidationError"
    assert "CreateModelCustomizationJob" not in pipeline.bedrock.control_plane_actions()
    failure = _failure(result)
    assert failure["stage"] == "validate-dataset"
    assert failure["job_arn"] is None
    # ... the report it points to names the bad lines
    report = pipeline.read_json(failure["dataset_report_s3_uri"])
    assert {2, 4} <= set(_bad_line_numbers(report))
    # ... and the failure notification says the same
    [notification] = pipeline.notifications()
    assert notification["Subject"] == "Fine-tuning failed"
    assert notification["MessageAttributes"]["status"]["Value"] == "FAILED"
    assert json.loads(notification["Message"]) == failure


def _bad_line_numbers(report: Any) -> list[int]:
    """Every line number the report mentions for an invalid record, wherever the validator lists them."""
    found: list[int] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, int) and not isinstance(value, bool) and "line" in key:
            found.append(value)

    walk(report)
    return found


def test_a_failed_job_is_notified_with_bedrocks_failure_message(pipeline: Pipeline) -> None:
    # Given a job that fails on its second poll
    pipeline.bedrock.job_lifecycle(polls_until_done=2, fail_with="Training data has 0 valid records")

    # When the pipeline runs
    result = pipeline.run(request(evaluation={"prompts": PROMPTS}))

    # Then it fails with the job's status and message, without evaluating or provisioning anything
    assert result.status == "FAILED"
    assert result.error == "ModelCustomizationFailed"
    failure = _failure(result)
    assert failure["stage"] == "training"
    assert failure["failure_message"] == "Training data has 0 valid records"
    assert failure["cause"] == "Training data has 0 valid records"
    assert failure["job_arn"].startswith("arn:aws:bedrock:us-east-1:123456789012:model-customization-job/")
    assert "CreateProvisionedModelThroughput" not in pipeline.bedrock.control_plane_actions()
    assert pipeline.bedrock.invoked_models() == set()
    [notification] = pipeline.notifications()
    assert "Training data has 0 valid records" in notification["Message"]
    assert json.loads(notification["Message"])["failure_message"] == "Training data has 0 valid records"


def test_a_job_bedrock_refuses_to_create_is_reported_with_the_create_error(pipeline: Pipeline) -> None:
    # Given Bedrock refusing the create call itself
    pipeline.bedrock.fail(
        "ValidationException", "The role cannot be assumed by Bedrock", state_name="Create Customization Job"
    )

    result = pipeline.run(request())

    assert result.status == "FAILED"
    assert result.error == "Bedrock.ValidationException"
    failure = _failure(result)
    assert failure["stage"] == "create-job"
    assert failure["cause"] == "The role cannot be assumed by Bedrock"


# ---------------------------------------------------------------------------------------------- throughput


def test_throughput_is_deleted_when_the_custom_model_scores_worse(pipeline: Pipeline) -> None:
    # Given a custom model that answers worse than the base model, and an explicit throughput opt-in
    pipeline.bedrock.answers = {"base": GOOD, "custom": BAD}
    execution_input = request(
        evaluation={"prompts": PROMPTS}, provisioned_throughput={"opt_in": True, "model_units": 1}
    )

    # When the pipeline runs
    result = pipeline.run(execution_input)

    # Then the custom model was evaluated through the throughput, found worse, and the throughput deleted again
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    summary = result.output
    throughput = summary["provisioned_throughput"]
    assert throughput["deleted"] is True
    assert "worse" in throughput["deleted_because"]
    assert summary["evaluation"]["custom_is_worse"] is True
    assert throughput["arn"] in pipeline.bedrock.invoked_models()
    actions = pipeline.bedrock.control_plane_actions()
    assert actions.count("CreateProvisionedModelThroughput") == 1
    assert actions.count("GetProvisionedModelThroughput") == 2
    assert pipeline.bedrock.requests("DeleteProvisionedModelThroughput") == [{"ProvisionedModelId": throughput["arn"]}]
    [create] = pipeline.bedrock.requests("CreateProvisionedModelThroughput")
    assert create["ModelId"] == summary["custom_model_arn"]
    assert "CommitmentDuration" not in create


def test_throughput_is_kept_when_the_custom_model_scores_better(pipeline: Pipeline) -> None:
    execution_input = request(
        evaluation={"prompts": PROMPTS}, provisioned_throughput={"opt_in": True, "model_units": 2}
    )

    result = pipeline.run(execution_input)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    throughput = result.output["provisioned_throughput"]
    assert throughput == {
        "arn": throughput["arn"],
        "model_units": 2,
        "status": "InService",
        "deleted": False,
        "deleted_because": None,
    }
    assert "DeleteProvisionedModelThroughput" not in pipeline.bedrock.control_plane_actions()


def test_throughput_is_deleted_when_anything_fails_after_it_was_created(pipeline: Pipeline) -> None:
    # Given an opt-in and an evaluation whose prompt set does not exist: the evaluation fails after the purchase
    execution_input = request(
        evaluation={"prompts_s3_uri": f"s3://{BUCKET}/fine-tuning/evaluation/missing.jsonl"},
        provisioned_throughput={"opt_in": True},
    )

    result = pipeline.run(execution_input)

    assert result.status == "FAILED"
    failure = _failure(result)
    assert failure["stage"] == "evaluation"
    [created] = pipeline.bedrock.requests("CreateProvisionedModelThroughput")
    [deleted] = pipeline.bedrock.requests("DeleteProvisionedModelThroughput")
    assert failure["provisioned_throughput"] == {"arn": deleted["ProvisionedModelId"], "deleted": True}
    assert created["ModelUnits"] == 1


def test_no_throughput_without_an_explicit_opt_in(pipeline: Pipeline) -> None:
    result = pipeline.run(request(provisioned_throughput={"opt_in": False, "model_units": 3}))

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["provisioned_throughput"] is None
    assert "CreateProvisionedModelThroughput" not in pipeline.bedrock.control_plane_actions()
    # And its cost estimate has training and storage but no throughput
    estimate = result.output["cost_estimate"]
    assert estimate["training"]["usd"] > 0
    assert estimate["provisioned_throughput"] is None


# ---------------------------------------------------------------------------------------------- stop and repeat


def test_stopping_the_execution_mid_job_stops_the_job(pipeline: Pipeline) -> None:
    # Given a job that would train for a very long time, and an execution polling it
    pipeline.bedrock.job_lifecycle(polls_until_done=10**6)
    arn = pipeline.stack.start(MACHINE, request(), name="stopped-run")
    wait_until(lambda: "GetModelCustomizationJob" in pipeline.bedrock.control_plane_actions())

    # When the execution is stopped
    pipeline.stack.engine.client.stop_execution(executionArn=arn, error="Cancelled", cause="not needed any more")
    result = pipeline.stack.wait(arn, timeout=30)

    # Then Step Functions' .sync integration stopped the job too
    assert result.status == "ABORTED"
    wait_until(lambda: "StopModelCustomizationJob" in pipeline.bedrock.control_plane_actions())
    [create] = pipeline.bedrock.requests("CreateModelCustomizationJob")
    job = pipeline.bedrock.control_plane(
        "GetModelCustomizationJob", {"JobIdentifier": create["JobName"]}, state_name="test", attempt=0
    )
    assert job["Status"] in {"Stopping", "Stopped"}


def test_a_repeated_start_with_the_same_name_creates_no_second_job(pipeline: Pipeline) -> None:
    # Given a run that has finished
    first = pipeline.run(request(), name="same-request")
    assert first.status == "SUCCEEDED", (first.error, first.cause)

    # When the same request is started again under the same name
    client = pipeline.stack.engine.client
    with pytest.raises(client.exceptions.ExecutionAlreadyExists):
        pipeline.stack.start(MACHINE, request(hyperparameters={"epochCount": 3}), name="same-request")

    # Then Step Functions refused it, and Bedrock saw one job only
    assert len(pipeline.stack.executions(MACHINE)) == 1
    assert pipeline.bedrock.control_plane_actions().count("CreateModelCustomizationJob") == 1


def test_a_retried_create_with_the_same_token_returns_the_first_job(pipeline: Pipeline) -> None:
    # Given a job Bedrock already created for this execution name (a create whose answer was lost, then retried or
    # redriven: the same execution name gives the same ClientRequestToken)
    digest = hashlib.sha256(b"redriven").hexdigest()
    token = f"ft-{digest}"
    earlier = pipeline.bedrock.control_plane(
        "CreateModelCustomizationJob",
        {
            "BaseModelIdentifier": "amazon.nova-lite-v1:0:300k",
            "JobName": f"ft-redriven-{digest[:12]}-job",
            "CustomModelName": f"ft-redriven-{digest[:12]}",
            "RoleArn": "arn:aws:iam::123456789012:role/earlier",
            "ClientRequestToken": token,
            "TrainingDataConfig": {"S3Uri": f"s3://{BUCKET}/{TRAINING_KEY}"},
            "OutputDataConfig": {"S3Uri": f"s3://{BUCKET}/fine-tuning/output/"},
        },
        state_name="test",
        attempt=0,
    )

    # When an execution of that name runs
    result = pipeline.run(request(), name="redriven")

    # Then Bedrock answered its create with the existing job: no second job exists
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    created = pipeline.bedrock.requests("CreateModelCustomizationJob")
    assert [item["ClientRequestToken"] for item in created] == [token, token]
    assert result.output["job_arn"] == earlier["JobArn"]


# ---------------------------------------------------------------------------------------------- triggers


def test_a_scheduled_run_trains_on_the_newest_dataset_under_its_prefix(pipeline: Pipeline) -> None:
    # Given two datasets under the schedule's prefix, the newer one with the lexically smaller key
    body = (json.dumps(RECORD) + "\n") * 40
    pipeline.s3.put_object(Bucket=BUCKET, Key="fine-tuning/datasets/scheduled/b/train.jsonl", Body=body.encode())
    time.sleep(1.1)  # S3 keeps LastModified to the second
    pipeline.s3.put_object(Bucket=BUCKET, Key="fine-tuning/datasets/scheduled/a/train.jsonl", Body=body.encode())
    pipeline.s3.put_object(Bucket=BUCKET, Key="fine-tuning/datasets/scheduled/a/notes.txt", Body=b"not a dataset")
    schedule_input = json.loads(pipeline.stack.machine(MACHINE).events["ScheduledRetraining"]["Properties"]["Input"])

    # When the schedule's input starts an execution
    result = pipeline.run(schedule_input, name="scheduled-run")

    # Then the job trained on the newest .jsonl object, with the options' defaults (the schedule names none)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [create] = pipeline.bedrock.requests("CreateModelCustomizationJob")
    assert create["TrainingDataConfig"] == {"S3Uri": f"s3://{BUCKET}/fine-tuning/datasets/scheduled/a/train.jsonl"}
    assert (create["CustomizationType"], create["HyperParameters"]) == ("FINE_TUNING", {})


def test_a_scheduled_run_without_a_dataset_fails_clearly(pipeline: Pipeline) -> None:
    result = pipeline.run({"dataset_prefix": "nothing-here/", "hyperparameters": {}}, name="scheduled-empty")

    assert result.status == "FAILED"
    assert result.error == "NoDatasetFound"
    assert "fine-tuning/datasets/nothing-here/" in _failure(result)["cause"]
    assert pipeline.bedrock.control_plane_actions() == []


def test_the_api_starts_a_run_once_per_idempotency_key_and_reports_its_summary(pipeline: Pipeline) -> None:
    # Given the real FineTuneApiFunction handler and the sample POST /fine-tunes event
    handler = pipeline.stack.functions["FineTuneApiFunction"]
    event: dict[str, Any] = json.loads((ROOT / "events" / "api" / "start_fine_tune.json").read_text())
    event["body"] = json.dumps(request(evaluation={"prompts": PROMPTS}))

    # When it handles the event twice (a client retry: same Idempotency-Key, same body)
    first = handler(event, None)
    second = handler(copy.deepcopy(event), None)

    # Then both answers are 202 with one execution, which runs to its end with one job
    assert first["statusCode"] == second["statusCode"] == 202
    started = json.loads(first["body"])
    assert json.loads(second["body"])["executionId"] == started["executionId"]
    assert [item["executionArn"] for item in pipeline.stack.executions(MACHINE)] == [started["executionArn"]]
    result = pipeline.stack.wait(started["executionArn"], timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert pipeline.bedrock.control_plane_actions().count("CreateModelCustomizationJob") == 1

    # And GET /fine-tunes/{id} returns the summary
    got = handler(_get_event(started["executionId"]), None)
    assert got["statusCode"] == 200
    body = json.loads(got["body"])
    assert body["status"] == "SUCCEEDED"
    assert body["output"] == result.output


def test_the_api_refuses_a_dataset_outside_the_dataset_prefix(pipeline: Pipeline) -> None:
    handler = pipeline.stack.functions["FineTuneApiFunction"]
    event: dict[str, Any] = json.loads((ROOT / "events" / "api" / "start_fine_tune.json").read_text())
    event["body"] = json.dumps(request(training_data_s3_uri=f"s3://{BUCKET}/offload/requests/x.jsonl"))

    answer = handler(event, None)

    assert answer["statusCode"] == 400
    assert "fine-tuning/datasets/" in json.loads(answer["body"])["message"]
    assert pipeline.stack.executions(MACHINE) == []


def _get_event(execution_id: str) -> dict[str, Any]:
    return {
        "resource": "/fine-tunes/{id}",
        "path": f"/fine-tunes/{execution_id}",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"id": execution_id},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/fine-tunes/{id}",
            "httpMethod": "GET",
            "path": f"/v1/fine-tunes/{execution_id}",
            "stage": "v1",
            "requestId": "c1b2a3d4-0000-4000-8000-000000000002",
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
