"""Prepare batch: the first state of a scheduled chain batch; resolves the chain and checks the prompt set."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.chains.batch import PrepareBatchInput, prepare_batch
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ChainBatchSettings, load_settings
from companion.task_io import parse_input


@cache
def _settings() -> ChainBatchSettings:
    return load_settings(ChainBatchSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(PrepareBatchInput, event)
    output = prepare_batch(task, bucket=_settings().offload_bucket, store=S3ObjectStore())
    metrics.add_metric(name="BatchItems", unit=MetricUnit.Count, value=output.items)
    logger.info("batch prepared", chain=output.chain, items=output.items, stages=len(output.plan))
    return output.model_dump(mode="json")
