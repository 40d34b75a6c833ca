"""Typed bridges over moto's ASL internals where moto's own annotations are wrong or say too little.

Each bridge is the one place its cast lives; moto is imported for the type checker only or inside the function, as
the engine does, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, Unpack, cast

if TYPE_CHECKING:
    from moto.stepfunctions.parser.api import (
        EvaluationFailedEventDetails,
        ExecutionFailedEventDetails,
        LambdaFunctionTimedOutEventDetails,
        TaskFailedEventDetails,
        TaskTimedOutEventDetails,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from mypy_boto3_s3 import S3Client


class FailureEventDetail(TypedDict, total=False):
    """The details of the failure events the runner records: each event carries exactly one of these."""

    evaluationFailedEventDetails: EvaluationFailedEventDetails
    executionFailedEventDetails: ExecutionFailedEventDetails
    lambdaFunctionTimedOutEventDetails: LambdaFunctionTimedOutEventDetails
    taskFailedEventDetails: TaskFailedEventDetails
    taskTimedOutEventDetails: TaskTimedOutEventDetails


def event_details(**detail: Unpack[FailureEventDetail]) -> EventDetails:
    """A history event's details: moto declares every key of ``EventDetails`` required, though each of its events
    (moto's own included) carries only the one of its type."""
    return cast("EventDetails", detail)


def s3_client(region: str, state_credentials: object = None) -> S3Client:
    """The S3 client moto's ASL engine uses (the runner's cached one once the engine is installed): moto types
    ``boto_client_for`` as returning a bare ``BaseClient`` whatever the service."""
    from moto.stepfunctions.parser.asl.utils import boto_client  # noqa: PLC0415

    return cast(
        "S3Client", boto_client.boto_client_for(region=region, service="s3", state_credentials=state_credentials)
    )
