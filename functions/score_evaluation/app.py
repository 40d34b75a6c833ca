"""Score evaluation: reads both evaluation chains' answers, scores them against the references, writes the report."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.adapters.stepfunctions import StepFunctionsExecutions
from companion.finetune.evaluation import ScoreEvaluationInput, ScoreEvaluationOutput, score_evaluation
from companion.handler import task_handler
from companion.observability import MetricUnit, logger, metrics
from companion.settings import FineTuningEvaluationSettings


@logger.inject_lambda_context
@metrics.log_metrics
@task_handler(ScoreEvaluationInput, FineTuningEvaluationSettings)
def lambda_handler(task: ScoreEvaluationInput, settings: FineTuningEvaluationSettings) -> ScoreEvaluationOutput:
    output = score_evaluation(task, settings, S3ObjectStore(), StepFunctionsExecutions())
    metrics.add_metric(name="CustomModelWorse", unit=MetricUnit.Count, value=int(output.custom_is_worse))
    logger.info(
        "evaluation scored",
        execution_name=task.execution_name,
        base_score=output.base.score,
        custom_score=output.custom.score,
        custom_is_worse=output.custom_is_worse,
    )
    return output
