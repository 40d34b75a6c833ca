"""The execution graph as one self-contained HTML page: inline CSS, JavaScript and SVG, nothing fetched.

The layout is computed here (a layered layout: states in ranks by their longest forward path from StartAt, Parallel
branches side by side and a Map's processor inside its box, loops routed around the right side) and written into the
page as JSON beside the run; ``execution_graph.html`` (the template beside this module) draws it. In the page: the
path taken is coloured by status, a click on a state shows its input, output, error, time and retries, each Map has an
iteration picker, and the executions the run started are one selector away.

Payloads are bounded: a state's input or output longer than :data:`PAYLOAD_CHARS` is cut with a note, and at most
:data:`MAX_ITERATIONS` iterations per Map and :data:`MAX_EXECUTIONS` nested executions are kept (the page says how
many were left out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sfn_offline.graph import Edge, Frame, Graph, Node, Overlay, Scope, StateRun, unobserved

PAYLOAD_CHARS: Final[int] = 4000
MAX_ITERATIONS: Final[int] = 200
MAX_EXECUTIONS: Final[int] = 50
_TEMPLATE: Final[Path] = Path(__file__).with_name("execution_graph.html")
_NODE_HEIGHT: Final[float] = 46.0
_MARKER: Final[tuple[float, float]] = (72.0, 30.0)
_GAP_X: Final[float] = 36.0
_GAP_Y: Final[float] = 52.0
_PAD: Final[float] = 14.0
_HEADER: Final[float] = 30.0
_SCOPE_TITLE: Final[float] = 20.0
_LANE: Final[float] = 14.0


@dataclass
class ExecutionView:
    """One execution to draw: its machine's graph and, when it ran, what it did."""

    title: str
    graph: Graph
    run: Overlay | None = None
    arn: str = ""


# --- layout -------------------------------------------------------------------------------------------------------


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float


@dataclass
class _Laid:
    """A scope laid out at the origin: node boxes, branch frames and edge paths, all relative to its corner."""

    width: float
    height: float
    nodes: dict[str, _Box] = field(default_factory=dict)
    frames: list[tuple[str, _Box]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def shifted(self, dx: float, dy: float) -> _Laid:
        moved = _Laid(self.width, self.height)
        moved.nodes = {key: _Box(box.x + dx, box.y + dy, box.w, box.h) for key, box in self.nodes.items()}
        moved.frames = [(title, _Box(box.x + dx, box.y + dy, box.w, box.h)) for title, box in self.frames]
        moved.edges = [
            {
                **edge,
                "points": [(x + dx, y + dy) for x, y in edge["points"]],
                "label_at": (edge["label_at"][0] + dx, edge["label_at"][1] + dy),
            }
            for edge in self.edges
        ]
        return moved

    def absorb(self, other: _Laid) -> None:
        self.nodes.update(other.nodes)
        self.frames += other.frames
        self.edges += other.edges


def layout(scope: Scope) -> _Laid:
    """Lay a scope out (recursively), top to bottom, its corner at the origin."""
    sizes: dict[str, tuple[float, float]] = {}
    inner: dict[str, list[tuple[str, _Laid]]] = {}
    for node in scope.nodes:
        if node.scopes:
            parts = [(part.title, layout(part)) for part in node.scopes]
            inner[node.id] = parts
            width = sum(laid.width for _, laid in parts) + _GAP_X * (len(parts) - 1) + 2 * _PAD
            height = _HEADER + max(laid.height for _, laid in parts) + _SCOPE_TITLE + _PAD
            # The header holds "<name> (<type>)" on the left and the run's facts on the right.
            sizes[node.id] = (max(width, _text_width(f"{node.name} ({node.type})") + 170), height)
        elif node.type in {"Start", "End"}:
            sizes[node.id] = _MARKER
        else:
            sizes[node.id] = (min(max(_text_width(node.name) + 28, 120.0), 250.0), _NODE_HEIGHT)
    ranks, back = _ranks(scope)
    rows: dict[int, list[str]] = {}
    for node in scope.nodes:
        rows.setdefault(ranks[node.id], []).append(node.id)
    laid = _Laid(0.0, 0.0)
    centers: dict[str, float] = {}
    predecessors: dict[str, list[str]] = {}
    for edge in scope.edges:
        if edge.source != edge.target and (edge.source, edge.target) not in back:
            predecessors.setdefault(edge.target, []).append(edge.source)
    top = 0.0
    for rank in sorted(rows):
        row = rows[rank]
        wanted = {key: _barycenter(predecessors.get(key, []), centers) for key in row}
        row.sort(key=lambda key: wanted[key])
        right = -1e9
        placed: dict[str, float] = {}
        for key in row:
            placed[key] = max(wanted[key] - sizes[key][0] / 2, right + _GAP_X)
            right = placed[key] + sizes[key][0]
        # Pushing boxes apart moves the row right of where its predecessors want it: move it back by the mean.
        drift = sum(wanted[key] - (placed[key] + sizes[key][0] / 2) for key in row) / len(row)
        height = max(sizes[key][1] for key in row)
        for key in row:
            width, node_height = sizes[key]
            laid.nodes[key] = _Box(placed[key] + drift, top + (height - node_height) / 2, width, node_height)
            centers[key] = placed[key] + drift + width / 2
        top += height + _GAP_Y
    left_edge = min(box.x for box in laid.nodes.values())
    for box in laid.nodes.values():
        box.x -= left_edge
    laid.width = max(box.x + box.w for box in laid.nodes.values())
    laid.height = top - _GAP_Y
    for node_id, parts in inner.items():
        box = laid.nodes[node_id]
        used = sum(part.width for _, part in parts) + _GAP_X * (len(parts) - 1)
        x = box.x + (box.w - used) / 2
        for title, part in parts:
            y = box.y + _HEADER
            laid.frames.append((title, _Box(x - 4, y, part.width + 8, part.height + _SCOPE_TITLE)))
            laid.absorb(part.shifted(x, y + _SCOPE_TITLE))
            x += part.width + _GAP_X
    _route(scope, laid, back)
    return laid


def _barycenter(predecessors: list[str], centers: Mapping[str, float]) -> float:
    placed = [centers[key] for key in predecessors if key in centers]
    return sum(placed) / len(placed) if placed else 0.0


def _text_width(text: str) -> float:
    return len(text) * 7.2


def _ranks(scope: Scope) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Longest forward path from StartAt per node, and the back edges (those closing a loop) left out of it."""
    outgoing: dict[str, list[str]] = {}
    for edge in scope.edges:
        if edge.source != edge.target:
            outgoing.setdefault(edge.source, []).append(edge.target)
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done.
    roots = [scope.start] + [node.id for node in scope.nodes if node.id != scope.start]
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, position = stack.pop()
            targets = outgoing.get(node, [])
            if position < len(targets):
                stack.append((node, position + 1))
                target = targets[position]
                if state.get(target) == 1:
                    back.add((node, target))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[node] = 2
                order.append(node)
    ranks = dict.fromkeys(order, 0)
    for node in reversed(order):  # Reverse post-order is a topological order of the forward edges.
        for target in outgoing.get(node, []):
            if (node, target) not in back:
                ranks[target] = max(ranks[target], ranks[node] + 1)
    return ranks, back


def _route(scope: Scope, laid: _Laid, back: set[tuple[str, str]]) -> None:
    lanes = 0
    for edge in scope.edges:
        source, target = laid.nodes[edge.source], laid.nodes[edge.target]
        if edge.source == edge.target:
            x, y = source.x + source.w, source.y
            points = [(x, y + 12), (x + 26, y + 4), (x + 26, y + source.h - 4), (x, y + source.h - 12)]
            label_at = (x + 28, y + source.h / 2)
            shape = "loop"
        elif (edge.source, edge.target) in back or target.y <= source.y:
            lanes += 1
            lane = laid.width + lanes * _LANE
            start = (source.x + source.w, source.y + source.h / 2)
            end = (target.x + target.w, target.y + target.h / 2)
            points = [start, (lane, start[1]), (lane, end[1]), end]
            label_at = (lane + 4, (start[1] + end[1]) / 2)
            shape = "polyline"
        else:
            start = (source.x + source.w / 2, source.y + source.h)
            end = (target.x + target.w / 2, target.y)
            if edge.kind != "catch" and _crosses(laid, start, end, {edge.source, edge.target}):
                # A transition that skips ranks would cut through the boxes between: it goes round on the right.
                # (Catch edges, many to one handler, stay direct: faint and dashed, they would fill the lanes.)
                lanes += 1
                lane = laid.width + lanes * _LANE
                points = [start, (start[0], start[1] + 10), (lane, start[1] + 10), (lane, end[1] - 12)]
                points += [(end[0], end[1] - 12), end]
                label_at = (lane + 4, (start[1] + end[1]) / 2)
                shape = "polyline"
            else:
                middle = (start[1] + end[1]) / 2
                points = [start, (start[0], middle), (end[0], middle), end]
                # Beside the arrow head: the targets of a Choice's rules sit apart, their midpoints would not.
                label_at = (end[0], end[1] - 10)
                shape = "curve"
        laid.edges.append(_edge_document(edge, points, label_at, shape))
    laid.width += lanes * _LANE + (_LANE if lanes else 0)


def _crosses(laid: _Laid, start: tuple[float, float], end: tuple[float, float], ends: set[str]) -> bool:
    """Whether the straight line from ``start`` down to ``end`` passes through a box other than its own ends'."""
    for key, box in laid.nodes.items():
        if key in ends or box.y + box.h <= start[1] or box.y >= end[1]:
            continue
        for y in (box.y, box.y + box.h / 2, box.y + box.h):
            x = start[0] + (end[0] - start[0]) * (y - start[1]) / max(end[1] - start[1], 1.0)
            if box.x - 4 <= x <= box.x + box.w + 4 and start[1] < y < end[1]:
                return True
    return False


def _edge_document(
    edge: Edge, points: list[tuple[float, float]], label_at: tuple[float, float], shape: str
) -> dict[str, Any]:
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind,
        "label": edge.label,
        "shape": shape,
        "points": points,
        "label_at": label_at,
    }


# --- the page -----------------------------------------------------------------------------------------------------


def bounded(text: str | None, limit: int = PAYLOAD_CHARS) -> str | None:
    """A payload cut to ``limit`` characters, with a note saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"\n… (truncated: {len(text) - limit:,} more characters of {len(text):,})"


def _run_document(run: StateRun) -> dict[str, Any]:
    return {
        "status": run.status,
        "visits": run.visits,
        "duration_ms": round(run.duration_ms, 1),
        "attempts": run.attempts,
        "retries": run.retries,
        "caught": run.caught,
        "error": run.error,
        "cause": bounded(run.cause),
        "input": bounded(run.input),
        "output": bounded(run.output),
        "executions": list(run.executions),
    }


def _frame_document(frame: Frame) -> dict[str, Any]:
    iterations: dict[str, Any] = {}
    for map_id, items in frame.iterations.items():
        kept = items[:MAX_ITERATIONS]
        iterations[map_id] = {
            "items": [
                {"index": item.index, "visit": item.visit, "status": item.status, "frame": item.frame} for item in kept
            ],
            "left_out": len(items) - len(kept),
        }
    return {"states": {node: _run_document(run) for node, run in frame.states.items()}, "iterations": iterations}


def _kept_frames(run: Overlay) -> dict[str, Frame]:
    """The frames the iteration pickers can reach (the first MAX_ITERATIONS of each Map's list)."""
    kept: dict[str, Frame] = {}
    pending = [""]
    while pending:
        key = pending.pop()
        frame = run.frames.get(key)
        if frame is None:
            continue
        kept[key] = frame
        for items in frame.iterations.values():
            pending += [item.frame for item in items[:MAX_ITERATIONS]]
    return kept


def _node_document(node: Node, box: _Box, graph: Graph) -> dict[str, Any]:
    return {
        "id": node.id,
        "name": node.name,
        "type": node.type,
        "detail": node.detail,
        "retries": node.retries,
        "compound": bool(node.scopes),
        "distributed": node.distributed,
        "map_path": list(node.map_path),
        "unobserved": unobserved(graph, node),
        "box": [round(box.x, 1), round(box.y, 1), round(box.w, 1), round(box.h, 1)],
    }


def execution_document(view: ExecutionView, number: int) -> dict[str, Any]:
    """What the page needs to draw one execution: laid-out nodes and edges, and its frames when it ran."""
    laid = layout(view.graph.root).shifted(_PAD, _PAD)
    run = view.run
    document: dict[str, Any] = {
        "id": f"e{number}",
        "title": view.title,
        "arn": view.arn,
        "comment": view.graph.comment,
        "width": round(laid.width + 2 * _PAD + 160, 1),
        "height": round(laid.height + 2 * _PAD, 1),
        "nodes": [_node_document(view.graph.nodes[key], box, view.graph) for key, box in laid.nodes.items()],
        "frames": [{"title": title, "box": [box.x, box.y, box.w, box.h]} for title, box in laid.frames],
        "edges": [{**edge, "points": [[round(x, 1), round(y, 1)] for x, y in edge["points"]]} for edge in laid.edges],
        "ran": run is not None,
    }
    if run is not None:
        document.update(
            status=run.status,
            error=run.error,
            cause=bounded(run.cause),
            input=bounded(run.input),
            output=bounded(run.output),
            run_frames={key: _frame_document(frame) for key, frame in _kept_frames(run).items()},
        )
    return document


def render_html(views: Sequence[ExecutionView], title: str, *, left_out: int = 0) -> str:
    """The page for ``views`` (the first is the execution itself, the others those it started)."""
    kept = list(views)[: MAX_EXECUTIONS + 1]
    data = {
        "title": title,
        "executions": [execution_document(view, number) for number, view in enumerate(kept)],
        "left_out_executions": left_out + len(views) - len(kept),
    }
    # "<" escaped, so no payload can close the script element it is embedded in.
    text = json.dumps(data, ensure_ascii=False, default=str).replace("<", "\\u003c")
    page = _TEMPLATE.read_text(encoding="utf-8")
    return page.replace("__TITLE__", _html_text(title)).replace("__RUN_DATA__", text)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
