"""The template's protections: a concurrency ceiling the code enforces too, schedules that keep what failed,
reserved concurrency in front of Bedrock, and access logging that can be switched on."""

from __future__ import annotations

from typing import Any

from companion.chains.batch import MAX_BATCH_CONCURRENCY, PrepareBatchInput


def test_the_batch_concurrency_ceiling_is_one_number_in_the_template_and_the_code(template: dict[str, Any]) -> None:
    # Given the template's parameter and the batch input's limit
    parameter = template["Parameters"]["BatchMaxConcurrency"]
    # Then they agree, and the code refuses a start past the ceiling that the template cannot stop
    assert parameter["MaxValue"] == MAX_BATCH_CONCURRENCY <= 100
    limits = PrepareBatchInput.model_json_schema()["properties"]["max_concurrency"]
    assert limits["maximum"] == MAX_BATCH_CONCURRENCY


def test_both_schedules_retry_then_keep_failed_starts_in_an_encrypted_queue(
    transformed: dict[str, Any],
) -> None:
    # Given the SAM-transformed schedules
    schedules = {k: r for k, r in transformed["Resources"].items() if r["Type"] == "AWS::Scheduler::Schedule"}
    assert len(schedules) == 2
    queue = transformed["Resources"]["ScheduleDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    for name, schedule in schedules.items():
        target = schedule["Properties"]["Target"]
        # Then each retries a bounded number of times and sends what still fails to the queue, which its role may do
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}, name
        role = transformed["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
        actions = [s["Action"] for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        assert "sqs:SendMessage" in actions, name


def test_the_apis_in_front_of_bedrock_have_reserved_concurrency_unless_set_to_zero(resources: dict[str, Any]) -> None:
    for function, parameter in (
        ("ChainApiFunction", "ChainApiReservedConcurrency"),
        ("FineTuneApiFunction", "FineTuneApiReservedConcurrency"),
    ):
        reserved = resources[function]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved["Fn::If"][1] == {"Ref": parameter}
        assert reserved["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_access_logging_is_optional_for_the_bucket_and_the_api(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    bucket_logging = resources["PayloadBucket"]["Properties"]["LoggingConfiguration"]["Fn::If"]
    assert bucket_logging[0] == "HasPayloadBucketAccessLogs"
    api_logging = resources["ChainApi"]["Properties"]["AccessLogSetting"]["Fn::If"]
    assert api_logging[0] == "HasApiAccessLogs"
    assert "$context.requestId" in api_logging[1]["Format"]
    assert template["Parameters"]["PayloadBucketAccessLogBucket"]["Default"] == ""
    assert template["Parameters"]["ApiAccessLogDestinationArn"]["Default"] == ""
