"""The execution graph: a state machine's states and transitions, and what one run did in each state.

:func:`build_graph` reads an ASL definition into nodes and edges, scope by scope (the machine, each Parallel branch,
each Map ``ItemProcessor``/``Iterator``): ``Next``, ``Default``, each Choice rule (its condition as the label),
``Catch`` (the errors it catches) and ``Retry`` (a loop on the state), plus Start and End at the top.
:func:`overlay` reads a run's ``get_execution_history`` events into :class:`Frame` s: the top of the execution and one
frame per Map iteration, each holding per state its visits, time, retries, error and payloads. :func:`to_mermaid`
draws either as Mermaid flowchart text; :mod:`sfn_offline.html_report` draws them as a self-contained HTML page.

Events are attributed the way :class:`sfn_offline.report.ProgressPrinter` attributes them: every event names the
one it follows (``previousEventId``), so it inherits that event's frame (the Map iteration it runs in) and open
states, even while iterations run concurrently and their events interleave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

_STATE_TYPES: Final[frozenset[str]] = frozenset(
    {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}
)
_LABEL_CHARS: Final[int] = 48
_COMPARISONS: Final[tuple[tuple[str, str], ...]] = (
    ("StringEquals", "=="),
    ("NumericEquals", "=="),
    ("BooleanEquals", "=="),
    ("TimestampEquals", "=="),
    ("StringLessThanEquals", "<="),
    ("NumericLessThanEquals", "<="),
    ("TimestampLessThanEquals", "<="),
    ("StringGreaterThanEquals", ">="),
    ("NumericGreaterThanEquals", ">="),
    ("TimestampGreaterThanEquals", ">="),
    ("StringLessThan", "<"),
    ("NumericLessThan", "<"),
    ("TimestampLessThan", "<"),
    ("StringGreaterThan", ">"),
    ("NumericGreaterThan", ">"),
    ("TimestampGreaterThan", ">"),
    ("StringMatches", "matches"),
    ("IsPresent", "is present:"),
    ("IsNull", "is null:"),
    ("IsNumeric", "is numeric:"),
    ("IsString", "is string:"),
    ("IsBoolean", "is boolean:"),
    ("IsTimestamp", "is timestamp:"),
)
_FAILURE_EVENTS: Final[frozenset[str]] = frozenset(
    {"TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "LambdaFunctionFailed",
     "LambdaFunctionTimedOut", "MapStateFailed", "ParallelStateFailed", "ExecutionFailed"}
)  # fmt: skip
_RETRIED_EVENTS: Final[frozenset[str]] = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
_ITERATION_END: Final[dict[str, str]] = {
    "MapIterationSucceeded": "succeeded",
    "MapIterationFailed": "failed",
    "MapIterationAborted": "aborted",
}
_EXECUTION_ARN: Final[re.Pattern[str]] = re.compile(r"arn:aws:states:[^\"\s]+:execution:[^\"\s]+")

EdgeKind = Literal["start", "next", "choice", "default", "catch", "retry", "end"]
Status = Literal["succeeded", "failed", "caught", "running", "not-taken"]


class GraphError(ValueError):
    """A definition that cannot be drawn; the message is ``<where>: <place>: <what>``."""


# --- the definition -----------------------------------------------------------------------------------------------


@dataclass
class Node:
    """One state (or the Start/End marker of the machine)."""

    id: str
    name: str
    type: str  # An ASL state type, or "Start" / "End".
    map_path: tuple[str, ...]  # The Map nodes around it, outermost first: which iteration frame it runs in.
    scopes: list[Scope] = field(default_factory=list)  # Parallel branches, or the Map's item processor.
    detail: str = ""  # Resource or a short description shown under the name.
    distributed: bool = False  # A Map whose iterations are child workflows (no history of theirs offline).
    retries: list[str] = field(default_factory=list)  # "<errors> x<max attempts>" per Retry rule.


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Scope:
    """The states of the machine, of a Parallel branch or of a Map's item processor."""

    id: str
    title: str
    start: str  # Node id of StartAt.
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


@dataclass
class Graph:
    root: Scope
    nodes: dict[str, Node]  # Every node of every scope, by id.
    comment: str = ""

    def named(self, name: str, map_path: Sequence[str]) -> Node | None:
        """The state called ``name`` that runs in a frame under ``map_path`` (names may repeat across scopes)."""
        candidates = [node for node in self.nodes.values() if node.name == name and node.type not in {"Start", "End"}]
        for node in candidates:
            if node.map_path == tuple(map_path):
                return node
        return candidates[0] if candidates else None


def build_graph(definition: Mapping[str, Any], where: str = "definition") -> Graph:
    """Read an ASL definition into a :class:`Graph`.

    Raises
    ------
    GraphError
        The definition has no ``States``/``StartAt``, a state of unknown type, or a transition to no state.
    """
    builder = _Builder(where)
    root = builder.scope(definition, "States", "state machine", ())
    # Not "start"/"end": Mermaid reads a node called end as the end of a subgraph.
    start = Node("n_start", "Start", "Start", ())
    end = Node("n_end", "End", "End", ())
    builder.nodes.update({start.id: start, end.id: end})
    root.nodes = [start, *root.nodes, end]
    root.edges.insert(0, Edge(start.id, root.start, "start"))
    root.edges = [Edge(edge.source, end.id, "end") if edge.kind == "end" else edge for edge in root.edges]
    for node in builder.nodes.values():
        for scope in node.scopes:
            # Inside a branch or an iteration, End closes the scope: drawn as no edge.
            scope.edges = [edge for edge in scope.edges if edge.kind != "end"]
    comment = definition.get("Comment")
    return Graph(root, builder.nodes, comment if isinstance(comment, str) else "")


class _Builder:
    def __init__(self, where: str) -> None:
        self.where = where
        self.nodes: dict[str, Node] = {}

    def fail(self, place: str, what: str) -> GraphError:
        return GraphError(f"{self.where}: {place}: {what}")

    def scope(self, document: Any, place: str, title: str, map_path: tuple[str, ...]) -> Scope:
        if not isinstance(document, Mapping):
            raise self.fail(place, "expected an object with StartAt and States")
        states = document.get("States")
        start_at = document.get("StartAt")
        if not isinstance(states, Mapping) or not states:
            raise self.fail(place, "States: missing or empty")
        if start_at not in states:
            raise self.fail(f"{place}.StartAt", f"no state {start_at!r}")
        ids = {name: f"n{len(self.nodes) + position}" for position, name in enumerate(states)}
        scope = Scope(f"s{len(self.nodes)}", title, ids[start_at])
        for name, state in states.items():
            here = f"{place}.{name}"
            if not isinstance(state, Mapping) or state.get("Type") not in _STATE_TYPES:
                raise self.fail(f"{here}.Type", f"not a state type: {_kind(state)}")
            node = Node(ids[name], str(name), str(state["Type"]), map_path, detail=_detail(state))
            self.nodes[node.id] = node
            scope.nodes.append(node)
        for name, state in states.items():
            node = self.nodes[ids[name]]
            here = f"{place}.{name}"
            self._children(node, state, here)
            scope.edges += self._edges(node, state, here, ids)
        return scope

    def _children(self, node: Node, state: Mapping[str, Any], here: str) -> None:
        if node.type == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                raise self.fail(f"{here}.Branches", "a Parallel state needs a list of branches")
            node.scopes = [
                self.scope(branch, f"{here}.Branches[{index}]", f"branch {index + 1}", node.map_path)
                for index, branch in enumerate(branches)
            ]
        elif node.type == "Map":
            key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            processor = state.get(key)
            config = processor.get("ProcessorConfig") if isinstance(processor, Mapping) else None
            node.distributed = isinstance(config, Mapping) and config.get("Mode") == "DISTRIBUTED"
            title = "child workflow (Distributed)" if node.distributed else "each iteration"
            node.scopes = [self.scope(processor, f"{here}.{key}", title, (*node.map_path, node.id))]

    def _edges(self, node: Node, state: Mapping[str, Any], here: str, ids: Mapping[str, str]) -> list[Edge]:
        def target(name: Any, place: str) -> str:
            if name not in ids:
                raise self.fail(place, f"no state {name!r} in this scope")
            return ids[name]

        edges: list[Edge] = []
        if node.type == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                raise self.fail(f"{here}.Choices", "a Choice state needs a list of rules")
            for index, rule in enumerate(choices):
                place = f"{here}.Choices[{index}]"
                if not isinstance(rule, Mapping):
                    raise self.fail(place, "a Choice rule must be an object")
                edges.append(Edge(node.id, target(rule.get("Next"), f"{place}.Next"), "choice", condition(rule)))
            if "Default" in state:
                edges.append(Edge(node.id, target(state["Default"], f"{here}.Default"), "default", "Default"))
        elif "Next" in state:
            edges.append(Edge(node.id, target(state["Next"], f"{here}.Next"), "next"))
        elif state.get("End") is True or node.type in {"Succeed", "Fail"}:
            edges.append(Edge(node.id, node.id, "end"))
        for index, rule in enumerate(state.get("Retry") or []):
            if isinstance(rule, Mapping):
                errors = _errors(rule)
                attempts = rule.get("MaxAttempts", 3)
                node.retries.append(f"{errors} x{attempts}")
                edges.append(Edge(node.id, node.id, "retry", shorten(f"retry {errors} x{attempts}")))
            else:
                raise self.fail(f"{here}.Retry[{index}]", "a Retry rule must be an object")
        for index, rule in enumerate(state.get("Catch") or []):
            place = f"{here}.Catch[{index}]"
            if not isinstance(rule, Mapping):
                raise self.fail(place, "a Catch rule must be an object")
            edges.append(
                Edge(node.id, target(rule.get("Next"), f"{place}.Next"), "catch", shorten(f"catch {_errors(rule)}"))
            )
        return edges


def _kind(state: Any) -> str:
    return repr(state.get("Type")) if isinstance(state, Mapping) else type(state).__name__


def _errors(rule: Mapping[str, Any]) -> str:
    errors = rule.get("ErrorEquals")
    return ", ".join(str(error) for error in errors) if isinstance(errors, list) else "?"


def _detail(state: Mapping[str, Any]) -> str:
    resource = state.get("Resource")
    if isinstance(resource, str):
        # arn:aws:states:::bedrock:invokeModel -> bedrock:invokeModel; a function ARN -> its name.
        return resource.removeprefix("arn:aws:states:::").rsplit(":function:", 1)[-1]
    if state.get("Type") == "Wait":
        for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"):
            if key in state:
                return f"{key} {state[key]}"
    return ""


def condition(rule: Mapping[str, Any]) -> str:
    """A Choice rule's condition as a short label: JSONata's ``Condition`` as written, JSONPath rules spelled out."""
    if isinstance(rule.get("Condition"), str):
        return shorten(str(rule["Condition"]).strip().removeprefix("{%").removesuffix("%}").strip())
    return shorten(_jsonpath_condition(rule))


def _jsonpath_condition(rule: Mapping[str, Any]) -> str:
    for combinator, joiner in (("And", " and "), ("Or", " or ")):
        parts = rule.get(combinator)
        if isinstance(parts, list):
            return "(" + joiner.join(_jsonpath_condition(part) for part in parts if isinstance(part, Mapping)) + ")"
    if isinstance(rule.get("Not"), Mapping):
        return "not " + _jsonpath_condition(rule["Not"])
    variable = str(rule.get("Variable", "?"))
    for key, operator in _COMPARISONS:
        for suffix in ("", "Path"):
            if key + suffix in rule:
                value = rule[key + suffix]
                shown = str(value) if suffix else json.dumps(value)
                return f"{variable} {operator} {shown}"
    return variable


def shorten(text: str, limit: int = _LABEL_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- what a run did -----------------------------------------------------------------------------------------------


@dataclass
class StateRun:
    """What one state did in one frame, over all its visits (a loop enters a state again)."""

    visits: int = 0
    exits: int = 0
    duration_ms: float = 0.0
    attempts: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None
    failed_unretried: bool = False  # The last failure was neither retried nor followed by leaving the state.
    caught: int = 0
    input: str | None = None
    output: str | None = None
    executions: list[str] = field(default_factory=list)  # ARNs of executions this state started.

    @property
    def status(self) -> Status:
        if self.failed_unretried:
            return "failed"
        if self.caught:
            return "caught"
        if self.exits < self.visits:
            return "running"
        return "succeeded"


@dataclass
class Iteration:
    index: int
    status: str = "running"
    frame: str = ""
    visit: int = 1  # Which entry into the Map state ran it.


@dataclass
class Frame:
    """The top of an execution (key ``""``) or one Map iteration (``<parent>/<map node id>.<visit>[<index>]``)."""

    key: str
    states: dict[str, StateRun] = field(default_factory=dict)  # By node id.
    iterations: dict[str, list[Iteration]] = field(default_factory=dict)  # Map node id -> its iterations here.


@dataclass
class Overlay:
    status: str
    frames: dict[str, Frame]
    error: str | None = None
    cause: str | None = None
    input: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class _Open:
    node: str
    frame: str
    map_path: tuple[str, ...]
    entered: datetime | None


@dataclass(frozen=True)
class _Position:
    """Where an event runs: its frame, the Map nodes around that frame, and the states open around it."""

    frame: str = ""
    map_path: tuple[str, ...] = ()
    open_states: tuple[_Open, ...] = ()


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def overlay(graph: Graph, history: Iterable[Mapping[str, Any]], status: str = "RUNNING") -> Overlay:
    """Read a run's history events (one execution's, in id order) onto ``graph``."""
    result = Overlay(status, {"": Frame("")})
    positions: dict[int, _Position] = {}
    kinds: dict[int, str] = {}
    iterations: dict[str, Iteration] = {}  # By frame key.
    for event in history:
        kind = str(event.get("type", ""))
        event_id = int(event.get("id") or 0)
        previous_id = int(event.get("previousEventId") or 0)
        position = positions.get(previous_id, _Position())
        details = _details(event)
        innermost = position.open_states[-1] if position.open_states else None
        run = result.frames[innermost.frame].states.get(innermost.node) if innermost is not None else None
        if kind.endswith("StateEntered"):
            position = _enter(result, graph, position, details, _timestamp(event))
        elif kind.endswith("StateExited"):
            position = _exit(result, graph, position, details, _timestamp(event))
        elif kind in _RETRIED_EVENTS and run is not None:
            run.attempts += 1
            if kinds.get(previous_id) in _FAILURE_EVENTS:
                run.retries += 1
                run.failed_unretried = False
        elif kind in _FAILURE_EVENTS and kind != "ExecutionFailed" and run is not None:
            run.error = str(details.get("error") or kind)
            run.cause = _text(details.get("cause"))
            run.failed_unretried = True
        elif kind == "MapIterationStarted" and innermost is not None and run is not None:
            # A Map entered again (a loop around it) runs its iterations anew: the visit tells them apart.
            index = int(details.get("index") or 0)
            key = f"{innermost.frame}/{innermost.node}.{run.visits}[{index}]"
            iteration = Iteration(index, frame=key, visit=run.visits)
            result.frames[innermost.frame].iterations.setdefault(innermost.node, []).append(iteration)
            result.frames.setdefault(key, Frame(key))
            iterations[key] = iteration
            position = _Position(key, (*innermost.map_path, innermost.node), position.open_states)
        elif kind in _ITERATION_END and position.frame in iterations:
            # The iteration's end follows its last event, so it runs in the iteration's own frame.
            iterations[position.frame].status = _ITERATION_END[kind]
        elif kind in {"TaskSubmitted", "TaskSucceeded"} and run is not None:
            for arn in _EXECUTION_ARN.findall(str(details.get("output", ""))):
                if arn not in run.executions:
                    run.executions.append(arn)
        elif kind == "ExecutionStarted":
            result.input = _text(details.get("input"))
        elif kind == "ExecutionSucceeded":
            result.output = _text(details.get("output"))
        elif kind in {"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}:
            result.error = str(details.get("error") or kind.removeprefix("Execution"))
            result.cause = _text(details.get("cause"))
        positions[event_id] = position
        kinds[event_id] = kind
    return result


def _enter(
    result: Overlay, graph: Graph, position: _Position, details: Mapping[str, Any], at: datetime | None
) -> _Position:
    node = graph.named(str(details.get("name", "")), position.map_path)
    if node is None:
        return position
    run = result.frames.setdefault(position.frame, Frame(position.frame)).states.setdefault(node.id, StateRun())
    run.visits += 1
    run.input = _text(details.get("input"))
    # A Fail state is where the execution fails (its ExecutionFailed follows).
    run.failed_unretried = node.type == "Fail"
    entered = _Open(node.id, position.frame, position.map_path, at)
    return _Position(position.frame, position.map_path, (*position.open_states, entered))


def _exit(
    result: Overlay, graph: Graph, position: _Position, details: Mapping[str, Any], at: datetime | None
) -> _Position:
    name = str(details.get("name", ""))
    opened = [graph.nodes[entry.node].name for entry in position.open_states]
    if name not in opened:
        return position
    index = len(opened) - 1 - opened[::-1].index(name)
    entry = position.open_states[index]
    node = graph.nodes[entry.node]
    run = result.frames[entry.frame].states.setdefault(node.id, StateRun())
    run.exits += 1
    run.output = _text(details.get("output"))
    if run.failed_unretried and node.type != "Fail":
        # Leaving a state after a failure that was not retried: a Catch took it elsewhere.
        run.caught += 1
        run.failed_unretried = False
    if at is not None and entry.entered is not None:
        run.duration_ms += (at - entry.entered).total_seconds() * 1000
    return _Position(entry.frame, entry.map_path, position.open_states[:index])


def _timestamp(event: Mapping[str, Any]) -> datetime | None:
    value = event.get("timestamp")
    return value if isinstance(value, datetime) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def node_status(node: Node, run: StateRun | None, *, observed: bool) -> str:
    """The colour class of a node in a frame: a status, ``not-taken``, or ``unknown`` where nothing was recorded."""
    if node.type in {"Start", "End"}:
        return node.type.lower()
    if run is not None and run.visits:
        return run.status
    return "not-taken" if observed else "unknown"


# --- Mermaid ------------------------------------------------------------------------------------------------------

_MERMAID_CLASSES: Final[dict[str, str]] = {
    "succeeded": "fill:#d5f5d5,stroke:#2e8b2e,color:#113311",
    "failed": "fill:#f9d0d0,stroke:#c0392b,color:#5a1010",
    "caught": "fill:#fde9c4,stroke:#d68910,color:#5a3a05",
    "running": "fill:#d6e9fb,stroke:#2874a6,color:#0b2d4d",
    "notTaken": "fill:#f4f4f4,stroke:#b3b3b3,color:#8c8c8c,stroke-dasharray:4 3",
    "marker": "fill:#333,stroke:#333,color:#fff",
}


def to_mermaid(graph: Graph, run: Overlay | None = None) -> str:
    """Mermaid flowchart text: a node per state, a subgraph per Parallel branch and Map processor; with a run, each
    state coloured by what it did in any frame (a state that failed anywhere is failed) and labelled with its time,
    retries and error."""
    merged = _merged(run) if run is not None else {}
    lines = ["flowchart TD"]
    _mermaid_scope(graph.root, merged, lines, "    ")
    if run is not None:
        lines += [f"    classDef {name} {style}" for name, style in _MERMAID_CLASSES.items()]
        by_class: dict[str, list[str]] = {}
        for node in graph.nodes.values():
            status = node_status(node, merged.get(node.id), observed=not unobserved(graph, node))
            css = {"start": "marker", "end": "marker", "not-taken": "notTaken", "unknown": "notTaken"}.get(
                status, status
            )
            by_class.setdefault(css, []).append(node.id)
        lines += [f"    class {','.join(ids)} {css}" for css, ids in sorted(by_class.items())]
    return "\n".join(lines) + "\n"


def unobserved(graph: Graph, node: Node) -> bool:
    """A state inside a Distributed Map: its child workflows leave no history offline."""
    return any(graph.nodes[map_id].distributed for map_id in node.map_path)


def _merged(run: Overlay) -> dict[str, StateRun]:
    """Every frame's runs of a node folded into one (worst status wins), for a picture without iteration pickers."""
    merged: dict[str, StateRun] = {}
    for frame in run.frames.values():
        for node_id, state in frame.states.items():
            total = merged.setdefault(node_id, StateRun())
            total.visits += state.visits
            total.exits += state.exits
            total.duration_ms += state.duration_ms
            total.retries += state.retries
            total.caught += state.caught
            total.failed_unretried = total.failed_unretried or state.failed_unretried
            total.error = total.error or state.error
    return merged


def _mermaid_scope(scope: Scope, runs: Mapping[str, StateRun], lines: list[str], indent: str) -> None:
    for node in scope.nodes:
        if node.scopes:
            lines.append(f'{indent}subgraph {node.id}["{_mermaid_text(_node_label(node, runs.get(node.id)))}"]')
            lines.append(f"{indent}    direction TB")
            for inner in node.scopes:
                if len(node.scopes) > 1:
                    lines.append(f'{indent}    subgraph {inner.id}["{_mermaid_text(inner.title)}"]')
                    _mermaid_scope(inner, runs, lines, indent + "        ")
                    lines.append(f"{indent}    end")
                else:
                    _mermaid_scope(inner, runs, lines, indent + "    ")
            lines.append(f"{indent}end")
        elif node.type in {"Start", "End"}:
            lines.append(f"{indent}{node.id}(({node.name}))")
        elif node.type == "Choice":
            lines.append(f'{indent}{node.id}{{"{_mermaid_text(_node_label(node, runs.get(node.id)))}"}}')
        else:
            lines.append(f'{indent}{node.id}["{_mermaid_text(_node_label(node, runs.get(node.id)))}"]')
    arrows = {"catch": "-.->", "retry": "-.->", "default": "-->"}
    for edge in scope.edges:
        arrow = arrows.get(edge.kind, "-->")
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"{indent}{edge.source} {arrow}{label} {edge.target}")


def _node_label(node: Node, run: StateRun | None) -> str:
    parts = [node.name]
    if node.distributed:
        parts.append("Distributed Map")
    if run is not None and run.visits:
        facts = [f"{run.duration_ms:.0f} ms"] if run.exits else []
        if run.visits > 1:
            facts.append(f"{run.visits} visits")
        if run.retries:
            facts.append(f"{run.retries} retries")
        parts.append(", ".join(facts))
        if run.error:
            parts.append(shorten(run.error, 40))
    return "<br/>".join(parts)


def _mermaid_text(text: str) -> str:
    # Mermaid reads entity codes inside quoted labels; quotes and angle brackets would end or break the label.
    escaped = text.replace("&", "#amp;").replace('"', "#quot;")
    return escaped.replace("<br/>", "\x00").replace("<", "#lt;").replace(">", "#gt;").replace("\x00", "<br/>")
