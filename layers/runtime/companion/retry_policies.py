"""Every Retry policy of the project's state machines, each written once, by name.

The chain compiler puts them into the machines it generates; the hand-written YAML machines name theirs in a comment,
``Retry: # bedrock_transient (companion.retry_policies)``, and ``make asl-retries`` writes the policy out below it.
(YAML aliases would keep one copy per file, but CloudFormation reads a ``DefinitionUri`` YAML file with Jackson, which
turns an alias into its anchor's name: a deployed definition has to spell every copy out.)
"""

from __future__ import annotations

from typing import Any, Final

_FULL_JITTER: Final = {"BackoffRate": 2.0, "JitterStrategy": "FULL"}

RETRY_POLICIES: Final[dict[str, list[dict[str, Any]]]] = {
    # Lambda's transient service errors, as AWS recommends retrying them for every Lambda task.
    "lambda_transient": [
        {
            "ErrorEquals": [
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException",
            ],
            "IntervalSeconds": 1,
            "MaxAttempts": 3,
            **_FULL_JITTER,
        }
    ],
    # Bedrock's control plane (customization jobs, throughput): throttling and server errors; a ValidationException is
    # never retried (the request itself is wrong).
    "bedrock_transient": [
        {
            "ErrorEquals": [
                "Bedrock.ThrottlingException",
                "Bedrock.ServiceUnavailableException",
                "Bedrock.InternalServerException",
            ],
            "IntervalSeconds": 5,
            "MaxAttempts": 4,
            "MaxDelaySeconds": 60,
            **_FULL_JITTER,
        }
    ],
    # InvokeModel: the same, plus a model that timed out or is still loading; shorter waits, since a chain step waits.
    "bedrock_invoke_transient": [
        {
            "ErrorEquals": [
                "Bedrock.ThrottlingException",
                "Bedrock.ServiceUnavailableException",
                "Bedrock.InternalServerException",
                "Bedrock.ModelTimeoutException",
                "Bedrock.ModelNotReadyException",
            ],
            "IntervalSeconds": 2,
            "MaxAttempts": 4,
            "MaxDelaySeconds": 30,
            **_FULL_JITTER,
        }
    ],
    "s3_transient": [
        {
            "ErrorEquals": ["S3.S3Exception", "S3.SdkClientException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            **_FULL_JITTER,
        }
    ],
    "sns_transient": [
        {
            "ErrorEquals": ["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            **_FULL_JITTER,
        }
    ],
    # Starting the fine-tuning evaluation's two nested chains: only the execution limit and the client are retried.
    "stepfunctions_start_limit": [
        {
            "ErrorEquals": ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException"],
            "IntervalSeconds": 5,
            "MaxAttempts": 3,
            **_FULL_JITTER,
        }
    ],
    # A batch starts up to max_concurrency chains at once: the service's own errors are retried too, longer.
    "stepfunctions_transient": [
        {
            "ErrorEquals": [
                "StepFunctions.ExecutionLimitExceededException",
                "StepFunctions.SdkClientException",
                "StepFunctions.AWSStepFunctionsException",
            ],
            "IntervalSeconds": 2,
            "MaxAttempts": 4,
            **_FULL_JITTER,
        }
    ],
}


def retry_policy(name: str) -> list[dict[str, Any]]:
    """A fresh copy of the named policy, for a definition to own (callers may mutate it)."""
    return [dict(retrier, ErrorEquals=list(retrier["ErrorEquals"])) for retrier in RETRY_POLICIES[name]]
