"""Pre-process prompt: the Lambda before a Bedrock invokeModel task (render, encode, offload when too large)."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.handler import task_handler
from companion.observability import MetricUnit, logger, metrics
from companion.settings import PreprocessSettings
from companion.steps.preprocess import PreprocessPromptInput, PreprocessPromptOutput, preprocess_prompt


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(PreprocessPromptInput, PreprocessSettings)
def lambda_handler(task: PreprocessPromptInput, settings: PreprocessSettings) -> PreprocessPromptOutput:
    output = preprocess_prompt(task, settings, S3ObjectStore())
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
    return output
