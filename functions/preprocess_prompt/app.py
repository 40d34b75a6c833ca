"""Pre-process prompt: the Lambda before a Bedrock invokeModel task (render, encode, offload when too large)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.observability import MetricUnit, logger, metrics
from companion.settings import PreprocessSettings, load_settings
from companion.steps.preprocess import PreprocessPromptInput, preprocess_prompt
from companion.task_io import parse_input


@cache
def _settings() -> PreprocessSettings:
    return load_settings(PreprocessSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(PreprocessPromptInput, event)
    output = preprocess_prompt(task, _settings(), S3ObjectStore())
    metrics.add_dimension(name="ModelFamily", value=output.family.value)
    metrics.add_metric(name="RequestBodyBytes", unit=MetricUnit.Bytes, value=output.body_bytes)
    metrics.add_metric(name="RequestsOffloaded", unit=MetricUnit.Count, value=int(output.offloaded))
    logger.info(
        "prompt prepared",
        step=output.step,
        family=output.family,
        body_bytes=output.body_bytes,
        offloaded=output.offloaded,
    )
    return output.model_dump(mode="json")
