"""Post-process result: the Lambda after a Bedrock task's ResultSelector (normalize, parse and validate JSON)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.observability import logger, metrics, record_result_metrics
from companion.settings import PostprocessSettings, load_settings
from companion.steps.postprocess import PostprocessResultInput, postprocess_result
from companion.task_io import parse_input


@cache
def _settings() -> PostprocessSettings:
    return load_settings(PostprocessSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(PostprocessResultInput, event)
    output = postprocess_result(task, _settings())
    record_result_metrics(output)
    logger.info(
        "result post-processed", family=output.family, stop_reason=output.stop_reason, truncated=output.truncated
    )
    return output.model_dump(mode="json")
