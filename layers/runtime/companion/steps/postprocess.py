"""Post-process result: normalize what a ResultSelector kept of a Bedrock answer; optionally parse and check JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from companion.codec import NormalizedResult, decode, resolve_family
from companion.errors import CompanionError, InputValidationError, ModelOutputTruncatedError, PayloadTooLargeError
from companion.settings import PostprocessSettings
from companion.steps.json_answers import extract_json, validate_json
from companion.task_io import TaskInput, json_bytes
from companion.usage import attach_usage


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    format: Literal["text", "json"] = "text"
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    on_truncation: Literal["report", "fail"] = Field(
        default="report", description="What to do when the model stopped at max_tokens."
    )


class PostprocessResultInput(TaskInput):
    result: Any = Field(description="What the Bedrock task's ResultSelector produced: the whole Body or part of it.")
    output: OutputSpec = OutputSpec()


class PostprocessResultOutput(NormalizedResult):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    truncated: bool
    parsed_json: Any = Field(default=None, alias="json")
    text_omitted: bool = Field(
        default=False, description="The text was left out to fit the state budget; `json` holds what it said."
    )


def postprocess_result(task: PostprocessResultInput, settings: PostprocessSettings) -> PostprocessResultOutput:
    """Normalize ``task.result`` and apply the step's output handling.

    Raises
    ------
    ModelOutputNotJsonError, ModelOutputSchemaError
        JSON was asked for and the answer has none, or it breaks the schema: a re-prompt loop catches these.
    ModelOutputTruncatedError
        The answer hit max_tokens and the step said ``on_truncation: fail``.
    SchemaDefinitionError
        The step's schema is not a valid JSON Schema.
    InputValidationError
        JSON was asked for but the result holds no text (an embedding, or only tool calls).
    PayloadTooLargeError
        The result does not fit the state payload budget even without the text beside its parsed JSON.

    Every error raised after the answer was decoded carries its token usage at the end of its message
    (:mod:`companion.usage`), so that the tokens of rejected answers and failed steps can be counted.
    """
    if task.output.format == "json" and isinstance(task.result, dict) and task.result.get("truncated") is True:
        # resolve-output kept only a preview of an answer too large for the state: no JSON can be checked inline.
        raise PayloadTooLargeError(
            f"the answer at {task.result.get('source_s3_uri')} is too large to check as JSON inside the state; "
            "ask for a shorter answer or validate it from S3"
        )
    result = decode(task.result, task.model_id, resolve_family(task.model_id, task.model_family))
    try:
        return _handled(task, settings, result)
    except CompanionError as exc:
        # The answer was billed whether or not the step keeps it: its tokens go with the error.
        raise attach_usage(exc, result) from None


def _handled(
    task: PostprocessResultInput, settings: PostprocessSettings, result: NormalizedResult
) -> PostprocessResultOutput:
    truncated = result.stop_reason == "max_tokens"
    if truncated and task.output.on_truncation == "fail":
        raise ModelOutputTruncatedError(
            f"{task.model_id} stopped at its token limit ({result.output_tokens or 'unknown'} output tokens); "
            "raise max_tokens or ask for a shorter answer"
        )
    parsed = None
    if task.output.format == "json":
        if result.text is None:
            raise InputValidationError(f"output.format is json but the {result.family} result holds no text")
        parsed = extract_json(result.text)
        if task.output.json_schema is not None:
            validate_json(parsed, task.output.json_schema)
    output = PostprocessResultOutput(**result.model_dump(), truncated=truncated, parsed_json=parsed)
    size = len(json_bytes(output.model_dump(mode="json"), where="post-processed result"))
    if size <= settings.result_budget_bytes:
        return output
    if parsed is not None:
        # The text and its parsed JSON say the same thing twice; keeping only the JSON halves the payload.
        output = output.model_copy(update={"text": None, "text_omitted": True})
        size = len(json_bytes(output.model_dump(mode="json"), where="post-processed result"))
        if size <= settings.result_budget_bytes:
            return output
    raise PayloadTooLargeError(
        f"the post-processed result is {size} bytes, over the state budget of {settings.result_budget_bytes}: "
        "give the step offload.output_to_s3 and read the answer with resolve-output"
    )
