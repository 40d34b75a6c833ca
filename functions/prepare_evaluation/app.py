"""Prepare evaluation: turns held-out prompts into one prompt-chain plan per model (fine-tuning machine)."""

from __future__ import annotations

from companion.adapters.s3 import S3ObjectStore
from companion.finetune.evaluation import PrepareEvaluationInput, PrepareEvaluationOutput, prepare_evaluation
from companion.handler import task_handler
from companion.observability import logger
from companion.settings import FineTuningEvaluationSettings


@logger.inject_lambda_context
@task_handler(PrepareEvaluationInput, FineTuningEvaluationSettings)
def lambda_handler(task: PrepareEvaluationInput, settings: FineTuningEvaluationSettings) -> PrepareEvaluationOutput:
    output = prepare_evaluation(task, settings, S3ObjectStore())
    logger.info("evaluation prepared", execution_name=task.execution_name, prompts=output.prompt_count)
    return output
