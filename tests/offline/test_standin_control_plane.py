"""The simulated Bedrock control plane: model-customization jobs and provisioned throughput with a lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_standin import BedrockStandIn

from companion.codec import decode

BASE = "amazon.nova-lite-v1:0:300k"
JOB: dict[str, Any] = {
    "JobName": "support-tone-2026-11",
    "CustomModelName": "support-tone-v1",
    "RoleArn": "arn:aws:iam::123456789012:role/BedrockCustomizationRole",
    "BaseModelIdentifier": BASE,
    "HyperParameters": {"epochCount": "2", "learningRate": "0.00001"},
    "TrainingDataConfig": {"S3Uri": "s3://companion-datasets/train.jsonl"},
    "OutputDataConfig": {"S3Uri": "s3://companion-datasets/output/"},
}


@pytest.fixture
def standin() -> BedrockStandIn:
    return BedrockStandIn(clock=lambda: datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


def act(standin: BedrockStandIn, action: str, request: dict[str, Any]) -> dict[str, Any]:
    return standin.control_plane(action, request, state_name="Customize", attempt=0)


def refused(standin: BedrockStandIn, action: str, request: dict[str, Any]) -> BedrockServiceError:
    with pytest.raises(BedrockServiceError) as raised:
        act(standin, action, request)
    return raised.value


def test_a_job_completes_after_the_configured_polls_and_its_model_is_invocable(standin: BedrockStandIn) -> None:
    # Given a job created with the default lifecycle (done on the second poll)
    arn = act(standin, "CreateModelCustomizationJob", JOB)["JobArn"]

    # When it is polled twice, by ARN and then by name
    first = act(standin, "GetModelCustomizationJob", {"JobIdentifier": arn})
    second = act(standin, "GetModelCustomizationJob", {"JobIdentifier": JOB["JobName"]})

    # Then it is InProgress, then Completed with an output model, metrics and an end time
    assert arn.startswith(f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{BASE}/")
    assert first["Status"] == "InProgress"
    assert "OutputModelArn" not in first
    assert second["Status"] == "Completed"
    assert second["JobArn"] == arn
    assert second["OutputModelName"] == "support-tone-v1"
    assert second["HyperParameters"] == JOB["HyperParameters"]
    assert second["TrainingMetrics"]["TrainingLoss"] > 0
    assert second["ValidationMetrics"][0]["ValidationLoss"] > 0
    assert second["EndTime"] == "2026-11-25T12:00:00Z"
    assert second["BaseModelArn"].endswith(f"foundation-model/{BASE}")
    # And the custom model speaks its base model's family
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    answer = standin.invoke_model(second["OutputModelArn"], body, state_name="Try", attempt=0)
    assert decode(answer, BASE).text is not None


def test_a_job_can_be_configured_to_fail_with_a_message(standin: BedrockStandIn) -> None:
    # Given jobs that fail on the first poll
    standin.job_lifecycle(polls_until_done=1, fail_with="Training data has 3 malformed records.")
    arn = act(standin, "CreateModelCustomizationJob", JOB)["JobArn"]

    # When the job is polled
    job = act(standin, "GetModelCustomizationJob", {"JobIdentifier": arn})

    # Then it failed with the message and has no output model
    assert job["Status"] == "Failed"
    assert job["FailureMessage"] == "Training data has 3 malformed records."
    assert "OutputModelArn" not in job


def test_stopping_a_job_goes_through_stopping_to_stopped(standin: BedrockStandIn) -> None:
    # Given a running job
    standin.job_lifecycle(polls_until_done=5)
    arn = act(standin, "CreateModelCustomizationJob", JOB)["JobArn"]

    # When it is stopped and polled twice, and stopped again
    stop = act(standin, "StopModelCustomizationJob", {"JobIdentifier": arn})
    stopping = act(standin, "GetModelCustomizationJob", {"JobIdentifier": arn})["Status"]
    stopped = act(standin, "GetModelCustomizationJob", {"JobIdentifier": arn})["Status"]
    again = refused(standin, "StopModelCustomizationJob", {"JobIdentifier": arn})

    # Then the stop is acknowledged, the job passes Stopping to Stopped, and a finished job cannot be stopped
    assert stop == {}
    assert (stopping, stopped) == ("Stopping", "Stopped")
    assert again.error_name == "ValidationException"


def test_the_client_request_token_makes_creation_idempotent(standin: BedrockStandIn) -> None:
    # Given a create request with a token
    request = {**JOB, "ClientRequestToken": "execution-1234"}

    # When it is sent twice (a retried state)
    first = act(standin, "CreateModelCustomizationJob", request)
    second = act(standin, "CreateModelCustomizationJob", request)
    other = act(standin, "CreateModelCustomizationJob", {**request, "ClientRequestToken": "execution-5678"})

    # Then both return the same job and only a different token creates another one
    assert first == second
    assert other != first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"CustomModelName": "bad name!"}, "customModelName", id="model-name-pattern"),
        pytest.param({"CustomModelName": "a" * 64}, "length less than or equal to 63", id="model-name-length"),
        pytest.param({"JobName": "j" * 64}, "jobName", id="job-name-length"),
        pytest.param({"JobName": None}, "jobName", id="job-name-missing"),
        pytest.param({"RoleArn": "BedrockRole"}, "roleArn", id="role-arn"),
        pytest.param({"TrainingDataConfig": {"S3Uri": "datasets/train.jsonl"}}, "trainingDataConfig.s3Uri", id="train"),
        pytest.param({"OutputDataConfig": {}}, "outputDataConfig.s3Uri", id="output"),
        pytest.param({"HyperParameters": {"epochCount": 2}}, "map of strings to strings", id="hyperparameters"),
        pytest.param({"CustomizationType": "RLHF"}, "customizationType", id="customization-type"),
    ],
)
def test_invalid_jobs_are_refused(standin: BedrockStandIn, change: dict[str, Any], message: str) -> None:
    # Given a create request with one field broken
    # When it is sent
    error = refused(standin, "CreateModelCustomizationJob", {**JOB, **change})

    # Then a ValidationException names the field
    assert error.error_name == "ValidationException"
    assert message in error.message


def test_unknown_jobs_models_and_actions_are_refused(standin: BedrockStandIn) -> None:
    # Given an empty control plane
    # When unknown things are asked for
    no_job = refused(standin, "GetModelCustomizationJob", {"JobIdentifier": "nope"})
    no_base = refused(standin, "CreateModelCustomizationJob", {**JOB, "BaseModelIdentifier": "acme.model-v1"})
    no_action = refused(standin, "DeleteCustomModel", {})

    # Then each is refused with the error Bedrock gives
    assert no_job.error_name == "ResourceNotFoundException"
    assert no_base.error_name == "ResourceNotFoundException"
    assert no_action.error_name == "ValidationException"


def test_provisioned_throughput_is_created_served_and_deleted(standin: BedrockStandIn) -> None:
    # Given a completed custom model
    standin.job_lifecycle(polls_until_done=1)
    job_arn = act(standin, "CreateModelCustomizationJob", JOB)["JobArn"]
    model_arn = act(standin, "GetModelCustomizationJob", {"JobIdentifier": job_arn})["OutputModelArn"]

    # When throughput is bought for it, polled twice, invoked, deleted and polled again
    request = {"ModelUnits": 1, "ProvisionedModelName": "support-tone-pt", "ModelId": model_arn}
    arn = act(standin, "CreateProvisionedModelThroughput", request)["ProvisionedModelArn"]
    creating = act(standin, "GetProvisionedModelThroughput", {"ProvisionedModelId": arn})
    in_service = act(standin, "GetProvisionedModelThroughput", {"ProvisionedModelId": "support-tone-pt"})
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    answer = standin.invoke_model(arn, body, state_name="Try", attempt=0)
    deleted = act(standin, "DeleteProvisionedModelThroughput", {"ProvisionedModelId": arn})
    gone = refused(standin, "GetProvisionedModelThroughput", {"ProvisionedModelId": arn})

    # Then it goes Creating -> InService, serves the base family's format, and is gone after deletion
    assert arn.startswith("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/")
    assert creating["Status"] == "Creating"
    assert in_service["Status"] == "InService"
    assert in_service["ModelArn"] == model_arn
    assert in_service["FoundationModelArn"].endswith(f"foundation-model/{BASE}")
    assert decode(answer, BASE).text is not None
    assert deleted == {}
    assert gone.error_name == "ResourceNotFoundException"
    with pytest.raises(BedrockServiceError, match="model identifier is invalid"):
        standin.invoke_model(arn, body, state_name="Try", attempt=1)


@pytest.mark.parametrize(
    ("request_body", "error_name"),
    [
        pytest.param(
            {"ModelUnits": 0, "ProvisionedModelName": "pt", "ModelId": BASE}, "ValidationException", id="units"
        ),
        pytest.param(
            {"ModelUnits": 1, "ProvisionedModelName": "p t", "ModelId": BASE}, "ValidationException", id="name"
        ),
        pytest.param(
            {"ModelUnits": 1, "ProvisionedModelName": "pt", "ModelId": "acme.x"},
            "ResourceNotFoundException",
            id="model",
        ),
    ],
)
def test_invalid_throughput_requests_are_refused(
    standin: BedrockStandIn,
    request_body: dict[str, Any],
    error_name: str,
) -> None:
    # Given a throughput request with one field broken
    # When it is sent
    # Then it is refused with the error Bedrock gives
    assert refused(standin, "CreateProvisionedModelThroughput", request_body).error_name == error_name


def test_control_plane_calls_can_be_scripted_and_throttled(standin: BedrockStandIn) -> None:
    # Given a throttle and a scripted Get for another state
    standin.throttle(1, state_name="Create Job")
    standin.script("Poll Job", [{"Return": {"Status": "Failed", "FailureMessage": "scripted"}}])

    # When the states call the control plane
    throttled = None
    with pytest.raises(BedrockServiceError) as raised:
        standin.control_plane("CreateModelCustomizationJob", JOB, state_name="Create Job", attempt=0)
    throttled = raised.value.error_name
    created = standin.control_plane("CreateModelCustomizationJob", JOB, state_name="Create Job", attempt=1)
    polled = standin.control_plane("GetModelCustomizationJob", {"JobIdentifier": "x"}, state_name="Poll Job", attempt=0)

    # Then the first create is throttled, the retry succeeds, and the scripted state gets its script
    assert throttled == "ThrottlingException"
    assert "JobArn" in created
    assert polled == {"Status": "Failed", "FailureMessage": "scripted"}
