"""Validate dataset: the Lambda before a Bedrock model-customization job (records, limits, hyperparameters, split)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.errors import DatasetValidationError
from companion.finetune.dataset import ValidateDatasetInput, validate_dataset
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ValidateDatasetSettings, load_settings
from companion.task_io import parse_input


@cache
def _settings() -> ValidateDatasetSettings:
    return load_settings(ValidateDatasetSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(ValidateDatasetInput, event)
    try:
        output = validate_dataset(task, _settings(), S3ObjectStore())
    except DatasetValidationError as exc:
        # Flushed by log_metrics even though the invocation fails: unusable datasets are what this metric counts.
        metrics.add_metric(name="DatasetInvalidLines", unit=MetricUnit.Count, value=exc.invalid_lines)
        logger.warning("dataset refused", invalid_lines=exc.invalid_lines, report_s3_uri=exc.report_uri)
        raise
    totals = output.totals
    records = totals.training.records + (totals.validation.records if totals.validation else 0)
    metrics.add_metric(name="DatasetRecords", unit=MetricUnit.Count, value=records)
    metrics.add_metric(name="DatasetInvalidLines", unit=MetricUnit.Count, value=0)
    logger.info(
        "dataset validated",
        record_format=output.record_format,
        records=records,
        estimated_tokens=totals.training.estimated_tokens,
        report_s3_uri=output.report_s3_uri,
    )
    return output.model_dump(mode="json")
