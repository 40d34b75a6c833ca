"""Cost of drawing a run: reading its history onto the graph and writing the HTML page, by Map size.

Figures, no assertions. Run as ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/execution_graph.py``.

The history is synthetic but shaped as moto records it: an inline Map whose iterations each enter and leave a Task
(scheduled, started, succeeded) with a 1 KB input and output. Each size is drawn three times; the best time is shown.
The page keeps at most ``MAX_ITERATIONS`` iterations per Map, so its size levels off while the reading does not.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFINITION: dict[str, Any] = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}},
            },
            "End": True,
        }
    },
}
PAYLOAD = json.dumps({"text": "x" * 1000})
SIZES = (10, 100, 1_000, 10_000)


_DETAILS = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "MapStateEntered": "stateEnteredEventDetails",
    "MapStateExited": "stateExitedEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "TaskStateEntered": "stateEnteredEventDetails",
    "TaskStateExited": "stateExitedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
}


def history(iterations: int) -> list[dict[str, Any]]:
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []

    def add(kind: str, previous: int, **details: Any) -> int:
        event: dict[str, Any] = {"id": len(events) + 1, "previousEventId": previous, "type": kind}
        event["timestamp"] = clock + timedelta(milliseconds=len(events))
        if details:
            event[_DETAILS[kind]] = details
        events.append(event)
        return len(events)

    start = add("ExecutionStarted", 0, input="{}")
    entered = add("MapStateEntered", start, name="Each", input="{}")
    started = add("MapStateStarted", entered, length=iterations)
    last = started
    for index in range(iterations):
        last = add("MapIterationStarted", started, name="Each", index=index)
        last = add("TaskStateEntered", last, name="Work", input=PAYLOAD)
        last = add("TaskScheduled", last)
        last = add("TaskStarted", last)
        last = add("TaskSucceeded", last, output=PAYLOAD)
        last = add("TaskStateExited", last, name="Work", output=PAYLOAD)
        last = add("MapIterationSucceeded", last, name="Each", index=index)
    last = add("MapStateSucceeded", last)
    last = add("MapStateExited", last, name="Each", output="[]")
    add("ExecutionSucceeded", last, output="[]")
    return events


def main() -> None:
    # The documented command puts only the layer and the functions on the path; the runner lives in tools/.
    sys.path.insert(0, str(ROOT))
    from sfn_offline.graph import build_graph, overlay  # noqa: PLC0415
    from sfn_offline.html_report import MAX_ITERATIONS, ExecutionView, render_html  # noqa: PLC0415

    graph = build_graph(DEFINITION)
    print(f"execution graph of an inline Map, 1 KB payloads (page keeps {MAX_ITERATIONS} iterations per Map)")
    print(f"{'iterations':>10} {'events':>8} {'read ms':>9} {'page ms':>9} {'page KB':>9}")
    for size in SIZES:
        events = history(size)
        best_read = best_page = float("inf")
        page = ""
        for _ in range(3):
            began = time.perf_counter()
            run = overlay(graph, events, "SUCCEEDED")
            read = time.perf_counter()
            page = render_html([ExecutionView("bench", graph, run)], "bench")
            best_read = min(best_read, read - began)
            best_page = min(best_page, time.perf_counter() - read)
        if len(run.frames) != size + 1:
            raise SystemExit(f"{size} iterations read into {len(run.frames) - 1} frames: the figures would be wrong")
        print(
            f"{size:>10,} {len(events):>8,} {best_read * 1000:>9.1f} {best_page * 1000:>9.1f} {len(page) / 1024:>9.0f}"
        )


if __name__ == "__main__":
    main()
