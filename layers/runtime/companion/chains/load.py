"""Reading a chain definition: JSON or YAML text, a file, or a mapping, parsed, validated and checked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from companion import safejson
from companion.chains.checks import ChainProblem, located_problems
from companion.chains.model import MAX_SOURCE_BYTES, SCHEMA_KEY, Chain
from companion.errors import ChainDefinitionError


def load_chain(source: str | bytes | Mapping[str, Any] | Path) -> Chain:
    """Parse a chain definition and check it statically.

    Parameters
    ----------
    source
        A mapping (already parsed), a :class:`~pathlib.Path` to a ``.json``/``.yaml``/``.yml`` file, or the
        definition's text (``str`` or UTF-8 ``bytes``): JSON, or YAML when the text is not JSON and PyYAML is
        importable. A ``str`` is always text, never a file name.

    Returns
    -------
    Chain
        The validated chain.

    Raises
    ------
    ChainDefinitionError
        The source cannot be read or parsed, breaks the model (every field error is listed), or fails a static check
        (every problem is listed, each with its location such as ``steps[2].map.step.prompt``). Structural errors
        are reported first: the static checks run once the structure is valid.
    """
    data = _parse_source(source)
    if not isinstance(data, Mapping):
        raise ChainDefinitionError([ChainProblem("", f"expected an object, got {_json_type(data)}")])
    name = data.get("name") if isinstance(data.get("name"), str) else None
    if isinstance(data.get(SCHEMA_KEY), str):
        # Editors read "$schema" to complete and check the file; it is no part of the chain.
        data = {key: value for key, value in data.items() if key != SCHEMA_KEY}
    try:
        chain = Chain.model_validate(data)
    except ValidationError as exc:
        structural = [_pydantic_problem(error) for error in exc.errors()]
        raise ChainDefinitionError(structural + _checks_despite(data, exc.errors()), chain=name) from exc
    except RecursionError as exc:
        raise ChainDefinitionError([ChainProblem("", "the definition is nested too deeply")], chain=name) from exc
    problems = located_problems(chain)
    if problems:
        raise ChainDefinitionError(problems, chain=chain.name)
    return chain


def _checks_despite(data: Mapping[str, Any], errors: list[Any]) -> list[ChainProblem]:
    """The static checks' problems of the definition without its structurally wrong fields, so that one pass reports
    both kinds; nothing when leaving those fields out does not give a valid structure (a required field is wrong, or
    a whole stage is). Problems inside the parent of a wrong field are left out: they may only echo it."""
    try:
        repaired = json.loads(json.dumps(data))
    except (TypeError, ValueError, RecursionError):
        return []
    parents: list[str] = []
    for error in errors:
        parts = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("<"))]
        target: Any = repaired
        for part in parts[:-1]:
            try:
                target = target[part]
            except (KeyError, IndexError, TypeError):
                return []
        if not parts or not isinstance(target, dict) or not isinstance(parts[-1], str):
            return []
        target.pop(parts[-1], None)
        parents.append(_location(parts[:-1]))
    try:
        chain = Chain.model_validate(repaired)
    except (ValidationError, RecursionError):
        return []
    return [problem for problem in located_problems(chain) if not any(_within(problem.path, p) for p in parents)]


def _within(path: str, parent: str) -> bool:
    # steps[1] holds steps[1].prompt and steps[1][0], not steps[10].
    return parent != "(root)" and (path == parent or path.startswith((f"{parent}.", f"{parent}[")))


def _parse_source(source: str | bytes | Mapping[str, Any] | Path) -> Any:
    if isinstance(source, Mapping):
        return source
    yaml_allowed = True
    if isinstance(source, Path):
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise ChainDefinitionError([f"{source}: cannot read the chain file: {exc.strerror or exc}"]) from exc
        yaml_allowed = source.suffix.lower() != ".json"
        source = raw
    if isinstance(source, bytes):
        if len(source) > MAX_SOURCE_BYTES:
            raise ChainDefinitionError([f"(root): the definition is over {MAX_SOURCE_BYTES} bytes"])
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ChainDefinitionError([f"(root): the definition is not UTF-8 (byte {exc.start})"]) from exc
    if not isinstance(source, str):
        raise ChainDefinitionError([f"(root): expected text, bytes, a mapping or a Path, got {type(source).__name__}"])
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise ChainDefinitionError([f"(root): the definition is over {MAX_SOURCE_BYTES} bytes"])
    try:
        return safejson.loads(source)
    except safejson.JsonLimitError as exc:
        raise ChainDefinitionError([f"(root): {exc.msg}"]) from exc
    except json.JSONDecodeError as exc:
        json_problem = f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except ValueError as exc:
        raise ChainDefinitionError([f"(root): {exc}"]) from exc
    except RecursionError as exc:
        raise ChainDefinitionError(["(root): the definition is nested too deeply"]) from exc
    if not yaml_allowed:
        raise ChainDefinitionError([f"(root): {json_problem}"])
    return _parse_yaml(source, json_problem)


def _parse_yaml(text: str, json_problem: str) -> Any:
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        raise ChainDefinitionError(
            [f"(root): {json_problem}, and YAML cannot be read here because PyYAML is not installed"]
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ChainDefinitionError([f"(root): {json_problem}, nor YAML ({_one_line(str(exc))})"]) from exc
    except RecursionError as exc:
        raise ChainDefinitionError(["(root): the definition is nested too deeply"]) from exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _location(parts: tuple[Any, ...] | list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"


def _pydantic_problem(error: Any) -> ChainProblem:
    location = list(error["loc"])
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if error["type"] == "extra_forbidden":
        message = "is not a known field"
    path = _location(location)
    return ChainProblem("" if path == "(root)" else path, message)
