"""Progress of Map iterations and nested executions: plain lines where there is no terminal (CI)."""

from __future__ import annotations

import io
from typing import Any

from sfn_offline.console import RunProgress


def _event(event_id: int, previous: int, kind: str, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": event_id, "previousEventId": previous, "type": kind}
    if details:
        event["detailsEventDetails"] = details
    return event


def test_a_map_prints_its_start_and_its_end_with_the_failures() -> None:
    # Given plain progress (no terminal) and a Map of three iterations, one failing
    stream = io.StringIO()
    with RunProgress(stream, live=False) as progress:
        progress.on_event(_event(1, 0, "MapStateEntered", name="Check Each"))
        progress.on_event(_event(2, 1, "MapStateStarted", length=3))
        for index, kind in enumerate(["MapIterationSucceeded", "MapIterationFailed", "MapIterationSucceeded"]):
            progress.on_event(_event(3 + index, 2, kind, name="Check Each", index=index))
    # Then one line when it starts and one when every iteration ended, with the failure count
    assert stream.getvalue().splitlines() == [
        ".. Map Check Each: 0/3 iterations",
        ".. Map Check Each: 3/3 iterations, 1 failed",
    ]


def test_nested_executions_are_counted_as_they_start_and_end() -> None:
    # Given plain progress following a main execution that starts two others, one of which fails
    stream = io.StringIO()
    with RunProgress(stream, live=False) as progress:
        progress.watch("arn:main")
        progress.listener("event", "arn:main", {"type": "ExecutionStarted"})
        for arn in ("arn:a", "arn:b"):
            progress.listener("event", arn, {"type": "ExecutionStarted"})
        progress.listener("event", "arn:b", {"type": "ExecutionFailed"})
        progress.listener("terminated", "arn:a", None)
        progress.listener("terminated", "arn:b", None)
        progress.listener("terminated", "arn:b", None)  # Reported twice: counted once.
    # Then the main execution is not counted, and the last line has both, the failed one named
    lines = stream.getvalue().splitlines()
    assert lines[0] == ".. nested executions: 0/1 done"
    assert lines[-1] == ".. nested executions: 2/2 done, 1 failed"


def test_lines_written_through_the_progress_stream_arrive_whole() -> None:
    # Given the stream other progress lines are written to
    stream = io.StringIO()
    with RunProgress(stream, live=False) as progress:
        progress.stream.write("-> Sta")
        progress.stream.write("te\n<- State\n")
    # Then they arrive as whole lines
    assert stream.getvalue() == "-> State\n<- State\n"
