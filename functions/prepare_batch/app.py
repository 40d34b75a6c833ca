"""Prepare batch: the first state of a scheduled chain batch; resolves the chain and checks the prompt set."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.chains.batch import PrepareBatchInput, PrepareBatchOutput, prepare_batch
from companion.handler import task_handler
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ChainBatchSettings


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(PrepareBatchInput, ChainBatchSettings)
def lambda_handler(task: PrepareBatchInput, settings: ChainBatchSettings) -> PrepareBatchOutput:
    output = prepare_batch(task, bucket=settings.offload_bucket, store=S3ObjectStore())
    metrics.add_metric(name="BatchItems", unit=MetricUnit.Count, value=output.items)
    logger.info("batch prepared", chain=output.chain, items=output.items, stages=len(output.plan))
    return output
