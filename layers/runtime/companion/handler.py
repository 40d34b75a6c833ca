"""The one shape of a task Lambda: settings read once, the event parsed, one domain call, the output dumped as JSON.

Each handler in ``functions/<task>/app.py`` keeps only what is its own (which domain function, which adapters,
which metrics and log fields) and wraps it with :func:`task_handler` under Powertools' decorators::

    @logger.inject_lambda_context
    @metrics.log_metrics
    @task_handler(PreprocessPromptInput, PreprocessSettings)
    def lambda_handler(task: PreprocessPromptInput, settings: PreprocessSettings) -> PreprocessPromptOutput:
        return preprocess_prompt(task, settings, S3ObjectStore())
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from companion.settings import Settings, load_settings
from companion.task_io import parse_input

InputT = TypeVar("InputT", bound=BaseModel)
SettingsT = TypeVar("SettingsT", bound=Settings)

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def task_handler(
    input_model: type[InputT], settings_model: type[SettingsT]
) -> Callable[[Callable[[InputT, SettingsT], BaseModel]], LambdaHandler]:
    """Turn ``run(task, settings) -> output model`` into a Lambda entry point ``(event, context) -> dict``.

    Parameters
    ----------
    input_model
        The task's input model; the event is parsed into it (``InputValidationError`` names every bad field).
    settings_model
        The function's settings, read from the environment on the first invocation and kept for the warm
        container's life (per handler, so functions with different environments never share them).

    Returns
    -------
    Callable
        A decorator; the handler it returns dumps the output model in JSON mode.
    """

    def decorate(run: Callable[[InputT, SettingsT], BaseModel]) -> LambdaHandler:
        @functools.cache
        def settings() -> SettingsT:
            return load_settings(settings_model)

        @functools.wraps(run)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001  (the runtime passes it)
            output = run(parse_input(input_model, event), settings())
            return output.model_dump(mode="json")

        return handler

    return decorate
