"""Pre-process prompt: render the step's template, encode the family's Body, offload it to S3 when it is too big."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from companion import safejson
from companion.codec import NeutralRequest, Turn, decode, encode_json, resolve_family
from companion.codec.models import InferenceParameters, ModelFamily
from companion.errors import InputValidationError, PromptTooLargeError, ResponseDecodingError
from companion.s3uri import S3Location, key_segment, parse_s3_uri
from companion.settings import PayloadBudget, PreprocessSettings
from companion.steps.templating import render_all
from companion.task_io import TaskInput, json_bytes

StepName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class PromptTemplate(BaseModel):
    """Turns whose ``content`` (and ``system``) are templates; see :mod:`companion.steps.templating`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str | None = None
    messages: Annotated[list[Turn], Field(min_length=1, max_length=200)]


class OffloadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    output_to_s3: bool = Field(default=False, description="Assign an Output.S3Uri: the step expects a large answer.")
    max_inline_bytes: PayloadBudget | None = Field(
        default=None, description="Overrides the function's payload budget for this step."
    )


class PreprocessPromptInput(TaskInput):
    execution_name: Annotated[str, Field(min_length=1, max_length=256)]
    step: StepName
    prompt: PromptTemplate | Annotated[str, Field(min_length=1)] = Field(
        description="A template; a plain string is shorthand for one user turn."
    )
    variables: dict[str, Any] = Field(default_factory=dict)
    variables_s3_uri: str | None = Field(
        default=None,
        description="A JSON object in S3 (under the offload prefix's maps/) holding more variables, as the chain "
        "interpreter's Distributed Map hands each item the chain's input and results; `variables` win over it.",
    )
    inference: InferenceParameters = InferenceParameters()
    extra_body: dict[str, Any] = Field(default_factory=dict)
    offload: OffloadOptions = OffloadOptions()


class PreprocessPromptOutput(BaseModel):
    step: str
    model_id: str
    family: ModelFamily
    request: dict[str, Any] = Field(
        description="The invokeModel task's arguments: ModelId, ContentType, Accept, Body or Input.S3Uri, Output.S3Uri."
    )
    offloaded: bool
    body_bytes: int
    output_s3_uri: str | None


class BodyStore(Protocol):
    def put_json(self, location: S3Location, body: bytes) -> None: ...

    def get_bytes(self, location: S3Location) -> bytes: ...


_MAX_REFERENCES = 200
"""Answers read back from S3 for one prompt at most (a map's results included)."""
MAPS_FOLDER = "maps/"
"""Where, under the offload prefix, the chain interpreter keeps a Distributed Map's items, variables and results."""


def _stored_json(store: BodyStore, location: S3Location, where: str) -> Any:
    try:
        return safejson.loads(store.get_bytes(location))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputValidationError(f"{where}: {location.uri} is not JSON") from exc


def _dereferenced(variables: dict[str, Any], settings: PreprocessSettings, store: BodyStore) -> dict[str, Any]:
    """``variables`` with each earlier answer kept in S3 by reference (``{text: preview, ref, family, truncated}``,
    as a compiled chain machine keeps answers too large for its state) replaced by its full text, and each map's
    results kept in S3 (``{results: null, ref: <manifest>, truncated}``, a Distributed Map's) read back in item order.

    Raises
    ------
    S3LocationError
        A reference lies outside the offload prefix of the payload bucket.
    OffloadedObjectNotFoundError, ResponseDecodingError
        The referenced answer is gone or is not the family's answer; a map's manifest or result file is not what
        Step Functions writes.
    PromptTooLargeError
        More than ``_MAX_REFERENCES`` references (each result file of a map counts as one).
    """
    steps = variables.get("steps")
    if not isinstance(steps, dict):
        return variables
    budget = [_MAX_REFERENCES]

    def read(uri: str) -> bytes:
        budget[0] -= 1
        if budget[0] < 0:
            raise PromptTooLargeError(f"the prompt uses more than {_MAX_REFERENCES} answers kept in S3")
        where = "variables.steps ref"
        return store.get_bytes(
            parse_s3_uri(uri, where=where, bucket=settings.offload_bucket, prefix=settings.offload_prefix)
        )

    def full(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("ref"), str) and value.get("truncated") is True:
            if "results" in value:
                results = read_map_results(value["ref"], settings.offload_bucket, read)
                return {**value, "results": [full(item) for item in results], "truncated": False}
            family = value.get("family")
            answer = decode(read(value["ref"]), str(value.get("model_id") or family), family)
            return {**value, "text": answer.text, "truncated": False}
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            return {**value, "results": [full(item) for item in value["results"]]}
        return value

    return {**variables, "steps": {name: full(value) for name, value in steps.items()}}


def read_map_results(manifest_uri: str, bucket: str, read: Callable[[str], bytes]) -> list[Any]:
    """A Distributed Map's results from its ResultWriter manifest: each child's output by item index (the child's
    input ``ctx.index``), ``None`` for an item whose child did not succeed."""

    def document(uri: str) -> Any:
        try:
            return json.loads(read(uri))
        except ValueError as exc:
            raise ResponseDecodingError(f"map results {uri}: not JSON") from exc

    files = document(manifest_uri)
    files = files.get("ResultFiles") if isinstance(files, dict) else None
    if not isinstance(files, dict):
        raise ResponseDecodingError(f"map results {manifest_uri}: a manifest has ResultFiles")
    by_index: dict[int, Any] = {}
    for status, entries in files.items():
        for entry in entries if isinstance(entries, list) else []:
            uri = f"s3://{bucket}/{entry.get('Key') if isinstance(entry, dict) else ''}"
            records = document(uri)
            if not isinstance(records, list):
                raise ResponseDecodingError(f"map results {uri}: a result file is a list of executions")
            for record in records:
                try:
                    index = json.loads(record["Input"])["ctx"]["index"]
                    output = json.loads(record["Output"]) if status == "SUCCEEDED" else None
                except (KeyError, TypeError, ValueError) as exc:
                    raise ResponseDecodingError(f"map results {uri}: an execution without its item") from exc
                if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                    raise ResponseDecodingError(f"map results {uri}: an item index is not a count")
                by_index[index] = output
    return [by_index.get(index) for index in range(max(by_index, default=-1) + 1)]


def preprocess_prompt(
    task: PreprocessPromptInput, settings: PreprocessSettings, store: BodyStore
) -> PreprocessPromptOutput:
    """Build the invokeModel arguments for one step.

    The Body stays inline when the whole output (Body included) fits the payload budget; otherwise it is written to
    ``<prefix>requests/<execution>/<step>.json`` (a retry of the same step overwrites its own object, other executions
    and steps never share a key) and the arguments carry ``Input.S3Uri``. With ``offload.output_to_s3`` the step also
    gets ``Output.S3Uri`` under ``<prefix>responses/`` and returns that URI, so later steps never depend on the
    undocumented shape of the reference Step Functions puts in the task result.

    Raises
    ------
    TemplateSyntaxError, MissingTemplateVariablesError, PromptTooLargeError
        From rendering.
    S3LocationError, OffloadedObjectNotFoundError, ResponseDecodingError
        An earlier answer the prompt uses is kept in S3 and cannot be read back.
    UnknownModelFamilyError, RequestEncodingError
        From the codec.
    InputValidationError
        The rendered prompt contains text that cannot be encoded as UTF-8.
    """
    family = resolve_family(task.model_id, task.model_family)
    variables = task.variables
    if task.variables_s3_uri is not None:
        where = "variables_s3_uri"
        prefix = f"{settings.offload_prefix}{MAPS_FOLDER}"
        location = parse_s3_uri(task.variables_s3_uri, where=where, bucket=settings.offload_bucket, prefix=prefix)
        stored = _stored_json(store, location, where)
        if not isinstance(stored, dict):
            raise InputValidationError(f"{where}: {location.uri} does not hold a JSON object")
        variables = {**stored, **variables}
    variables = _dereferenced(variables, settings, store)
    neutral = _render_request(task.model_copy(update={"variables": variables}))
    body, body_json = encode_json(neutral, task.model_id, family)

    folder = f"{key_segment(task.execution_name)}/{key_segment(task.step)}"
    output_uri = None
    request: dict[str, Any] = {
        "ModelId": task.model_id,
        "ContentType": "application/json",
        "Accept": "application/json",
    }
    if task.offload.output_to_s3:
        output_uri = S3Location(settings.offload_bucket, f"{settings.offload_prefix}responses/{folder}.json").uri
        request["Output"] = {"S3Uri": output_uri}
    result = PreprocessPromptOutput(
        step=task.step,
        model_id=task.model_id,
        family=family,
        request=request,
        offloaded=False,
        body_bytes=len(body_json),
        output_s3_uri=output_uri,
    )
    # The Body is serialized once: inline, the output is this envelope with ',"Body":<body>' added to `request`.
    inline_bytes = (
        len(json_bytes(result.model_dump(mode="json"), where="step output")) + len(b',"Body":') + len(body_json)
    )
    budget = task.offload.max_inline_bytes or settings.payload_budget_bytes
    if inline_bytes <= budget:
        return result.model_copy(update={"request": {**request, "Body": body}})

    location = S3Location(settings.offload_bucket, f"{settings.offload_prefix}requests/{folder}.json")
    store.put_json(location, body_json)
    return result.model_copy(update={"request": {**request, "Input": {"S3Uri": location.uri}}, "offloaded": True})


def _render_request(task: PreprocessPromptInput) -> NeutralRequest:
    template = (
        task.prompt
        if isinstance(task.prompt, PromptTemplate)
        else PromptTemplate(messages=[Turn(role="user", content=task.prompt)])
    )
    sources = [(f"prompt.messages[{i}].content", turn.content) for i, turn in enumerate(template.messages)]
    if template.system is not None:
        sources.append(("prompt.system", template.system))
    rendered = render_all(sources, task.variables)
    for (where, _), text in zip(sources, rendered, strict=True):
        _require_utf8(text, where)
    turns = []
    for turn, text in zip(template.messages, rendered, strict=False):
        if not text.strip():
            raise InputValidationError(f"prompt.messages: a {turn.role} turn renders to empty text")
        turns.append(Turn(role=turn.role, content=text))
    return NeutralRequest(
        **task.inference.model_dump(),
        system=rendered[-1] if template.system is not None else None,
        messages=turns,
        extra_body=task.extra_body,
    )


def _require_utf8(text: str, where: str) -> None:
    # Variables are free-form JSON: a lone surrogate (from a \ud800 escape) must fail here, by name.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputValidationError(
            f"{where}: renders text that is not valid Unicode (a lone surrogate at position {exc.start})"
        ) from exc
