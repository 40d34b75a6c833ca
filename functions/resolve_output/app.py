"""Resolve output: the Lambda after a Bedrock task whose answer went to S3 through Output.S3Uri."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.handler import task_handler
from companion.observability import logger, metrics, record_result_metrics
from companion.settings import ResolveSettings
from companion.steps.resolve import ResolveOutputInput, ResolveOutputOutput, resolve_output


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(ResolveOutputInput, ResolveSettings)
def lambda_handler(task: ResolveOutputInput, settings: ResolveSettings) -> ResolveOutputOutput:
    output = resolve_output(task, settings, S3ObjectStore())
    record_result_metrics(output)
    logger.info(
        "output resolved",
        family=output.family,
        stop_reason=output.stop_reason,
        text_chars=output.text_chars,
        truncated=output.truncated,
    )
    return output
