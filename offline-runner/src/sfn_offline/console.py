"""What the runner prints while it runs, and what it keeps quiet.

:func:`quiet_libraries` silences what the libraries under the runner say on their own (moto's engine logs a warning
per definition and a 2 kB internal exception line per failure; Powertools warns about empty metrics) unless ``-v``
asked for detail: the runner's own lines already name every failure with its error and cause.

:class:`RunProgress` draws progress bars (rich) for Map iterations and for the executions a run starts (a batch's
nested executions) on a terminal, and prints a plain progress line now and then otherwise (CI has no terminal). Its
:attr:`RunProgress.stream` is where the other progress lines go, so they print above the bars instead of through
them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Final, cast

# Loggers of the libraries the runner drives; their warnings and errors repeat what the runner reports itself.
_LIBRARY_LOGGERS: Final[tuple[str, ...]] = ("moto", "botocore", "aws_lambda_powertools")
_PLAIN_EVERY_SECONDS: Final[float] = 5.0


@contextlib.contextmanager
def quiet_libraries(*, verbose: bool) -> Iterator[None]:
    """Silence the libraries' own logging and warnings for the duration (nothing changes with ``verbose``)."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    # catch_warnings changes the process-wide filters: the handlers' threads see them too.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"aws_lambda_powertools(\.|$)")
        warnings.filterwarnings("ignore", module=r"moto(\.|$)")
        for logger in loggers:
            logger.setLevel(logging.CRITICAL + 1)
        try:
            yield
        finally:
            # A level set meanwhile is someone else's (a handler's module pinning botocore at import): it stays.
            for logger, level in zip(loggers, levels, strict=True):
                if logger.level == logging.CRITICAL + 1:
                    logger.setLevel(level)


@dataclass
class _Bar:
    label: str
    unit: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    task: Any = None
    printed_at: float = 0.0
    printed_completed: int = -1

    def text(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.label}: {self.completed}/{self.total} {self.unit}{failed}"


class RunProgress:
    """Progress of the Map iterations of an execution and of the executions it starts (thread-safe).

    Parameters
    ----------
    stream
        Where progress goes (stderr).
    live
        Draw rich progress bars (only on a terminal); else plain lines, at most one per bar every few seconds and
        one when it completes.
    """

    def __init__(self, stream: IO[str], *, live: bool) -> None:
        self._stream = stream
        self._live = live
        self._bars: dict[str, _Bar] = {}
        self._lock = threading.RLock()
        self._progress: Any = None
        self._main: str | None = None
        self._ended: set[str] = set()
        self._maps_entered: dict[int, str] = {}
        self.stream = cast(IO[str], _Lines(self))

    @classmethod
    def for_stream(cls, stream: IO[str]) -> RunProgress:
        return cls(stream, live=bool(getattr(stream, "isatty", lambda: False)()))

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
            for bar in self._bars.values():
                if not self._live and bar.printed_completed != bar.completed:
                    self._stream.write(f".. {bar.text()}\n")

    def write_line(self, line: str) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                self._stream.write(line + "\n")
                self._stream.flush()

    # --- the execution's own events (its Map states) ---

    def on_event(self, event: Mapping[str, Any]) -> None:
        """An ``on_event`` callback for the execution's history: Map states and their iterations."""
        kind = str(event.get("type", ""))
        details = next((value for key, value in event.items() if key.endswith("EventDetails")), None) or {}
        if kind == "MapStateEntered":
            self._maps_entered[int(event.get("id") or 0)] = str(details.get("name", "Map"))
        elif kind == "MapStateStarted" and int(details.get("length") or 0) > 0:
            # Iterations of several Map states may interleave: MapStateStarted follows its own MapStateEntered.
            name = self._maps_entered.get(int(event.get("previousEventId") or 0), "Map")
            self._advance(f"map:{name}", f"Map {name}", "iterations", total=int(details["length"]))
        elif kind in {"MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}:
            name = str(details.get("name", "Map"))
            self._advance(f"map:{name}", f"Map {name}", "iterations", done=1, failed=kind != "MapIterationSucceeded")

    # --- every execution of the engine (nested ones) ---

    def watch(self, main_arn: str) -> None:
        """The execution whose own events come through :meth:`on_event`; all others count as nested."""
        self._main = main_arn

    def listener(self, kind: str, arn: str, event: Mapping[str, Any] | None) -> None:
        """A board listener (:meth:`sfn_offline.stack.OfflineStack.listen`): counts the nested executions."""
        if self._main is None or arn == self._main:
            return
        kind_of_event = str((event or {}).get("type", ""))
        if kind == "event" and kind_of_event == "ExecutionStarted":
            self._advance("nested", "nested executions", "done", total=1)
        elif kind == "terminated" and arn not in self._ended:
            self._ended.add(arn)
            self._advance("nested", "nested executions", "done", done=1)
        elif kind_of_event in {"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}:
            self._advance("nested", "nested executions", "done", failed=True)

    def _advance(self, key: str, label: str, unit: str, *, total: int = 0, done: int = 0, failed: bool = False) -> None:
        with self._lock:
            bar = self._bars.get(key)
            if bar is None:
                bar = self._bars[key] = _Bar(label, unit)
            bar.total += total
            bar.completed += done
            bar.failed += int(failed)
            bar.total = max(bar.total, bar.completed)
            if self._live:
                self._draw(bar)
            else:
                self._print(bar)

    def _draw(self, bar: _Bar) -> None:
        if self._progress is None:
            from rich.console import Console  # noqa: PLC0415  (only on a terminal)
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]}"),
                TimeElapsedColumn(),
                console=Console(file=self._stream),
                transient=False,
            )
            self._progress.start()
        failed = f"[{bar.failed} failed]" if bar.failed else ""
        if bar.task is None:
            bar.task = self._progress.add_task(bar.label, total=bar.total, completed=bar.completed, failed=failed)
        else:
            self._progress.update(bar.task, total=bar.total, completed=bar.completed, failed=failed)

    def _print(self, bar: _Bar) -> None:
        now = time.monotonic()
        # A Map's total is known when it starts; the nested executions' total grows as they start.
        complete = bar.unit == "iterations" and bar.completed >= bar.total
        due = now - bar.printed_at >= _PLAIN_EVERY_SECONDS and bar.completed != bar.printed_completed
        if (complete and bar.printed_completed != bar.completed) or due:
            bar.printed_at = now
            bar.printed_completed = bar.completed
            self._stream.write(f".. {bar.text()}\n")
            self._stream.flush()


class _Lines(io.TextIOBase):
    """A text stream for whole lines that prints them above the progress bars."""

    def __init__(self, progress: RunProgress) -> None:
        self._progress = progress
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._progress.write_line(line)
        return len(text)
