"""Score evaluation: reads both evaluation chains' answers, scores them against the references, writes the report."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.adapters.stepfunctions import StepFunctionsExecutions
from companion.finetune.evaluation import ScoreEvaluationInput, score_evaluation
from companion.observability import MetricUnit, logger, metrics
from companion.settings import FineTuningEvaluationSettings, load_settings
from companion.task_io import parse_input


@cache
def _settings() -> FineTuningEvaluationSettings:
    return load_settings(FineTuningEvaluationSettings)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(ScoreEvaluationInput, event)
    output = score_evaluation(task, _settings(), S3ObjectStore(), StepFunctionsExecutions())
    metrics.add_metric(name="CustomModelWorse", unit=MetricUnit.Count, value=int(output.custom_is_worse))
    logger.info(
        "evaluation scored",
        execution_name=task.execution_name,
        base_score=output.base.score,
        custom_score=output.custom.score,
        custom_is_worse=output.custom_is_worse,
    )
    return output.model_dump(mode="json")
