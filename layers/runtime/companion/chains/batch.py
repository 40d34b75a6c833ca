"""Scheduled chain batches: one prompt chain over every line of a prompt set in S3 (statemachines/chain_batch.asl.yaml).

``prepare_batch`` runs first: it resolves the chain (packaged name or inline definition) into the plan every item's
chain execution receives, and reads the prompt set once, streaming, so a set with a malformed line fails before any
model is called. The Distributed Map then starts one ``PromptChainStateMachine`` execution per line and its
ResultWriter stores every child's record in S3. ``summarize_batch`` reads those records back, streaming, and writes
one summary object (counts, failure percentage, tokens, the first failures) to
``batches/summaries/<execution>/summary.json``.

A prompt set is JSON Lines: each line is one JSON object, the chain's input variables for one run (what ``POST
/chains`` takes as ``variables``). Blank lines are skipped, as the Distributed Map's JSONL reader skips them.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from companion import safejson
from companion.causes import public_cause
from companion.chains import ChainName, execution_input, resolve_chain
from companion.constants import STATE_PAYLOAD_LIMIT_BYTES
from companion.errors import (
    InputValidationError,
    OffloadedObjectNotFoundError,
    PayloadTooLargeError,
    PromptSetInvalidError,
    PromptSetNotFoundError,
)
from companion.lines import OversizedLine, split_lines
from companion.s3uri import S3Location, key_segment, parse_s3_uri
from companion.task_io import json_bytes

PROMPT_SET_PREFIX = "prompt-sets/"
RESULTS_PREFIX = "batches/results/"
SUMMARY_PREFIX = "batches/summaries/"
MAX_BATCH_CONCURRENCY = 100
"""Ceiling on a batch's chains at once (the template's BatchMaxConcurrency has the same maximum). The Distributed
Map would run up to 10,000: every one of them calling Bedrock at once would exceed any account's on-demand quotas,
and the throttled calls would fail the chains after their retries. README: Concurrency ceiling."""
MAX_REPORTED_PROBLEMS = 10
MAX_REPORTED_FAILURES = 20
_MAX_CAUSE_CHARS = 500
# Headroom in the prepared state for the Map's own fields next to the plan.
_MAX_PLAN_BYTES = STATE_PAYLOAD_LIMIT_BYTES - 16 * 1024

BatchStatus = Literal["SUCCEEDED", "FAILED"]


class BatchStore(Protocol):
    """The port to the payload bucket (adapter: ``companion.adapters.s3.S3ObjectStore``)."""

    def iter_chunks(self, location: S3Location) -> Iterator[bytes]:
        """The object's bytes in chunks, streamed. Raises OffloadedObjectNotFoundError."""
        ...

    def put_json(self, location: S3Location, body: bytes) -> None:
        """Write a JSON object."""
        ...


class PrepareBatchInput(BaseModel):
    """What a schedule (or a caller) starts a batch with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain: ChainName | dict[str, Any] = Field(description="A packaged chain's name, or a chain definition.")
    prompt_set: Annotated[str, Field(min_length=1, max_length=1024)] = Field(
        description="The prompt set's key under prompt-sets/ in the payload bucket, or its s3:// URI there."
    )
    max_concurrency: Annotated[int, Field(ge=1, le=MAX_BATCH_CONCURRENCY)] = Field(
        default=5, description="Chains running at once: keep it within the Bedrock quotas of the chain's models."
    )
    tolerated_failure_percentage: Annotated[float, Field(ge=0, le=100)] = 0.0


class PromptSetLocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str


class PrepareBatchOutput(BaseModel):
    """The Distributed Map's input: each item's chain execution gets ``chain``, ``plan`` and its line as ``input``."""

    model_config = ConfigDict(frozen=True)

    chain: str
    plan: list[Any]
    prompt_set: PromptSetLocation
    items: int
    max_concurrency: int
    tolerated_failure_percentage: float


def prepare_batch(task: PrepareBatchInput, *, bucket: str, store: BatchStore) -> PrepareBatchOutput:
    """Resolve the chain and check the prompt set line by line.

    Raises
    ------
    UnknownChainError, ChainDefinitionError
        The chain cannot run.
    S3LocationError
        The prompt set lies outside ``prompt-sets/`` of the payload bucket.
    PromptSetNotFoundError
        No object at that key.
    PromptSetInvalidError
        Lines that are not JSON objects, or no line at all (the first problems, with line numbers).
    PayloadTooLargeError
        The chain's plan alone would not fit an execution input.
    """
    chain = resolve_chain(task.chain)
    document = execution_input(chain)
    plan_bytes = len(json_bytes(document, where="chain plan"))
    if plan_bytes > _MAX_PLAN_BYTES:
        raise PayloadTooLargeError(f"chain {chain.name!r}: its plan is too large for an execution input")
    uri = task.prompt_set if task.prompt_set.startswith("s3://") else f"s3://{bucket}/{task.prompt_set}"
    location = parse_s3_uri(uri, where="prompt_set", bucket=bucket, prefix=PROMPT_SET_PREFIX)
    # Each line becomes the input of one chain execution beside the plan; both must fit 256 KiB together.
    items = _count_prompt_lines(store, location, max_line_bytes=STATE_PAYLOAD_LIMIT_BYTES - plan_bytes - 1024)
    return PrepareBatchOutput(
        chain=chain.name,
        plan=document["plan"],
        prompt_set=PromptSetLocation(bucket=location.bucket, key=location.key),
        items=items,
        max_concurrency=task.max_concurrency,
        tolerated_failure_percentage=task.tolerated_failure_percentage,
    )


def _count_prompt_lines(store: BatchStore, location: S3Location, *, max_line_bytes: int) -> int:
    items = 0
    problems: list[str] = []
    bad_lines = 0
    try:
        for number, line in enumerate(split_lines(store.iter_chunks(location), max_line_bytes), start=1):
            if isinstance(line, OversizedLine):
                problem: str | None = f"{line.size} bytes: over the {max_line_bytes} an execution input leaves it"
            elif not line.strip():
                continue
            else:
                problem = _line_problem(line)
            if problem is None:
                items += 1
                continue
            bad_lines += 1
            if len(problems) < MAX_REPORTED_PROBLEMS:
                problems.append(f"line {number}: {problem}")
    except OffloadedObjectNotFoundError as exc:
        raise PromptSetNotFoundError(f"prompt_set: no object at {location.uri}") from exc
    if bad_lines:
        more = f" (and {bad_lines - len(problems)} more)" if bad_lines > len(problems) else ""
        raise PromptSetInvalidError(
            f"{location.uri}: {bad_lines} line(s) are not usable JSON objects{more}: " + "; ".join(problems)
        )
    if items == 0:
        raise PromptSetInvalidError(f"{location.uri}: the prompt set has no lines; one JSON object per line expected")
    return items


def _line_problem(line: bytes) -> str | None:
    try:
        value = safejson.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, expected an object of the chain's input variables"
    return None


class SummarizeBatchInput(BaseModel):
    """The batch after its Map: the prepared fields, and the Map's result (ResultWriterDetails) or its error."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    execution_name: Annotated[str, Field(min_length=1, max_length=80)]
    chain: str
    prompt_set: PromptSetLocation
    items: Annotated[int, Field(ge=0)]
    tolerated_failure_percentage: Annotated[float, Field(ge=0, le=100)]
    map: dict[str, Any] = Field(description="The Map's output, or the Catch's {Error, Cause}.")


class ItemCounts(BaseModel):
    total: int
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    not_reported: int = 0


class TokenTotals(BaseModel):
    """Tokens of the answers succeeded chains kept, and apart from them (``unaccepted_*``) the tokens of answers
    Bedrock returned and no succeeded chain kept: rejected by a re-prompt loop, received by a step that then failed,
    or received by a chain that failed. Billed all the same.

    A chain reports them as ``usage.unaccepted`` in its output, and as ``usage`` in its failure cause."""

    input: int = 0
    output: int = 0
    steps_without_usage: int = 0
    unaccepted_input: int = 0
    unaccepted_output: int = 0


class ItemFailure(BaseModel):
    index: int | None
    input: str | None = Field(description="The prompt set line (its variables), shortened.")
    status: str
    error: str | None
    cause: str | None


class BatchSummary(BaseModel):
    """The object written to ``batches/summaries/<execution>/summary.json``."""

    execution_name: str
    chain: str
    prompt_set: str
    status: BatchStatus
    items: ItemCounts
    failure_percentage: float
    tolerated_failure_percentage: float
    tokens: TokenTotals
    results_manifest: str | None
    failures: list[ItemFailure]
    error: str | None = None
    cause: str | None = None


class SummarizeBatchOutput(BaseModel):
    """What the state machine keeps: the summary without its failure list, and where the whole summary is."""

    status: BatchStatus
    summary_s3_uri: str
    items: ItemCounts
    failure_percentage: float
    tokens: TokenTotals
    results_manifest: str | None
    error: str | None = None
    cause: str | None = None


_STATUS_FIELDS = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "timed_out", "ABORTED": "aborted"}


def summarize_batch(task: SummarizeBatchInput, *, bucket: str, store: BatchStore) -> SummarizeBatchOutput:
    """Count the Map's child executions by status, add up their chains' tokens, write the summary object.

    A Map that failed (tolerated failure threshold exceeded, or the prompt set unreadable) left no result files
    offline and may have left none on AWS: the summary then carries its error and cause, counting nothing but the
    total.

    Raises
    ------
    S3LocationError
        The Map's manifest or a result file lies outside ``batches/results/`` of the payload bucket.
    OffloadedObjectNotFoundError
        The manifest or a result file it lists does not exist.
    InputValidationError
        The manifest or a result file is not what the ResultWriter writes.
    """
    counts = ItemCounts(total=task.items)
    tokens = TokenTotals()
    failures: list[ItemFailure] = []
    manifest_uri: str | None = None
    details = task.map.get("ResultWriterDetails")
    if isinstance(details, dict):
        manifest = parse_s3_uri(
            f"s3://{details.get('Bucket')}/{details.get('Key')}",
            where="map manifest",
            bucket=bucket,
            prefix=RESULTS_PREFIX,
        )
        manifest_uri = manifest.uri
        for record in _child_records(store, manifest, bucket):
            _count(record, counts, tokens, failures)
    reported = counts.succeeded + counts.failed + counts.timed_out + counts.aborted
    counts.not_reported = max(0, counts.total - reported)
    unsuccessful = counts.total - counts.succeeded
    percentage = round(100.0 * unsuccessful / counts.total, 2) if counts.total else 0.0
    map_error = task.map.get("Error")
    summary = BatchSummary(
        execution_name=task.execution_name,
        chain=task.chain,
        prompt_set=S3Location(task.prompt_set.bucket, task.prompt_set.key).uri,
        status="FAILED" if map_error else "SUCCEEDED",
        items=counts,
        failure_percentage=percentage,
        tolerated_failure_percentage=task.tolerated_failure_percentage,
        tokens=tokens,
        results_manifest=manifest_uri,
        failures=failures,
        error=str(map_error) if map_error else None,
        cause=_short(task.map.get("Cause")) if map_error else None,
    )
    location = S3Location(bucket, f"{SUMMARY_PREFIX}{key_segment(task.execution_name)}/summary.json")
    store.put_json(location, json_bytes(summary.model_dump(mode="json"), where="batch summary"))
    output = SummarizeBatchOutput(summary_s3_uri=location.uri, **summary.model_dump(exclude={"failures"}))
    if summary.error is None:
        return output
    # A Fail state may not raise a States.* error name: the batch fails as ChainBatch.<the Map's error>.
    error = summary.error.replace("States.", "ChainBatch.", 1) if summary.error.startswith("States.") else summary.error
    return output.model_copy(update={"error": error, "cause": f"{summary.cause} (summary: {location.uri})"})


def _child_records(store: BatchStore, manifest: S3Location, bucket: str) -> Iterator[dict[str, Any]]:
    document = _json_object(b"".join(store.iter_chunks(manifest)), manifest.uri)
    files = document.get("ResultFiles")
    if not isinstance(files, dict):
        raise InputValidationError(f"{manifest.uri}: no ResultFiles: not a Distributed Map manifest")
    for listed in files.values():
        for entry in listed if isinstance(listed, list) else []:
            key = entry.get("Key") if isinstance(entry, dict) else None
            location = parse_s3_uri(f"s3://{bucket}/{key}", where=manifest.uri, bucket=bucket, prefix=RESULTS_PREFIX)
            yield from _array_items(store.iter_chunks(location), location.uri)


def _array_items(chunks: Iterable[bytes], where: str) -> Iterator[dict[str, Any]]:
    """The objects of a JSON array, decoded one at a time: a result file can be far larger than the function's
    memory, one child execution's record cannot."""
    reader = _ArrayReader(where)
    text = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            yield from reader.feed(text.decode(chunk))
        yield from reader.feed(text.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise InputValidationError(f"{where}: not UTF-8 text") from exc
    reader.close()


class _ArrayReader:
    """Incremental reader of one JSON array of objects: ``feed`` text as it arrives, ``close`` at the end."""

    def __init__(self, where: str) -> None:
        self._where = where
        self._buffer = ""
        self._state: Literal["before", "inside", "closed"] = "before"

    def feed(self, text: str) -> list[dict[str, Any]]:
        self._buffer += text
        items: list[dict[str, Any]] = []
        position = 0
        buffer = self._buffer
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                position += 1
            if position == len(buffer):
                break
            if self._state == "closed":
                raise InputValidationError(f"{self._where}: text after the end of the JSON array")
            if self._state == "before":
                if buffer[position] != "[":
                    raise InputValidationError(f"{self._where}: expected a JSON array of child execution records")
                self._state = "inside"
                position += 1
                continue
            if buffer[position] == "]":
                self._state = "closed"
                position += 1
                continue
            try:
                value, position = safejson.raw_decode(buffer, position)
            except safejson.JsonLimitError as exc:
                raise InputValidationError(f"{self._where}: a child execution record is unusable: {exc.msg}") from exc
            except json.JSONDecodeError:
                break  # the record continues in the next chunk; close() reports one that never ends
            if not isinstance(value, dict):
                raise InputValidationError(f"{self._where}: a child execution record is not a JSON object")
            items.append(value)
        self._buffer = buffer[position:]
        return items

    def close(self) -> None:
        if self._state != "closed":
            raise InputValidationError(f"{self._where}: the JSON array is cut off or malformed")


def _count(record: dict[str, Any], counts: ItemCounts, tokens: TokenTotals, failures: list[ItemFailure]) -> None:
    status = str(record.get("Status"))
    field = _STATUS_FIELDS.get(status, "failed")
    setattr(counts, field, getattr(counts, field) + 1)
    if status == "SUCCEEDED":
        usage = _loaded(record.get("Output")).get("usage")
        if isinstance(usage, dict):
            tokens.input += _whole(usage.get("input_tokens"))
            tokens.output += _whole(usage.get("output_tokens"))
            tokens.steps_without_usage += _whole(usage.get("steps_without_usage"))
            unaccepted = usage.get("unaccepted")
            if isinstance(unaccepted, dict):
                tokens.unaccepted_input += _whole(unaccepted.get("input_tokens"))
                tokens.unaccepted_output += _whole(unaccepted.get("output_tokens"))
        return
    _add_failed_chain_usage(record.get("Cause"), tokens)
    if len(failures) < MAX_REPORTED_FAILURES:
        error, cause = _inner_failure(record.get("Error"), record.get("Cause"))
        item = _loaded(record.get("Input"))
        # The child's input is the ItemSelector's {chain, [plan,] input, index}; moto records the raw line instead.
        selected = "chain" in item and "input" in item and "index" in item
        index = item.get("index") if selected else None
        line = item.get("input") if selected else item
        failures.append(
            ItemFailure(
                index=index if isinstance(index, int) else None,
                input=_short(line),
                status=status,
                error=error,
                cause=cause,
            )
        )


def _add_failed_chain_usage(cause: Any, tokens: TokenTotals) -> None:
    described = _loaded(cause)
    failure = _loaded(described.get("Cause")) if "Cause" in described else described
    usage = failure.get("usage")
    if not isinstance(usage, dict):
        return
    found = usage.get("unaccepted")
    unaccepted: dict[str, Any] = found if isinstance(found, dict) else {}
    for field, total in (("input_tokens", "unaccepted_input"), ("output_tokens", "unaccepted_output")):
        added = _whole(usage.get(field)) + _whole(unaccepted.get(field))
        setattr(tokens, total, getattr(tokens, total) + added)


def _inner_failure(error: Any, cause: Any) -> tuple[str | None, str | None]:
    """A failed ``startExecution.sync:2`` task reports ``States.TaskFailed`` with the chain execution's description
    as its Cause; the chain's own Error and Cause are what a user needs."""
    described = _loaded(cause)
    if isinstance(described.get("Error"), str):
        return described["Error"], _public(described.get("Cause"))
    return (str(error) if error is not None else None), _public(cause)


def _public(cause: Any) -> str | None:
    # Stored summaries are read by people who did not deploy the stack: no stack traces (companion.causes).
    return _short(public_cause(cause) if isinstance(cause, str) else cause)


def _loaded(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        return {}
    try:
        value = safejson.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_object(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = safejson.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputValidationError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InputValidationError(f"{where}: expected a JSON object")
    return value


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= _MAX_CAUSE_CHARS else text[:_MAX_CAUSE_CHARS] + "..."


__all__ = [
    "MAX_BATCH_CONCURRENCY",
    "PROMPT_SET_PREFIX",
    "RESULTS_PREFIX",
    "SUMMARY_PREFIX",
    "BatchStore",
    "BatchSummary",
    "PrepareBatchInput",
    "PrepareBatchOutput",
    "SummarizeBatchInput",
    "SummarizeBatchOutput",
    "prepare_batch",
    "summarize_batch",
]
