"""Prepare evaluation: turns held-out prompts into one prompt-chain plan per model (fine-tuning machine)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from companion.adapters.s3 import S3ObjectStore
from companion.finetune.evaluation import PrepareEvaluationInput, prepare_evaluation
from companion.observability import logger
from companion.settings import FineTuningEvaluationSettings, load_settings
from companion.task_io import parse_input


@cache
def _settings() -> FineTuningEvaluationSettings:
    return load_settings(FineTuningEvaluationSettings)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_input(PrepareEvaluationInput, event)
    output = prepare_evaluation(task, _settings(), S3ObjectStore())
    logger.info("evaluation prepared", execution_name=task.execution_name, prompts=output.prompt_count)
    return output.model_dump(mode="json")
