"""What the offline runner tells its user: live progress lines, and a summary with an estimated AWS cost.

Progress is read from ``get_execution_history`` events as the engine reports them. Every event names the event it
follows (``previousEventId``), so each one inherits the open states of its predecessor; that gives the nesting depth
(Map iterations, Parallel branches), the state a Task event belongs to, and its retry attempt, even while Map
iterations run concurrently and their events interleave.

Costs come from an editable price table (``prices.json`` beside this module, or ``--prices FILE``). They are estimates
of one execution on AWS: free tiers are ignored, and an Express execution is billed for its duration, which offline
lacks the real Bedrock and Lambda latencies.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

from sfn_offline.plugin import NO_PLUGINS

DEFAULT_PRICES: Final[Path] = Path(__file__).with_name("prices.json")
_FAILED_TASK_EVENTS: Final[frozenset[str]] = frozenset({"TaskFailed", "TaskTimedOut"})
_EXECUTION_END: Final[dict[str, str]] = {
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
}
_PROFILE_PREFIXES: Final[tuple[str, ...]] = ("us.", "eu.", "apac.", "us-gov.", "global.", "jp.", "au.", "ca.")
_CAUSE_CHARS: Final[int] = 200


class PriceTableError(ValueError):
    """The price table cannot be read; the message names the file and the place in it."""


# --- live progress ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Open:
    name: str
    entered: datetime | None


@dataclass(frozen=True)
class _Context:
    """What an event inherits from the one it follows: the states open around it and the current attempt."""

    open_states: tuple[_Open, ...] = ()
    attempt: int = 0


def _timestamp(event: Mapping[str, Any]) -> datetime | None:
    value = event.get("timestamp")
    return value if isinstance(value, datetime) else None


def _short_cause(cause: Any) -> str:
    """A one-line cause: a Lambda error envelope is reduced to its message."""
    if not isinstance(cause, str) or not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        cause = parsed["errorMessage"]
    line = " ".join(cause.split())
    return line if len(line) <= _CAUSE_CHARS else line[: _CAUSE_CHARS - 1] + "…"


def _error_text(details: Mapping[str, Any]) -> str:
    error = details.get("error") or "error"
    cause = _short_cause(details.get("cause"))
    return f"{error}: {cause}" if cause else str(error)


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


class TextSink(Protocol):
    """Where progress lines and handlers' output go: a text stream, or anything that writes and flushes like one."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class ProgressPrinter:
    """An ``on_event`` callback that writes one line per notable history event to ``stream`` (stderr).

    Lines: a state entered (``->``) and exited (``<-``, with its duration), a task that failed (``!!``, with error
    and cause), each retry attempt, each Map iteration, and how the execution ended. Nested states are indented by
    their depth.
    """

    def __init__(self, stream: TextSink) -> None:
        self._stream = stream
        self._contexts: dict[int, _Context] = {}
        self._types: dict[int, str] = {}
        self._last_failure: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def __call__(self, event: Mapping[str, Any]) -> None:
        with self._lock:
            line = self._line(event)
            if line is not None:
                self._stream.write(line + "\n")
                self._stream.flush()

    def _line(self, event: Mapping[str, Any]) -> str | None:
        kind = str(event.get("type", ""))
        previous = self._contexts.get(int(event.get("previousEventId") or 0), _Context())
        details = _details(event)
        context = previous
        line: str | None = None
        depth = len(previous.open_states)
        inner = "  " * max(depth - 1, 0) + "   "  # Task events: under their state's "->" line.
        if kind.endswith("StateEntered"):
            name = str(details.get("name", "?"))
            context = _Context((*previous.open_states, _Open(name, _timestamp(event))), 0)
            line = f"{'  ' * depth}-> {name}"
        elif kind.endswith("StateExited"):
            name = str(details.get("name", "?"))
            open_states = previous.open_states
            names = [state.name for state in open_states]
            position = len(names) - 1 - names[::-1].index(name) if name in names else None
            entered = open_states[position].entered if position is not None else None
            if position is not None:
                open_states = open_states[:position]
            context = _Context(open_states, 0)
            stamp = _timestamp(event)
            took = f" ({(stamp - entered).total_seconds() * 1000:.1f} ms)" if stamp and entered else ""
            line = f"{'  ' * len(open_states)}<- {name}{took}"
        elif kind == "TaskScheduled" and self._follows_failure(event):
            context = _Context(previous.open_states, previous.attempt + 1)
            line = f"{inner}retry attempt {context.attempt} of {self._state(previous)}"
        elif kind in _FAILED_TASK_EVENTS:
            verb = "timed out" if kind == "TaskTimedOut" else "failed"
            self._last_failure = (str(details.get("error") or ""), _short_cause(details.get("cause")))
            line = f"{inner}!! {self._state(previous)}: task {verb}: {_error_text(details)}"
        elif kind == "MapIterationStarted":
            line = f"{'  ' * depth}[iteration {details.get('index', '?')}]"
        elif kind in {"MapIterationFailed", "MapIterationAborted"}:
            line = f"{'  ' * max(depth - 1, 0)}   !! iteration {details.get('index', '?')} of {details.get('name')}"
        elif kind in _EXECUTION_END:
            end = event.get(_EXECUTION_END[kind]) or {}
            how = kind.removeprefix("Execution").lower()
            # One line per failure: a task failure that ends the execution was printed when it happened.
            line = (
                f"!! execution {how}: the failure above"
                if self._repeats_last_failure(end)
                else f"!! execution {how}: {_error_text(end)}"
            )
        self._contexts[int(event.get("id") or 0)] = context
        self._types[int(event.get("id") or 0)] = kind
        return line

    def _repeats_last_failure(self, end: Mapping[str, Any]) -> bool:
        """The execution ended with the task failure printed last (moto may wrap its cause in more words)."""
        if self._last_failure is None:
            return False
        error, cause = self._last_failure
        return str(end.get("error") or "") == error and cause[:80] in " ".join(str(end.get("cause") or "").split())

    def _follows_failure(self, event: Mapping[str, Any]) -> bool:
        return self._types.get(int(event.get("previousEventId") or 0)) in _FAILED_TASK_EVENTS

    @staticmethod
    def _state(context: _Context) -> str:
        return context.open_states[-1].name if context.open_states else "?"


# --- what ran -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaInvocation:
    function: str
    duration_ms: float
    memory_mb: int
    error: str | None


@dataclass(frozen=True)
class BedrockUse:
    api: str
    target: str  # Model id, or the control-plane action.
    state_name: str
    input_tokens: int | None
    output_tokens: int | None


@dataclass(frozen=True)
class FineTuningUse:
    """A customization job or Provisioned Throughput the run created: what training and throughput are priced from."""

    kind: str  # "job" or "throughput"
    arn: str
    request: Mapping[str, Any]
    training_tokens: int | None = None


@dataclass
class RunRecorder:
    """Wraps the run's handlers and Bedrock backend to record what they did (they are called on engine threads)."""

    lambda_invocations: list[LambdaInvocation] = field(default_factory=list)
    bedrock_uses: list[BedrockUse] = field(default_factory=list)
    fine_tuning_uses: list[FineTuningUse] = field(default_factory=list)
    # (answer, model id) -> (input, output) tokens; a project plugin may read them its own way.
    token_usage: Callable[[Any, str], tuple[int | None, int | None]] = NO_PLUGINS.token_usage
    # What fine-tuning costs, read the project's way (a plugin's pricer); None: jobs are listed, not priced.
    fine_tuning_costs: Callable[[], Any] = NO_PLUGINS.fine_tuning_costs
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap_functions(
        self, handlers: Mapping[str, Callable[[Any, Any], Any]], memory_mb: Callable[[str], int]
    ) -> dict[str, Callable[[Any, Any], Any]]:
        """The same handlers, each timing its calls; ``memory_mb(key)`` is the function's configured memory."""
        return {key: self._timed(key, handler, memory_mb(key)) for key, handler in handlers.items()}

    def _timed(self, key: str, handler: Callable[[Any, Any], Any], memory: int) -> Callable[[Any, Any], Any]:
        label = key.rsplit(":", 1)[-1] if key.startswith("arn:") else key

        def timed(event: Any, context: Any) -> Any:
            started = time.perf_counter()
            error: str | None = None
            try:
                return handler(event, context)
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                with self._lock:
                    self.lambda_invocations.append(LambdaInvocation(label, elapsed, memory, error))

        return timed

    def wrap_bedrock(self, backend: Any) -> RecordingBedrock:
        return RecordingBedrock(backend, self)

    def record_bedrock(self, use: BedrockUse) -> None:
        with self._lock:
            self.bedrock_uses.append(use)

    def record_fine_tuning(self, use: FineTuningUse) -> None:
        with self._lock:
            self.fine_tuning_uses.append(use)


def _recorded_tokens(recorder: RunRecorder, answer: Any, model_id: str) -> tuple[int | None, int | None]:
    try:
        return recorder.token_usage(answer, model_id)
    except Exception:  # noqa: BLE001  (an unreadable answer still counts as a call; its tokens are unknown)
        return None, None


class RecordingBedrock:
    """A ``BedrockBackend`` that forwards to another and records each answered call with its token usage."""

    def __init__(self, backend: Any, recorder: RunRecorder) -> None:
        self._backend = backend
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        # The stand-in's own helpers (script, fail, calls...) stay reachable.
        return getattr(self._backend, name)

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        answer: dict[str, Any] = self._backend.invoke_model(model_id, body, state_name=state_name, attempt=attempt)
        self._recorder.record_bedrock(
            BedrockUse("invoke_model", model_id, state_name, *_recorded_tokens(self._recorder, answer, model_id))
        )
        return answer

    def converse(self, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        answer: dict[str, Any] = self._backend.converse(request, state_name=state_name, attempt=attempt)
        model_id = str(request.get("ModelId", "?"))
        self._recorder.record_bedrock(
            BedrockUse("converse", model_id, state_name, *_recorded_tokens(self._recorder, answer, model_id))
        )
        return answer

    def control_plane(self, action: str, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        answer: dict[str, Any] = self._backend.control_plane(action, request, state_name=state_name, attempt=attempt)
        self._recorder.record_bedrock(BedrockUse("control_plane", action, state_name, None, None))
        if action == "CreateModelCustomizationJob":
            tokens = _training_tokens(self._recorder.fine_tuning_costs(), request)
            use = FineTuningUse("job", str(answer.get("JobArn", "")), request, tokens)
            self._recorder.record_fine_tuning(use)
        elif action == "CreateProvisionedModelThroughput":
            self._recorder.record_fine_tuning(
                FineTuningUse("throughput", str(answer.get("ProvisionedModelArn", "")), request)
            )
        return answer


def _training_tokens(pricer: Any, request: Mapping[str, Any]) -> int | None:
    """The job's training tokens, counted from its dataset in the emulated S3 by the project's pricer."""
    if pricer is None:
        return None
    import boto3  # noqa: PLC0415  (the emulated S3 of the run)

    try:
        bucket, key = str(request["TrainingDataConfig"]["S3Uri"]).removeprefix("s3://").split("/", 1)
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        return int(
            pricer.training_tokens(
                body.iter_chunks(1 << 20),
                base_model_id=str(request["BaseModelIdentifier"]),
                customization_type=request.get("CustomizationType", "FINE_TUNING"),
                hyperparameters=request.get("HyperParameters") or {},
            )
        )
    except Exception:  # noqa: BLE001  (a dataset that cannot be read offline leaves the training cost unknown)
        return None


# --- counting -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transitions:
    states_entered: int
    retries: int

    @property
    def billed(self) -> int:
        """What Standard bills: every state entered, and every retry as one more transition."""
        return self.states_entered + self.retries


def count_transitions(history: Sequence[Mapping[str, Any]]) -> Transitions:
    types = {int(event.get("id") or 0): str(event.get("type", "")) for event in history}
    entered = sum(1 for kind in types.values() if kind.endswith("StateEntered"))
    retries = sum(
        1
        for event in history
        if event.get("type") == "TaskScheduled"
        and types.get(int(event.get("previousEventId") or 0)) in _FAILED_TASK_EVENTS
    )
    return Transitions(entered, retries)


def _payload_bytes(history: Sequence[Mapping[str, Any]]) -> int:
    largest = 0
    for event in history:
        details = _details(event)
        for key in ("input", "output"):
            value = details.get(key)
            if isinstance(value, str):
                largest = max(largest, len(value.encode()))
    return largest


def _nested_steps(history: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for event in history if event.get("type") in {"MapIterationStarted", "ParallelStateStarted"})


# --- prices -------------------------------------------------------------------------------------------------------


def load_prices(path: str | Path | None = None) -> dict[str, Any]:
    """Read a price table (the bundled one by default).

    Raises
    ------
    PriceTableError
        The file is missing, not JSON, or lacks a section the estimate needs.
    """
    source = Path(path) if path is not None else DEFAULT_PRICES
    try:
        table = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceTableError(f"{source}: cannot read the price table: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise PriceTableError(f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from exc
    for section, keys in {
        "stepfunctions": ("standard_per_1000_transitions", "express_per_million_requests", "express_per_gb_second"),
        "lambda": ("per_gb_second", "per_million_requests"),
    }.items():
        part = table.get(section) if isinstance(table, dict) else None
        if not isinstance(part, dict):
            raise PriceTableError(f"{source}: {section}: missing section")
        for key in keys:
            if not isinstance(part.get(key), int | float):
                raise PriceTableError(f"{source}: {section}.{key}: missing or not a number")
    table.setdefault("_source", str(source))
    return dict(table)


def model_price(prices: Mapping[str, Any], model_id: str) -> Mapping[str, float] | None:
    """The per-1k-token prices of a model id, inference-profile id or ARN; ``None`` when the table has none."""
    table = prices.get("bedrock", {}).get("per_1k_tokens", {})
    candidate = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in _PROFILE_PREFIXES:
        if candidate.startswith(prefix):
            candidate = candidate.removeprefix(prefix)
            break
    found = table.get(model_id) or table.get(candidate)
    return found if isinstance(found, Mapping) else None


# --- the summary --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelUsage:
    model_id: str
    calls: int
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None


@dataclass(frozen=True)
class Summary:
    status: str
    seconds: float
    transitions: Transitions
    lambda_invocations: list[LambdaInvocation]
    models: list[ModelUsage]
    control_plane_calls: int
    lambda_cost: float
    bedrock_cost: float
    standard_cost: float
    express_cost: float
    express_billed_mb: int
    express_billed_ms: int
    prices_as_of: str
    prices_source: str
    unpriced_models: list[str]
    nested_executions: int = 0
    nested_transitions: Transitions = Transitions(0, 0)
    nested_cost: float = 0.0
    map_runs: int = 0
    # The project pricer's estimates (training, storage, throughput lines and a total), one per customization job the
    # run created, and their rendering (lines to print, assumptions included).
    fine_tuning: list[Any] = field(default_factory=list)
    fine_tuning_lines: list[str] = field(default_factory=list)

    @property
    def fine_tuning_cost(self) -> float:
        """Training, storage and throughput of the run's jobs, as far as their prices are known."""
        return sum(
            line.usd or 0.0
            for estimate in self.fine_tuning
            for line in (estimate.training, estimate.storage_per_month, estimate.provisioned_throughput)
            if line is not None
        )

    @property
    def standard_total(self) -> float:
        return self.standard_cost + self.nested_cost + self.lambda_cost + self.bedrock_cost + self.fine_tuning_cost

    @property
    def express_total(self) -> float:
        return self.express_cost + self.nested_cost + self.lambda_cost + self.bedrock_cost + self.fine_tuning_cost


def _add(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return (total or 0) + value


def summarize(
    *,
    status: str,
    seconds: float,
    history: Sequence[Mapping[str, Any]],
    definition_bytes: int,
    recorder: RunRecorder,
    prices: Mapping[str, Any],
    nested_histories: Sequence[Sequence[Mapping[str, Any]]] = (),
) -> Summary:
    """Count what one execution did and estimate what it would cost on AWS as Standard and as Express.

    ``nested_histories`` are the histories of the executions it started (``states:startExecution`` tasks): Standard
    executions of their own, billed by transition whatever the parent's type. Distributed Map child workflows have
    no history here: they are counted as map runs only.
    """
    sfn = prices["stepfunctions"]
    lam = prices["lambda"]
    transitions = count_transitions(history)
    standard = transitions.billed * sfn["standard_per_1000_transitions"] / 1000
    nested = [count_transitions(nested_history) for nested_history in nested_histories]
    nested_transitions = Transitions(sum(n.states_entered for n in nested), sum(n.retries for n in nested))
    nested_cost = nested_transitions.billed * sfn["standard_per_1000_transitions"] / 1000

    # AWS's documented estimate: 50 MB + definition size + execution data size x number of Map/Parallel steps,
    # billed in 64 MB chunks; duration rounded up to 100 ms.
    increment_mb = int(sfn.get("express_memory_increment_mb", 64))
    memory_mb = sfn.get("express_base_memory_mb", 50) + (
        definition_bytes + _payload_bytes(history) * max(1, _nested_steps(history))
    ) / (1024 * 1024)
    billed_mb = max(increment_mb, math.ceil(memory_mb / increment_mb) * increment_mb)
    increment_ms = int(sfn.get("express_duration_increment_ms", 100))
    billed_ms = max(increment_ms, math.ceil(seconds * 1000 / increment_ms) * increment_ms)
    express = (
        sfn["express_per_million_requests"] / 1_000_000
        + (billed_mb / 1024) * (billed_ms / 1000) * sfn["express_per_gb_second"]
    )

    lambda_step_ms = float(lam.get("duration_increment_ms", 1))
    lambda_cost = sum(
        lam["per_million_requests"] / 1_000_000
        + (call.memory_mb / 1024)
        * (math.ceil(call.duration_ms / lambda_step_ms) * lambda_step_ms / 1000)
        * lam["per_gb_second"]
        for call in recorder.lambda_invocations
    )

    models: dict[str, dict[str, Any]] = {}
    control_plane = 0
    for use in recorder.bedrock_uses:
        if use.api == "control_plane":
            control_plane += 1
            continue
        entry = models.setdefault(use.target, {"calls": 0, "input": None, "output": None})
        entry["calls"] += 1
        entry["input"] = _add(entry["input"], use.input_tokens)
        entry["output"] = _add(entry["output"], use.output_tokens)
    usages: list[ModelUsage] = []
    unpriced: list[str] = []
    for model_id, entry in sorted(models.items()):
        price = model_price(prices, model_id)
        cost = None
        if price is not None and (entry["input"] is not None or entry["output"] is not None):
            cost = (entry["input"] or 0) / 1000 * float(price.get("input", 0)) + (entry["output"] or 0) / 1000 * float(
                price.get("output", 0)
            )
        elif price is None:
            unpriced.append(model_id)
        usages.append(ModelUsage(model_id, entry["calls"], entry["input"], entry["output"], cost))
    bedrock_cost = sum(usage.cost or 0.0 for usage in usages)
    pricer = recorder.fine_tuning_costs()
    estimates = _fine_tuning_estimates(pricer, recorder.fine_tuning_uses, prices)
    return Summary(
        status=status,
        seconds=seconds,
        transitions=transitions,
        nested_executions=len(nested),
        nested_transitions=nested_transitions,
        nested_cost=nested_cost,
        map_runs=sum(1 for event in history if event.get("type") == "MapRunStarted"),
        lambda_invocations=list(recorder.lambda_invocations),
        models=usages,
        control_plane_calls=control_plane,
        lambda_cost=lambda_cost,
        bedrock_cost=bedrock_cost,
        standard_cost=standard,
        express_cost=express,
        express_billed_mb=billed_mb,
        express_billed_ms=billed_ms,
        prices_as_of=str(prices.get("as_of", "unknown date")),
        prices_source=str(prices.get("_source", DEFAULT_PRICES)),
        unpriced_models=unpriced,
        fine_tuning=estimates,
        fine_tuning_lines=[line for estimate in estimates for line in pricer.render_estimate(estimate)],
    )


def _fine_tuning_estimates(pricer: Any, uses: Sequence[FineTuningUse], prices: Mapping[str, Any]) -> list[Any]:
    """One estimate per customization job (a repeated create returns the same job), with the run's throughput units.

    Prices: the price table's ``fine_tuning`` section when it has one, else the pricer's own table (for this project,
    the one the deployed fine-tuning summary uses).
    """
    jobs = {use.arn: use for use in uses if use.kind == "job"}
    if not jobs or pricer is None:
        return []
    table = pricer.load_fine_tuning_prices(prices.get("fine_tuning"))
    throughputs = {use.arn: use for use in uses if use.kind == "throughput"}
    units = sum(int(use.request.get("ModelUnits", 1)) for use in throughputs.values()) or None
    return [
        pricer.estimate_fine_tuning_cost(
            table,
            base_model_id=str(job.request.get("BaseModelIdentifier", "?")),
            training_tokens=job.training_tokens or 0,
            hyperparameters=job.request.get("HyperParameters") or {},
            model_units=units,
        )
        for job in jobs.values()
    ]


def _money(value: float) -> str:
    return f"${value:.7f}"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def render_summary(summary: Summary) -> str:
    """The human-readable summary printed after the execution's output."""
    lines = [
        "== Summary",
        f"status             {summary.status} in {summary.seconds:.3f} s (offline wall clock)",
        f"state transitions  {summary.transitions.billed} "
        f"({summary.transitions.states_entered} states entered, {summary.transitions.retries} retries)",
    ]
    if summary.nested_executions:
        lines.append(
            f"  + {summary.nested_transitions.billed} in {summary.nested_executions} nested execution(s) it started "
            "(Standard: billed by transition too)"
        )
    if summary.map_runs:
        lines.append(
            f"  + the child workflows of {summary.map_runs} Distributed Map run(s): billed per their own transitions, "
            "not counted here"
        )
    invocations = summary.lambda_invocations
    lines.append(f"Lambda invocations {len(invocations)}")
    by_function: dict[str, list[LambdaInvocation]] = {}
    for call in invocations:
        by_function.setdefault(call.function, []).append(call)
    for function, calls in sorted(by_function.items()):
        durations = ", ".join(
            f"{call.duration_ms:.1f} ms" + (f" ({call.error})" if call.error else "") for call in calls
        )
        lines.append(f"  {function}  {len(calls)} x {calls[0].memory_mb} MB: {durations}")
    total_calls = sum(usage.calls for usage in summary.models)
    lines.append(f"Bedrock calls      {total_calls} (SIMULATED: answers come from the stand-in, not a model)")
    for usage in summary.models:
        cost = _money(usage.cost) if usage.cost is not None else "no price in the table"
        lines.append(
            f"  {usage.model_id}  {usage.calls} call(s), "
            f"{_count(usage.input_tokens)} input + {_count(usage.output_tokens)} output tokens, {cost}"
        )
    if summary.control_plane_calls:
        lines.append(f"  control plane  {summary.control_plane_calls} call(s), not priced")
    lines += [
        f"Estimated cost on AWS of one execution (prices as of {summary.prices_as_of}, "
        f"from {summary.prices_source}; edit for your region):",
        f"  {'':<16}{'Standard':>14}{'Express':>14}",
        f"  {'Step Functions':<16}{_money(summary.standard_cost):>14}{_money(summary.express_cost):>14}",
        *(
            [f"  {'Nested runs':<16}{_money(summary.nested_cost):>14}{_money(summary.nested_cost):>14}"]
            if summary.nested_executions
            else []
        ),
        f"  {'Lambda':<16}{_money(summary.lambda_cost):>14}{_money(summary.lambda_cost):>14}",
        f"  {'Bedrock':<16}{_money(summary.bedrock_cost):>14}{_money(summary.bedrock_cost):>14}",
        *(
            [f"  {'Fine-tuning':<16}{_money(summary.fine_tuning_cost):>14}{_money(summary.fine_tuning_cost):>14}"]
            if summary.fine_tuning
            else []
        ),
        f"  {'Total':<16}{_money(summary.standard_total):>14}{_money(summary.express_total):>14}",
        f"  Standard: {summary.transitions.billed} transition(s). Express: 1 request, {summary.express_billed_mb} MB x "
        f"{summary.express_billed_ms} ms as measured offline (on AWS the Bedrock and Lambda latencies add to it).",
    ]
    if summary.unpriced_models:
        lines.append(f"  Not priced (add them to the table): {', '.join(summary.unpriced_models)}")
    if summary.fine_tuning:
        lines.append(
            "  Fine-tuning: training + one month of model storage + the throughput's assumed hours"
            + (
                "; a price is unknown, left out of the total (see below)"
                if any(estimate.total is None for estimate in summary.fine_tuning)
                else ""
            )
        )
        lines += [f"  {line}" for line in summary.fine_tuning_lines]
    return "\n".join(lines)
