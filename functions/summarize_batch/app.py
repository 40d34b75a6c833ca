"""Summarize batch: the last state of a scheduled chain batch; counts, tokens and the summary object in S3."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.chains.batch import SummarizeBatchInput, summarize_batch
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ChainBatchSettings, load_settings
from companion.task_io import parse_input


@cache
def _settings() -> ChainBatchSettings:
    return load_settings(ChainBatchSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(SummarizeBatchInput, event)
    output = summarize_batch(task, bucket=_settings().offload_bucket, store=S3ObjectStore())
    items = output.items
    metrics.add_metric(name="BatchItemsSucceeded", unit=MetricUnit.Count, value=items.succeeded)
    metrics.add_metric(name="BatchItemsFailed", unit=MetricUnit.Count, value=items.total - items.succeeded)
    logger.info("batch summarized", status=output.status, total=items.total, succeeded=items.succeeded)
    return output.model_dump(mode="json")
