"""Chain files (JSON or YAML) read with the position of every key and item, so a problem found in the parsed value
can be reported at ``FILE:LINE:COLUMN``.

Values come from the format's own parser (``json`` for ``.json``, PyYAML's safe loader otherwise); positions come
from PyYAML's node tree, which also reads JSON (tabs, which JSON allows between tokens and YAML does not, are read as
spaces: one character each, so columns stay right). A key given twice in one object is a problem, in both formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

MAX_FILE_BYTES: Final[int] = 1024 * 1024
_SEGMENT: Final[re.Pattern[str]] = re.compile(r"\[(\d+)\]|([^.\[\]]+)")

Key = tuple[str | int, ...]


class UnreadableFileError(Exception):
    """The file cannot be read at all (missing, too large, not UTF-8): bad usage rather than a problem in it."""


@dataclass(frozen=True)
class Problem:
    """One problem, where it is in the file, and which field (a path such as ``steps[0].prompt``)."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.field or '(root)'}: {self.message}"


@dataclass
class SourceFile:
    """A parsed file: its value (None when it could not be parsed), where each key and item starts, and its syntax
    problems (duplicate keys included)."""

    name: str
    value: Any = None
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def at(self, path: str, message: str) -> Problem:
        """A problem at the field ``path`` (dotted, ``[i]`` for items); the nearest enclosing place that exists."""
        key = _key(path)
        while key not in self.positions and key:
            key = key[:-1]
        line, column = self.positions.get(key, (1, 1))
        return Problem(self.name, line, column, path, message)


def read_source(path: Path) -> SourceFile:
    """Parse a JSON (``.json``) or YAML file with positions.

    Raises
    ------
    UnreadableFileError
        The file is missing, unreadable, over :data:`MAX_FILE_BYTES` or not UTF-8.
    """
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"{name}: cannot read the file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableFileError(f"{name}: the file is over {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{name}: the file is not UTF-8 (byte {exc.start})") from exc
    source = SourceFile(name)
    is_json = path.suffix.lower() == ".json"
    try:
        source.value = json.loads(text, parse_constant=_refuse_constant) if is_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        source.problems.append(Problem(name, exc.lineno, exc.colno, "", f"not valid JSON: {exc.msg}"))
        return source
    except ValueError as exc:  # NaN, Infinity
        source.problems.append(Problem(name, 1, 1, "", str(exc)))
        return source
    except yaml.YAMLError as exc:
        source.problems.append(_yaml_problem(name, exc))
        return source
    except RecursionError:
        source.problems.append(Problem(name, 1, 1, "", "the file is nested too deeply"))
        return source
    try:
        node = yaml.compose(text.replace("\t", " ") if is_json else text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return source  # the value is fine; only the places are unknown (every problem is reported at 1:1)
    if node is not None:
        try:
            source.problems += _walk(source, node, (), set())
        except RecursionError:
            source.problems.append(Problem(name, 1, 1, "", "the file is nested too deeply"))
    return source


def _walk(source: SourceFile, node: Any, key: Key, seen_nodes: set[int]) -> Iterator[Problem]:
    if id(node) in seen_nodes:
        # An alias of a collection: walking (or validating) every copy can take exponential time (a "billion laughs"
        # file), and a chain never needs one. The node is the anchored one, so the place is its key's or list's.
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            line, column = source.positions.get(key) or source.positions.get(key[:-1], (1, 1))
            message = "YAML aliases of objects and lists are not allowed in a chain file"
            yield Problem(source.name, line, column, _dotted(key), message)
        return
    seen_nodes.add(id(node))
    mark = node.start_mark
    source.positions.setdefault(key, (mark.line + 1, mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            place = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            child = (*key, name)
            if name in seen:
                yield Problem(
                    source.name, *place, _dotted(child), f"the key {name!r} is given twice (first on line {seen[name]})"
                )
                continue
            seen[name] = place[0]
            source.positions[child] = place
            yield from _walk(source, value_node, child, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(source, item, (*key, index), seen_nodes)


def _yaml_problem(name: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    detail = getattr(exc, "problem", None) or str(exc)
    return Problem(name, line, column, "", f"not valid YAML: {' '.join(str(detail).split())}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _key(path: str) -> Key:
    if path in {"", "(root)"}:
        return ()
    return tuple(int(index) if index else name for index, name in _SEGMENT.findall(path))


def _dotted(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
