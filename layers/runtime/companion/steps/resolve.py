"""Resolve output: read a Bedrock response that Step Functions wrote to S3 and return it normalized."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from pydantic import Field

from companion.codec import NormalizedResult, decode, resolve_family
from companion.errors import InputValidationError
from companion.s3uri import S3Location, parse_s3_uri
from companion.settings import PayloadBudget, ResolveSettings
from companion.task_io import TaskInput, json_bytes

_MAX_SCAN_NODES = 1000


class ResolveOutputInput(TaskInput):
    output_s3_uri: str | None = Field(
        default=None, description="The Output.S3Uri that pre-process assigned and the chain carried on."
    )
    task_result: Any = Field(
        default=None, description="Fallback: the Bedrock task's result, scanned for an s3:// URI in the bucket."
    )
    max_inline_bytes: PayloadBudget | None = None
    preview_chars: Annotated[int, Field(ge=0, le=100_000)] = 2000


class ResolveOutputOutput(NormalizedResult):
    source_s3_uri: str
    truncated: bool = Field(
        default=False,
        description="True when the result would not fit the state budget: text is then a preview, and embeddings "
        "and tool calls are left out; source_s3_uri points at the full response.",
    )
    text_chars: int | None = None


class ObjectReader(Protocol):
    def get_bytes(self, location: S3Location) -> bytes: ...


def resolve_output(task: ResolveOutputInput, settings: ResolveSettings, store: ObjectReader) -> ResolveOutputOutput:
    """Read, decode and normalize an offloaded response, bounded to the state payload budget.

    Raises
    ------
    InputValidationError
        Neither ``output_s3_uri`` nor an S3 URI in ``task_result`` was given.
    S3LocationError
        The URI is malformed or outside ``<offload prefix>responses/`` of the function's bucket.
    OffloadedObjectNotFoundError, S3AccessDeniedError, PayloadTooLargeError
        From the object store, which reads exactly that object (a prefix is not a folder to pick from).
    ResponseDecodingError, UnknownModelFamilyError
        From the codec (not UTF-8, not JSON, not the family's format).
    """
    family = resolve_family(task.model_id, task.model_family)
    location = _locate(task, settings)
    result = decode(store.get_bytes(location), task.model_id, family)
    output = ResolveOutputOutput(
        **result.model_dump(),
        source_s3_uri=location.uri,
        text_chars=None if result.text is None else len(result.text),
    )
    budget = task.max_inline_bytes or settings.result_budget_bytes
    if len(json_bytes(output.model_dump(mode="json"), where="resolved output")) <= budget:
        return output
    preview = None if result.text is None else result.text[: task.preview_chars]
    return output.model_copy(update={"text": preview, "tool_calls": [], "embeddings": None, "truncated": True})


def _locate(task: ResolveOutputInput, settings: ResolveSettings) -> S3Location:
    def parse(uri: object, where: str) -> S3Location:
        prefix = f"{settings.offload_prefix}responses/"
        return parse_s3_uri(uri, where=where, bucket=settings.offload_bucket, prefix=prefix)

    # Only the responses area of the prefix: the function's IAM grant, and where pre-process assigns answers.
    if task.output_s3_uri is not None:
        return parse(task.output_s3_uri, "output_s3_uri")
    for found in _s3_uris(task.task_result):
        return parse(found, "task_result")
    raise InputValidationError("ResolveOutputInput: give output_s3_uri, or a task_result that contains an s3:// URI")


def _s3_uris(value: Any) -> list[str]:
    """Every ``s3://`` string in a nested value, breadth first, visiting a bounded number of nodes."""
    found: list[str] = []
    queue = [value]
    for _ in range(_MAX_SCAN_NODES):
        if not queue:
            break
        node = queue.pop(0)
        if isinstance(node, str) and node.startswith("s3://"):
            found.append(node)
        elif isinstance(node, dict):
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)
    return found
