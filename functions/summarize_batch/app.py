"""Summarize batch: the last state of a scheduled chain batch; counts, tokens and the summary object in S3."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.chains.batch import SummarizeBatchInput, SummarizeBatchOutput, summarize_batch
from companion.handler import task_handler
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ChainBatchSettings


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(SummarizeBatchInput, ChainBatchSettings)
def lambda_handler(task: SummarizeBatchInput, settings: ChainBatchSettings) -> SummarizeBatchOutput:
    output = summarize_batch(task, bucket=settings.offload_bucket, store=S3ObjectStore())
    items = output.items
    metrics.add_metric(name="BatchItemsSucceeded", unit=MetricUnit.Count, value=items.succeeded)
    metrics.add_metric(name="BatchItemsFailed", unit=MetricUnit.Count, value=items.total - items.succeeded)
    logger.info("batch summarized", status=output.status, total=items.total, succeeded=items.succeeded)
    return output
