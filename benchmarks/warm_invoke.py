"""Warm invocations of the real handlers, compared with the marshalling the Lambda runtime does per invocation.

Baseline per invocation: ``json.loads`` of the serialized event plus ``json.dumps`` of the loaded object (the runtime
decodes the event and encodes a response of its own every time). The handler is called in-process with a
``LocalLambdaContext``, Logger and Metrics on (INFO structured logs, one EMF blob per call), its stdout pointed at
``/dev/null`` at the file-descriptor level: the logs and metrics are still formatted and written, just not shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import timeit
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events" / "lambda"
KIB = 1024
# The largest value the step may give (the 256 KiB state limit): the 200 KiB case must measure the inline path.
NO_OFFLOAD_BELOW = 256 * KIB
_FILLER = "Step Functions passes state between tasks as JSON, so every byte of a prompt is carried twice. "
# One timed batch lasts at least this long, so that timer resolution and loop overhead stay negligible.
_MIN_BATCH_SECONDS = 0.02


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def event_bytes(event: Any) -> int:
    """Size of the event as the runtime receives it (compact UTF-8 JSON)."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())


def _grow(event: dict[str, Any], put: Callable[[dict[str, Any], str], None], target: int) -> dict[str, Any]:
    """Put ASCII filler through ``put`` until the event is ``target`` bytes (never shrinks a larger sample)."""
    put(event, "")
    missing = max(0, target - event_bytes(event))
    put(event, (_FILLER * (missing // len(_FILLER) + 1))[:missing])
    return event


def preprocess_event(target: int) -> dict[str, Any]:
    """The sample pre-process event with its research notes grown to ``target`` bytes, kept inline."""
    event = _sample("preprocess_prompt")
    event["offload"] = {**event.get("offload", {}), "max_inline_bytes": NO_OFFLOAD_BELOW}
    notes = event["variables"]["steps"]["research"]["text"]

    def put(evt: dict[str, Any], filler: str) -> None:
        evt["variables"]["steps"]["research"]["text"] = notes + " " + filler if filler else notes

    return _grow(event, put, target)


def postprocess_json_event(target: int) -> dict[str, Any]:
    """The sample post-process event (prose, a fenced JSON answer, a schema), its JSON's points grown to ``target``."""
    event = _sample("postprocess_result")
    points = ["Why chain prompts", "The optimized Bedrock integration", "Staying under 256 KiB", "Validating output"]

    def put(evt: dict[str, Any], filler: str) -> None:
        share = len(filler) // len(points)
        answer = {
            "title": "Prompt chains on Step Functions",
            "points": [
                f"{point}: {filler[i * share : (i + 1) * share]}".rstrip(": ") for i, point in enumerate(points)
            ],
        }
        evt["result"]["text"] = f"Here is the outline as JSON:\n```json\n{json.dumps(answer)}\n```"

    return _grow(event, put, target)


def postprocess_text_event(target: int) -> dict[str, Any]:
    """A plain-text post-process step (no JSON asked for) whose answer is grown to ``target`` bytes."""
    event = _sample("postprocess_result")
    event["output"] = {"format": "text"}

    def put(evt: dict[str, Any], filler: str) -> None:
        evt["result"]["text"] = "Here is the article.\n\n" + filler

    return _grow(event, put, target)


@dataclass(frozen=True)
class Case:
    logical_id: str
    label: str
    build: Callable[[int], dict[str, Any]]
    target: int
    check: Callable[[dict[str, Any]], str | None]
    # A reference point, not one of the project's functions: shown, but not held to the aim.
    reference: bool = False


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
FLOOR = "PowertoolsFloor"


def powertools_floor() -> Handler:
    """A handler that does nothing but pre-process's observability: the same decorators, metrics and log line.

    What any handler built on these Powertools settings costs per invocation, whatever its work.
    """
    from companion.observability import MetricUnit, logger, metrics  # noqa: PLC0415  (after the environment is set)

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        metrics.add_dimension(name="ModelFamily", value="claude")
        metrics.add_metric(name="RequestBodyBytes", unit=MetricUnit.Bytes, value=1024)
        metrics.add_metric(name="RequestsOffloaded", unit=MetricUnit.Count, value=0)
        logger.info("prompt prepared", step="outline", family="claude", body_bytes=1024, offloaded=False)
        return {}

    return lambda_handler


def _stays_inline(output: dict[str, Any]) -> str | None:
    return "the request was offloaded to S3; this case must measure the inline path" if output["offloaded"] else None


def _parsed_json(output: dict[str, Any]) -> str | None:
    return None if output.get("json") is not None else "no JSON was parsed from the answer"


def _text_only(output: dict[str, Any]) -> str | None:
    return None if output.get("text") and output.get("json") is None else "expected a plain-text result"


def _anything(_output: dict[str, Any]) -> str | None:
    return None


CASES = (
    Case(FLOOR, "1 KiB, observability only", preprocess_event, KIB, _anything, reference=True),
    Case("PreprocessPromptFunction", "1 KiB", preprocess_event, KIB, _stays_inline),
    Case("PreprocessPromptFunction", "200 KiB", preprocess_event, 200 * KIB, _stays_inline),
    Case("PostprocessResultFunction", "1 KiB, JSON + schema", postprocess_json_event, KIB, _parsed_json),
    Case("PostprocessResultFunction", "200 KiB, text", postprocess_text_event, 200 * KIB, _text_only),
    Case("PostprocessResultFunction", "200 KiB, JSON + schema", postprocess_json_event, 200 * KIB, _parsed_json),
)


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null (Powertools' Logger holds on to ``sys.stdout`` from its creation)."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(sink)
        os.close(saved)


def _per_call_seconds(call: Callable[[], object], number: int) -> float:
    # Garbage collection stays on (timeit turns it off by default): the runtime runs with it, and the handlers
    # allocate far more objects than the baseline, so collections are part of what they cost.
    return timeit.Timer(call, setup="import gc; gc.enable()").timeit(number) / number


def _calibrate(call: Callable[[], object]) -> int:
    number = 1
    while _per_call_seconds(call, number) * number < _MIN_BATCH_SECONDS:
        number *= 2
    return number


@dataclass
class WarmResult:
    case: Case
    event_bytes: int
    output_bytes: int
    baseline_us: list[float]
    handler_us: list[float]


def measure(
    handlers: dict[str, Handler],
    context_for: Callable[[str], Any],
    rounds: int,
    seed: int,
    progress: Callable[[str], None],
) -> list[WarmResult]:
    """Time every case's baseline and handler in interleaved, shuffled rounds; per-call times in microseconds.

    Must run with S3 emulated and stdout already redirected: the first call of each handler is a warm-up.
    """
    timed: list[tuple[WarmResult, str, Callable[[], object]]] = []
    results = []
    for case in CASES:
        event = case.build(case.target)
        serialized = json.dumps(event)
        handler, context = handlers[case.logical_id], context_for(case.logical_id)
        # The first call is the warm-up (settings, lazily built validators) and checks the case measures what it says.
        output = handler(event, context)
        if problem := case.check(output):
            raise RuntimeError(f"{case.logical_id} {case.label}: {problem}")
        result = WarmResult(case, event_bytes(event), event_bytes(output), [], [])
        results.append(result)

        def baseline(serialized: str = serialized) -> str:
            return json.dumps(json.loads(serialized))

        def invoke(handler: Any = handler, event: Any = event, context: Any = context) -> object:
            return handler(event, context)

        timed += [(result, "baseline", baseline), (result, "handler", invoke)]

    numbers = [_calibrate(call) for _, _, call in timed]
    shuffler = random.Random(seed)  # noqa: S311  (a seeded shuffle, not cryptography)
    for round_number in range(rounds):
        progress(f"warm: round {round_number + 1}/{rounds}")
        order = list(range(len(timed)))
        shuffler.shuffle(order)
        for index in order:
            result, kind, call = timed[index]
            microseconds = _per_call_seconds(call, numbers[index]) * 1e6
            (result.baseline_us if kind == "baseline" else result.handler_us).append(microseconds)
    return results
