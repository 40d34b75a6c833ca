"""Resolve output: the Lambda after a Bedrock task whose answer went to S3 through Output.S3Uri."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.observability import logger, metrics, record_result_metrics
from companion.settings import ResolveSettings, load_settings
from companion.steps.resolve import ResolveOutputInput, resolve_output
from companion.task_io import parse_input


@cache
def _settings() -> ResolveSettings:
    return load_settings(ResolveSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(ResolveOutputInput, event)
    output = resolve_output(task, _settings(), S3ObjectStore())
    record_result_metrics(output)
    logger.info(
        "output resolved",
        family=output.family,
        stop_reason=output.stop_reason,
        text_chars=output.text_chars,
        truncated=output.truncated,
    )
    return output.model_dump(mode="json")
