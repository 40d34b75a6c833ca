"""Post-process result: the Lambda after a Bedrock task's ResultSelector (normalize, parse and validate JSON)."""

from __future__ import annotations

from companion.handler import task_handler
from companion.observability import logger, metrics, record_result_metrics
from companion.settings import PostprocessSettings
from companion.steps.postprocess import PostprocessResultInput, PostprocessResultOutput, postprocess_result


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(PostprocessResultInput, PostprocessSettings)
def lambda_handler(task: PostprocessResultInput, settings: PostprocessSettings) -> PostprocessResultOutput:
    output = postprocess_result(task, settings)
    record_result_metrics(output)
    logger.info(
        "result post-processed", family=output.family, stop_reason=output.stop_reason, truncated=output.truncated
    )
    return output
