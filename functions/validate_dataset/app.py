"""Validate dataset: the Lambda before a Bedrock model-customization job (records, limits, hyperparameters, split)."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.errors import DatasetValidationError
from companion.finetune.dataset import ValidateDatasetInput, ValidateDatasetOutput, validate_dataset
from companion.handler import task_handler
from companion.observability import MetricUnit, logger, metrics
from companion.settings import ValidateDatasetSettings


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(ValidateDatasetInput, ValidateDatasetSettings)
def lambda_handler(task: ValidateDatasetInput, settings: ValidateDatasetSettings) -> ValidateDatasetOutput:
    try:
        output = validate_dataset(task, settings, S3ObjectStore())
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
    return output
