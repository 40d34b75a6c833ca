"""Mermaid flowcharts of Amazon States Language definitions: one node per state, Map and Parallel as subgraphs.

Edges come from ``Next``, each Choice rule's ``Next``, ``Default`` and each ``Catch``'s ``Next`` (dashed, labelled
with the errors it catches); ``End`` and the Succeed/Fail states lead to the end node. Knows ASL only, nothing of
what the machine does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

_END_TYPES = frozenset({"Succeed", "Fail"})


def mermaid(definition: Mapping[str, Any], *, direction: str = "TD") -> str:
    """The flowchart of ``definition`` as Mermaid text (``flowchart TD`` ...)."""
    drawing = _Drawing()
    lines = [f"flowchart {direction}", '    start(("start"))', '    finish(("end"))']
    lines += drawing.scope(definition, "start", "finish", "    ")
    return "\n".join([*lines, *drawing.edges]) + "\n"


class _Drawing:
    def __init__(self) -> None:
        self._ids = itertools.count()
        self.edges: list[str] = []

    def scope(self, machine: Mapping[str, Any], entry: str, exit_node: str, indent: str) -> list[str]:
        """The nodes of one state list (the machine, a branch, an item processor) with their edges."""
        given = machine.get("States")
        states: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        ids = {name: f"s{next(self._ids)}" for name in states}
        lines: list[str] = []
        start = machine.get("StartAt")
        if start in ids:
            self.edges.append(f"    {entry} --> {ids[start]}")
        for name, state in states.items():
            node = ids[name]
            lines += self.node(node, name, state if isinstance(state, Mapping) else {}, indent)
            for target, label, dashed in _transitions(state if isinstance(state, Mapping) else {}):
                destination = ids.get(target, exit_node) if target is not None else exit_node
                arrow = "-.->" if dashed else "-->"
                text = f"|{_quoted(label)}|" if label else ""
                self.edges.append(f"    {node} {arrow}{text} {destination}")
        return lines

    def node(self, node: str, name: str, state: Mapping[str, Any], indent: str) -> list[str]:
        kind = state.get("Type")
        label = _quoted(f"{name}")
        if kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            inner_exit = f"{node}_done"
            return [
                f'{indent}subgraph {node}["{label} (Map)"]',
                f'{indent}    {node}_items(("each item"))',
                f'{indent}    {inner_exit}(("item done"))',
                *self.scope(processor, f"{node}_items", inner_exit, indent + "    "),
                f"{indent}end",
            ]
        if kind == "Parallel":
            lines = [f'{indent}subgraph {node}["{label} (Parallel)"]']
            for index, branch in enumerate(state.get("Branches") or []):
                branch_id = f"{node}_b{index}"
                lines += [
                    f'{indent}    subgraph {branch_id}["branch {index + 1}"]',
                    f'{indent}        {branch_id}_in(("in"))',
                    f'{indent}        {branch_id}_out(("out"))',
                    *self.scope(branch, f"{branch_id}_in", f"{branch_id}_out", indent + "        "),
                    f"{indent}    end",
                ]
            return [*lines, f"{indent}end"]
        shape = ('{{"', '"}}') if kind == "Choice" else ('(["', '"])') if kind in _END_TYPES else ('["', '"]')
        return [f"{indent}{node}{shape[0]}{label}{shape[1]}"]


def _transitions(state: Mapping[str, Any]) -> Iterator[tuple[str | None, str, bool]]:
    """(target or None for the end, label, dashed) for every way out of a state."""
    if state.get("Type") in _END_TYPES or state.get("End") is True:
        yield None, "", False
    if isinstance(state.get("Next"), str):
        yield state["Next"], "", False
    for rule in state.get("Choices") or []:
        if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
            yield rule["Next"], "", False
    if isinstance(state.get("Default"), str):
        yield state["Default"], "default", False
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
            errors = ", ".join(str(error) for error in catcher.get("ErrorEquals") or [])
            yield catcher["Next"], f"catch {errors}", True


def _quoted(text: str) -> str:
    # Mermaid labels in double quotes take HTML entities; a raw quote or pipe would end the label or the edge text.
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("|", "&#124;")
