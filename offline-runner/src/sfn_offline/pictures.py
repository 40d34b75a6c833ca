"""The pictures the CLI draws: ``run --graph/--html/--report`` after a run, and the ``graph`` command.

The run's own history comes from the engine; the executions it started (``states:startExecution`` tasks, a batch's
per-item executions) are read back from the stack's engine with their machines' definitions, so each can be drawn
and reached from the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_offline.graph import GraphError, build_graph, overlay, to_mermaid
from sfn_offline.html_report import ExecutionView, render_html


@dataclass(frozen=True)
class NestedExecution:
    """An execution the run started, as the engine recorded it."""

    arn: str
    machine_name: str
    status: str
    history: list[Mapping[str, Any]]
    definition: dict[str, Any] | None


def nested_executions(stack: Any, execution_arn: str) -> list[NestedExecution]:
    """Every other execution of the stack (in a fresh stack, the ones this run started), in start order."""
    client = stack.engine.client
    found: list[tuple[Any, NestedExecution]] = []
    # Only the machines the stack created (those the run can reach) can hold executions.
    for logical_id in stack.created:
        machine = stack.template.state_machines[logical_id]
        definition = machine.definition if isinstance(machine.definition, dict) else None
        for item in stack.executions(machine.logical_id):
            if item["executionArn"] == execution_arn:
                continue
            pages = client.get_paginator("get_execution_history").paginate(executionArn=item["executionArn"])
            history: list[Mapping[str, Any]] = [event for page in pages for event in page["events"]]
            nested = NestedExecution(
                item["executionArn"], str(machine.logical_id), str(item["status"]), history, definition
            )
            found.append((item.get("startDate"), nested))
    found.sort(key=lambda pair: (pair[0] is None, pair[0] or 0))
    return [nested for _, nested in found]


def views_of_run(
    title: str,
    definition: Mapping[str, Any],
    result: Any,
    nested: Sequence[NestedExecution] = (),
) -> list[ExecutionView]:
    """The run itself, then every nested execution whose definition is known."""
    graph = build_graph(definition, title)
    views = [
        ExecutionView(
            title, graph, overlay(graph, list(result.history or []), str(result.status)), str(result.execution_arn)
        )
    ]
    machines: dict[str, Any] = {}
    for execution in nested:
        if execution.definition is None:
            continue
        if execution.machine_name not in machines:
            machines[execution.machine_name] = build_graph(execution.definition, execution.machine_name)
        nested_graph = machines[execution.machine_name]
        name = execution.arn.rsplit(":", 1)[-1]
        views.append(
            ExecutionView(
                f"{execution.machine_name} / {name}",
                nested_graph,
                overlay(nested_graph, execution.history, execution.status),
                execution.arn,
            )
        )
    return views


def write_pictures(
    views: Sequence[ExecutionView], *, mermaid: str | None, html: str | None, report_dir: str | None
) -> list[Path]:
    """Write the Mermaid text and/or the HTML page (``--report DIR`` writes both, ``graph.mmd`` and
    ``graph.html``); the paths written."""
    targets: list[tuple[Path, str]] = []
    if report_dir is not None:
        folder = Path(report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        targets += [(folder / "graph.mmd", "mermaid"), (folder / "graph.html", "html")]
    if mermaid is not None:
        targets.append((Path(mermaid), "mermaid"))
    if html is not None:
        targets.append((Path(html), "html"))
    written = []
    for path, kind in targets:
        text = to_mermaid(views[0].graph, views[0].run) if kind == "mermaid" else render_html(views, views[0].title)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def definition_document(definition: Any, where: str) -> dict[str, Any]:
    """A definition as a dict (a JSON text is parsed); anything else is a :class:`GraphError` naming ``where``."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise GraphError(f"{where}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(definition, dict):
        raise GraphError(f"{where}: the definition must be a JSON object")
    return definition
