"""Prompt templates as JSONata: the placeholders, lookups and ``| json`` filter of :mod:`companion.steps.templating`.

A template is cut at its placeholders; the literal parts stay in the request handed to the codec and each placeholder
becomes a codec *slot* whose JSONata reads the value where the compiled machine keeps it (``$input``, a step's
variable, a map item in the payload) and renders it as :func:`companion.steps.templating.render` would: a string as it
is, anything else (and anything with ``| json``) as compact JSON, a missing path an error naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from companion.steps.templating import placeholder_paths

# The same grammar as companion.steps.templating; placeholder_paths (called first) has already refused anything else.
_PLACEHOLDER = re.compile(r'\{\{\s*"(?P<literal>\{\{|\}\})"\s*\}\}|\{\{(?P<body>.*?)\}\}', re.DOTALL)
_EXPRESSION = re.compile(r"^\s*(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*(?:\|\s*(?P<filter>json)\s*)?$")

PRELUDE = (
    '$key := function($v, $k) { $type($v) = "object" ? $lookup($v, $k) };\n'
    '$index := function($v, $n, $k) { $type($v) = "array" ? $v[$n] : $key($v, $k) };\n'
    # Wrapped in an object, not an array: an array constructor would flatten an array value into its own items.
    '$json := function($v) { ($s := $string({"v": $v}); $substring($s, 5, $length($s) - 6)) };\n'
    "$render := function($v, $path, $filtered) {\n"
    '  $exists($v) ? ($type($v) = "string" and $not($filtered) ? $v : $json($v))'
    ' : $error("MissingTemplateVariablesError: the template refers to " & $path & ", which is not set")\n'
    "};"
)
"""JSONata functions the slot expressions call; a state's expression declares them once, before its body."""


@dataclass(frozen=True)
class Placeholder:
    path: str
    json: bool


@dataclass
class Slots:
    """Placeholders found while cutting templates, numbered in order (a codec slot each)."""

    placeholders: list[Placeholder] = field(default_factory=list)

    def add(self, placeholder: Placeholder) -> int:
        self.placeholders.append(placeholder)
        return len(self.placeholders) - 1


def cut(template: str, slots: Slots, marker: Callable[[int], str], *, where: str) -> str:
    """``template`` with each placeholder replaced by ``marker(slot number)`` and literal braces written out.

    Raises
    ------
    TemplateSyntaxError
        As :func:`companion.steps.templating.placeholder_paths` (which checks the syntax first).
    """
    placeholder_paths(template, where=where)
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(template[position : match.start()])
        position = match.end()
        if match.group("literal"):
            parts.append(match.group("literal"))
            continue
        parsed = _EXPRESSION.match(match.group("body"))
        if parsed is None:  # pragma: no cover - placeholder_paths refused it already
            raise AssertionError(where)
        parts.append(marker(slots.add(Placeholder(parsed.group("path"), parsed.group("filter") is not None))))
    parts.append(template[position:])
    return "".join(parts)


def lookup(root: str, segments: list[str]) -> str:
    """JSONata walking ``segments`` from ``root`` the way :mod:`companion.steps.templating` looks a path up: mapping
    keys, and list indices for segments that are numbers; undefined where the path does not exist."""
    expression = root
    for segment in segments:
        key = json.dumps(segment)
        expression = (
            f"$index({expression}, {int(segment)}, {key})" if segment.isdigit() else f"$key({expression}, {key})"
        )
    return expression


def render(value: str, placeholder: Placeholder) -> str:
    """JSONata rendering the value ``value`` (an expression) at ``placeholder`` as the template would."""
    return f"$render({value}, {json.dumps(placeholder.path)}, {'true' if placeholder.json else 'false'})"
