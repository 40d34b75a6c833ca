"""Safe prompt templates.

A placeholder is ``{{ path }}`` or ``{{ path | json }}``, where ``path`` walks mapping keys and list indices only
(``steps.outline.text``, ``items.0``). There is no expression language: nothing in a template can call code or read
an object attribute, and substituted values are never rendered again, so a variable that itself contains ``{{ ... }}``
(for example text from an earlier model answer) stays literal. ``{{ "{{" }}`` and ``{{ "}}" }}`` write the braces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from companion.errors import MissingTemplateVariablesError, PromptTooLargeError, TemplateSyntaxError

# The literal alternatives come first so that ``{{ "}}" }}`` is not cut at its first closing braces.
_PLACEHOLDER = re.compile(r'\{\{\s*"(?P<literal>\{\{|\}\})"\s*\}\}|\{\{(?P<body>.*?)\}\}', re.DOTALL)
_EXPRESSION = re.compile(r"^\s*(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*(?:\|\s*(?P<filter>json)\s*)?$")
_MISSING = object()
DEFAULT_MAX_RENDERED_CHARS = 8 * 1024 * 1024


def render(
    template: str,
    variables: Mapping[str, Any],
    *,
    where: str,
    max_chars: int = DEFAULT_MAX_RENDERED_CHARS,
) -> str:
    """Render ``template`` with ``variables``.

    Strings are inserted as they are; other values (numbers, lists, objects, null) as compact JSON, as is any value
    with the ``json`` filter (which also quotes strings).

    Raises
    ------
    TemplateSyntaxError
        A placeholder is not a plain path (``{{ x.__class__ }}`` passes the syntax but finds no such key;
        ``{{ x() }}``, ``{{ x['a'] }}`` and unclosed braces are syntax errors), naming ``where`` and the offset.
    MissingTemplateVariablesError
        One or more paths are not in ``variables``; every missing path is listed.
    PromptTooLargeError
        The output would exceed ``max_chars``.
    """
    return render_all([(where, template)], variables, max_chars=max_chars)[0]


def render_all(
    templates: Sequence[tuple[str, str]],
    variables: Mapping[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_RENDERED_CHARS,
) -> list[str]:
    """Render several ``(where, template)`` pairs, reporting missing names across all of them at once."""
    missing: dict[str, None] = {}
    rendered: list[str] = []
    budget = max_chars
    for where, template in templates:
        parts: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(template):
            parts.append(template[position : match.start()])
            parts.append(_substitute(match, variables, where, missing))
            position = match.end()
        tail = template[position:]
        _refuse_unclosed(tail, position, where)
        parts.append(tail)
        text = "".join(parts)
        budget -= len(text)
        if budget < 0:
            raise PromptTooLargeError(f"{where}: the rendered prompt exceeds {max_chars} characters")
        rendered.append(text)
    if missing:
        raise MissingTemplateVariablesError(list(missing), where=", ".join(where for where, _ in templates))
    return rendered


def _substitute(match: re.Match[str], variables: Mapping[str, Any], where: str, missing: dict[str, None]) -> str:
    if match.group("literal"):
        return match.group("literal")
    parsed = _parse_expression(match, where)
    path = parsed.group("path")
    value = _lookup(variables, path.split("."))
    if value is _MISSING:
        missing[path] = None
        return ""
    if isinstance(value, str) and not parsed.group("filter"):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def placeholder_paths(template: str, *, where: str) -> list[str]:
    """List the variable paths a template refers to, checking its syntax exactly as :func:`render` does.

    Parameters
    ----------
    template
        The template text.
    where
        Where the template comes from, for the error message (e.g. ``steps[0].prompt``).

    Returns
    -------
    list[str]
        Each placeholder's path (``steps.outline.json``, without any ``| json`` filter), in order of appearance,
        repeated paths once. The literal-brace placeholders ``{{ "{{" }}`` and ``{{ "}}" }}`` are not paths.

    Raises
    ------
    TemplateSyntaxError
        A placeholder is not a plain path, or a ``{{`` is never closed; the message names ``where`` and the offset.
    """
    paths: dict[str, None] = {}
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        position = match.end()
        if match.group("literal"):
            continue
        paths[_parse_expression(match, where).group("path")] = None
    _refuse_unclosed(template[position:], position, where)
    return list(paths)


def _parse_expression(match: re.Match[str], where: str) -> re.Match[str]:
    parsed = _EXPRESSION.match(match.group("body"))
    if parsed is None:
        snippet = match.group(0) if len(match.group(0)) <= 60 else match.group(0)[:57] + "..."
        raise TemplateSyntaxError(
            f"{where}: {snippet!r} at offset {match.start()} is not a variable path "
            "(use {{ name }}, {{ name.key.0 }} or {{ name | json }})"
        )
    return parsed


def _refuse_unclosed(tail: str, position: int, where: str) -> None:
    if "{{" in tail:
        raise TemplateSyntaxError(f"{where}: unclosed '{{{{' at offset {position + tail.index('{{')}")


def _lookup(variables: Mapping[str, Any], segments: list[str]) -> Any:
    current: Any = variables
    for segment in segments:
        if isinstance(current, Mapping):
            current = current.get(segment, _MISSING)
        elif isinstance(current, list | tuple) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current
