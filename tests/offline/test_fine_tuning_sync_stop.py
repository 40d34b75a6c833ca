"""Contract of the offline engine's ``bedrock:createModelCustomizationJob.sync``: like Step Functions, stopping the
execution while the task waits stops the job (StopModelCustomizationJob); a job that ended is left alone."""

from __future__ import annotations

from typing import Any

from moto import mock_aws
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import OfflineEngine

from tests.offline.polling import wait_until

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:SyncJob"
DEFINITION = {
    "StartAt": "Train",
    "States": {
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:createModelCustomizationJob.sync",
            "Parameters": {
                "BaseModelIdentifier": "amazon.nova-lite-v1:0:300k",
                "CustomModelName": "contract-model",
                "JobName": "contract-job",
                "RoleArn": "arn:aws:iam::123456789012:role/BedrockCustomization",
                "TrainingDataConfig": {"S3Uri": "s3://companion-test/train.jsonl"},
                "OutputDataConfig": {"S3Uri": "s3://companion-test/output/"},
            },
            "End": True,
        }
    },
}


def _job(bedrock: BedrockStandIn) -> dict[str, Any]:
    return bedrock.control_plane(
        "GetModelCustomizationJob", {"JobIdentifier": "contract-job"}, state_name="t", attempt=0
    )


def test_stopping_the_execution_stops_the_running_job() -> None:
    # Given a job that never finishes by itself, polled by a running .sync task
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=10**6)
    with mock_aws(), OfflineEngine(bedrock=bedrock) as engine:
        engine.create_machine("SyncJob", DEFINITION)
        arn = engine.start(MACHINE, {}, name="stop-me")
        wait_until(lambda: "GetModelCustomizationJob" in bedrock.control_plane_actions())

        # When the execution is stopped
        engine.client.stop_execution(executionArn=arn)
        result = engine.wait(arn, timeout=20)

        # Then the job was stopped, exactly once, and is on its way to Stopped
        assert result.status == "ABORTED"
        wait_until(lambda: "StopModelCustomizationJob" in bedrock.control_plane_actions())
        assert bedrock.control_plane_actions().count("StopModelCustomizationJob") == 1
        assert _job(bedrock)["Status"] in {"Stopping", "Stopped"}


def test_a_job_that_completed_is_not_stopped() -> None:
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=1)
    with mock_aws(), OfflineEngine(bedrock=bedrock) as engine:
        engine.create_machine("SyncJob", DEFINITION)
        result = engine.wait(engine.start(MACHINE, {}, name="done"), timeout=20)

        assert result.status == "SUCCEEDED", result.cause
        assert "StopModelCustomizationJob" not in bedrock.control_plane_actions()
        assert _job(bedrock)["Status"] == "Completed"
