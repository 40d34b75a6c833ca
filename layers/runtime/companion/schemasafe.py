"""JSON Schemas from chain definitions, checked before they are compiled: bounded size, no recursive ``$ref``, and
every regular expression in a linear-time engine.

A step's schema comes from whoever submits an inline chain, and it is applied to model output, which is untrusted
too: a ``pattern`` such as ``^(a+)+$`` takes Python's backtracking ``re`` exponential time on ``"aaaa...!"``, and
``{"$ref": "#"}`` sends the validator round in a circle. Patterns therefore run on RE2 (google-re2), which
guarantees time linear in the input and refuses what cannot be matched that way (backreferences, lookaround).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import re2

from companion import safejson
from companion.errors import SchemaDefinitionError

MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 32
MAX_SCHEMA_NODES = 5_000
MAX_REFS = 200
MAX_PATTERN_CHARS = 1_000
_RE2_MEMORY_BYTES = 8 * 1024 * 1024

Path = tuple[str, ...]


def checked_patterns(schema: Any) -> dict[str, Any]:
    """Check ``schema`` and compile its regular expressions with RE2.

    Returns
    -------
    dict
        Each ``pattern`` value and ``patternProperties`` key, compiled by RE2 (ECMA-262 ``$`` semantics: end of text).

    Raises
    ------
    SchemaDefinitionError
        Over the size, depth or node limits; a non-finite number; a remote or recursive ``$ref`` or one that
        points nowhere; a pattern RE2 refuses.
    """
    if not isinstance(schema, dict):
        raise SchemaDefinitionError(f"output.schema must be a JSON object, got {type(schema).__name__}")
    problem = safejson.value_problem(schema, max_depth=MAX_SCHEMA_DEPTH)
    if problem is not None:
        raise SchemaDefinitionError(f"output.schema: {problem}")
    size = len(json.dumps(schema, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > MAX_SCHEMA_BYTES:
        raise SchemaDefinitionError(f"output.schema is {size} bytes; at most {MAX_SCHEMA_BYTES}")
    nodes = list(_nodes(schema))
    if len(nodes) > MAX_SCHEMA_NODES:
        raise SchemaDefinitionError(f"output.schema has {len(nodes)} values; at most {MAX_SCHEMA_NODES}")
    _check_refs(schema, nodes)
    return {pattern: _compile(pattern) for pattern in _patterns(nodes)}


def _nodes(schema: Any) -> Iterator[tuple[Path, Any]]:
    pending: list[tuple[Path, Any]] = [((), schema)]
    while pending:
        path, node = pending.pop()
        yield path, node
        if isinstance(node, dict):
            pending.extend(((*path, str(key)), item) for key, item in node.items())
        elif isinstance(node, list):
            pending.extend(((*path, str(index)), item) for index, item in enumerate(node))


def _patterns(nodes: list[tuple[Path, Any]]) -> Iterator[str]:
    for _, node in nodes:
        # Every "pattern" string, even one that is data (inside an enum): refusing too much is safe, missing one is not.
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        properties = node.get("patternProperties")
        if isinstance(properties, dict):
            yield from properties


def _compile(pattern: str) -> Any:
    where = f"output.schema pattern {pattern[:60]!r}"
    if len(pattern) > MAX_PATTERN_CHARS:
        raise SchemaDefinitionError(f"{where}...: {len(pattern)} characters; at most {MAX_PATTERN_CHARS}")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _RE2_MEMORY_BYTES
    try:
        pattern.encode("utf-8")
        return re2.compile(pattern, options)
    except (re2.error, UnicodeEncodeError, TypeError, ValueError) as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise SchemaDefinitionError(
            f"{where}: not usable in a linear-time regular expression engine ({detail}); "
            "backreferences and lookaround are not supported"
        ) from exc


def _check_refs(schema: dict[str, Any], nodes: list[tuple[Path, Any]]) -> None:
    refs: dict[Path, Path] = {}
    for path, node in nodes:
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        identifier = node.get("$id")
        if isinstance(identifier, str) and not identifier.startswith("#"):
            raise SchemaDefinitionError(f"output.schema: $id {identifier[:60]!r} at {_pointer(path)} is not local")
        if ref is None:
            continue
        if not isinstance(ref, str) or not ref.startswith("#"):
            # fastjsonschema would fetch a remote $ref over the network while compiling, inside the Lambda.
            raise SchemaDefinitionError(f"output.schema may only use local $ref ('#/...'), found {str(ref)[:60]!r}")
        refs[path] = _target(schema, ref)
        if len(refs) > MAX_REFS:
            raise SchemaDefinitionError(f"output.schema has more than {MAX_REFS} $ref")
    for start in refs:
        if _reaches_itself(start, refs):
            raise SchemaDefinitionError(
                f"output.schema: the $ref at {_pointer(start)} is recursive (it leads back to itself); "
                "recursive schemas are not supported"
            )


def _target(schema: dict[str, Any], ref: str) -> Path:
    parts = [] if ref in {"#", "#/"} else ref[2:].split("/") if ref.startswith("#/") else None
    if parts is None:
        raise SchemaDefinitionError(f"output.schema: $ref {ref[:60]!r} is not a JSON pointer ('#/...')")
    path = tuple(unquote(part).replace("~1", "/").replace("~0", "~") for part in parts)
    node: Any = schema
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaDefinitionError(f"output.schema: $ref {ref[:60]!r} points nowhere")
    return path


def _reaches_itself(start: Path, refs: dict[Path, Path]) -> bool:
    """Whether validating what ``start`` refers to can come back to ``start``: each ref leads into its target's
    subtree, and from there to every ref inside it."""
    seen: set[Path] = set()
    pending = [refs[start]]
    while pending:
        target = pending.pop()
        if target in seen:
            continue
        seen.add(target)
        for location, next_target in refs.items():
            if location[: len(target)] == target:
                if location == start:
                    return True
                pending.append(next_target)
    return False


def _pointer(path: Path) -> str:
    return "#/" + "/".join(path)


__all__ = ["MAX_SCHEMA_BYTES", "MAX_SCHEMA_DEPTH", "MAX_SCHEMA_NODES", "checked_patterns"]
