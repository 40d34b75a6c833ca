"""The static checks a structurally valid chain must pass before anything runs: references, models, schemas, sizes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from companion.chains.model import (
    MAX_PROMPT_CHARS,
    MAX_STEPS,
    Chain,
    MapGroup,
    ParallelStage,
    StepDefinition,
    merge_set_fields,
    step_model,
)
from companion.codec import NeutralRequest, Turn, encode, resolve_family
from companion.codec.models import InferenceParameters, ModelFamily
from companion.errors import RequestEncodingError, SchemaDefinitionError, TemplateSyntaxError, UnknownModelFamilyError
from companion.steps.json_answers import compile_schema
from companion.steps.preprocess import PromptTemplate
from companion.steps.templating import placeholder_paths

_EMBEDDING_FAMILIES = frozenset({ModelFamily.TITAN_EMBED, ModelFamily.COHERE_EMBED})
_RESULT_FIELDS = ("text", "json")


@dataclass(frozen=True)
class _Known:
    """What a step name stands for, for the reference checks."""

    where: str
    kind: Literal["step", "parallel", "map", "map-step"]
    json: bool
    group: str | None = None  # the parallel group or map a step belongs to


@dataclass(frozen=True)
class _Scope:
    """What the templates of one step may refer to."""

    earlier: Mapping[str, _Known]
    this: str
    group: str | None = None  # the parallel group or map the step belongs to
    siblings: frozenset[str] = frozenset()  # the other members of its parallel group
    item_variable: str | None = None


def check_chain(chain: Chain) -> list[str]:
    """Run every static check on a structurally valid chain.

    Parameters
    ----------
    chain
        A chain that passed the Pydantic model.

    Returns
    -------
    list[str]
        Every problem found, each as ``<location>: <what is wrong>``; empty when the chain is sound.
    """
    problems: list[str] = []
    earlier: dict[str, _Known] = {}  # names of the steps of stages before the current one
    seen: dict[str, str] = {}  # every name so far -> where, for the uniqueness check
    count = 0

    def claim(name: str, where: str) -> None:
        if name in seen:
            problems.append(f"{where}.name: {name!r} is already the name of {seen[name]}")
        else:
            seen[name] = where

    for index, stage in enumerate(chain.steps):
        where = f"steps[{index}]"
        added: dict[str, _Known] = {}
        if isinstance(stage, StepDefinition):
            claim(stage.name, where)
            count += 1
            problems += _check_step(chain, stage, where, _Scope(earlier, stage.name))
            added[stage.name] = _Known(where, "step", stage.output.format == "json")
        elif isinstance(stage, ParallelStage):
            group = stage.parallel
            claim(group.name, f"{where}.parallel")
            added[group.name] = _Known(f"{where}.parallel", "parallel", json=False)
            members = frozenset(step.name for step in group.steps)
            for member_index, step in enumerate(group.steps):
                member_where = f"{where}.parallel.steps[{member_index}]"
                claim(step.name, member_where)
                count += 1
                scope = _Scope(earlier, step.name, group.name, members - {step.name})
                problems += _check_step(chain, step, member_where, scope)
                added[step.name] = _Known(member_where, "step", step.output.format == "json", group.name)
        else:
            mapped = stage.map
            map_where = f"{where}.map"
            claim(mapped.name, map_where)
            claim(mapped.step.name, f"{map_where}.step")
            count += 1
            problems += _check_items(mapped, map_where, earlier)
            scope = _Scope(earlier, mapped.step.name, mapped.name, item_variable=mapped.item_variable)
            problems += _check_step(chain, mapped.step, f"{map_where}.step", scope)
            added[mapped.name] = _Known(f"{map_where}.step", "map", mapped.step.output.format == "json")
            added[mapped.step.name] = _Known(f"{map_where}.step", "map-step", json=False, group=mapped.name)
        for name, known in added.items():
            earlier.setdefault(name, known)
    if count > MAX_STEPS:
        problems.append(f"steps: the chain has {count} steps; at most {MAX_STEPS} are allowed")
    return problems


def _check_step(chain: Chain, step: StepDefinition, where: str, scope: _Scope) -> list[str]:
    problems = _check_model(chain, step, where)
    templates = _templates(step, where)
    size = sum(len(text) for _, text in templates)
    if size > MAX_PROMPT_CHARS:
        problems.append(f"{where}.prompt: {size} characters of template text; at most {MAX_PROMPT_CHARS} per step")
    for template_where, text in templates:
        try:
            paths = placeholder_paths(text, where=template_where)
        except TemplateSyntaxError as exc:
            problems.append(str(exc))
            continue
        problems += [f"{template_where}: {problem}" for path in paths if (problem := _check_reference(path, scope))]
    if step.output.json_schema is not None:
        problems += _check_schema(step.output.json_schema, f"{where}.output.schema")
    return problems


def _templates(step: StepDefinition, where: str) -> list[tuple[str, str]]:
    if isinstance(step.prompt, str):
        return [(f"{where}.prompt", step.prompt)]
    templates = [(f"{where}.prompt.messages[{i}].content", turn.content) for i, turn in enumerate(step.prompt.messages)]
    if step.prompt.system is not None:
        templates.insert(0, (f"{where}.prompt.system", step.prompt.system))
    return templates


def _check_model(chain: Chain, step: StepDefinition, where: str) -> list[str]:
    model_id, family = step_model(step, chain.defaults)
    if model_id is None:
        return [f"{where}.model_id: the step has no model_id and defaults.model_id is not set"]
    try:
        resolved = resolve_family(model_id, family)
    except UnknownModelFamilyError as exc:
        return [f"{where}.model_id: {exc}"]
    if resolved in _EMBEDDING_FAMILIES and step.output.format == "json":
        return [f"{where}.output.format: json needs a text model; {model_id} is an embedding model ({resolved.value})"]
    # The codec's own rules (role order, parameters a family lacks, extra_body clashes) hold for the template text as
    # they will for the rendered text, so an encoding of the unrendered templates finds them before any execution.
    turns = (
        step.prompt.messages if isinstance(step.prompt, PromptTemplate) else [Turn(role="user", content=step.prompt)]
    )
    system = step.prompt.system if isinstance(step.prompt, PromptTemplate) else None
    inference = merge_set_fields(InferenceParameters, chain.defaults.inference, step.inference)
    try:
        encode(
            NeutralRequest(**inference.model_dump(), system=system, messages=turns, extra_body=step.extra_body),
            model_id,
            resolved,
        )
    except RequestEncodingError as exc:
        return [f"{where}: {model_id} cannot take this request: {exc}"]
    return []


def _check_schema(schema: dict[str, Any], where: str) -> list[str]:
    try:
        compile_schema(schema)
    except SchemaDefinitionError as exc:
        return [f"{where}: {str(exc).removeprefix('output.schema ')}"]
    return []


def _check_reference(path: str, scope: _Scope) -> str | None:
    root, *rest = path.split(".")
    if root == "input":
        return None
    if scope.item_variable is not None and root in {scope.item_variable, f"{scope.item_variable}_index"}:
        return None
    if root != "steps":
        allowed = "input.*, steps.<earlier step>.*"
        if scope.item_variable is not None:
            allowed += f", {scope.item_variable} and {scope.item_variable}_index"
        return f"refers to {root}, which is not a variable (templates may use {allowed})"
    if not rest:
        return None  # {{ steps | json }}: every earlier result, whatever they are
    return _check_step_reference(rest[0], rest[1:], scope)


def _check_step_reference(name: str, rest: list[str], scope: _Scope) -> str | None:
    reference = f"steps.{name}"
    if name == scope.this or (name == scope.group and scope.item_variable is not None):
        return f"refers to {reference}, which is this step itself"
    if name in scope.siblings:
        return f"refers to {reference}, which runs at the same time in parallel group {scope.group!r}, not earlier"
    if name == scope.group:
        return f"refers to {reference}, which is the parallel group this step belongs to"
    known = scope.earlier.get(name)
    if known is None:
        return f"refers to {reference}, which is not an earlier step"
    if known.kind == "parallel":
        return f"refers to {reference}, which is a parallel group: refer to its members by their own names"
    if known.kind == "map-step":
        return f"refers to {reference}, which runs inside map {known.group!r}: use steps.{known.group}.results"
    if known.kind == "map":
        return _check_map_reference(reference, rest, known)
    return _check_result_reference(reference, rest, known)


def _check_result_reference(reference: str, rest: list[str], known: _Known) -> str | None:
    if not rest:
        return None
    field = rest[0]
    if field not in _RESULT_FIELDS:
        return f"refers to {reference}.{field}; a step's result has only .text and .json"
    if field == "json" and not known.json:
        return f"refers to {reference}.json, but {known.where} has output format text (use .text)"
    return None


def _check_map_reference(reference: str, rest: list[str], known: _Known) -> str | None:
    if not rest:
        return None
    if rest[0] != "results":
        return f"refers to {reference}.{rest[0]}; a map's result has only .results (a list of {{text, json}})"
    if len(rest) == 1:
        return None
    if not rest[1].isdigit():
        return f"refers to {reference}.results.{rest[1]}; index the results with a number (results.0.text)"
    return _check_result_reference(f"{reference}.results.{rest[1]}", rest[2:], known)


def _check_items(mapped: MapGroup, where: str, earlier: Mapping[str, _Known]) -> list[str]:
    location = f"{where}.items"
    try:
        paths = placeholder_paths("{{ " + mapped.items + " }}", where=location)
    except TemplateSyntaxError:
        return [f"{location}: {mapped.items!r} is not a variable path (e.g. steps.outline.json.sections)"]
    if len(paths) != 1 or paths[0] != mapped.items.strip():
        return [f"{location}: {mapped.items!r} is not a variable path (e.g. steps.outline.json.sections)"]
    segments = paths[0].split(".")
    if len(segments) < 3 or segments[0] != "steps" or segments[2] != "json":
        return [f"{location}: must be a path into an earlier JSON step's answer (steps.<name>.json...)"]
    known = earlier.get(segments[1])
    if known is None or known.kind != "step":
        if segments[1] == mapped.name or segments[1] == mapped.step.name:
            return [f"{location}: refers to steps.{segments[1]}, which is this map itself"]
        return [f"{location}: refers to steps.{segments[1]}, which is not an earlier step"]
    if not known.json:
        return [f"{location}: refers to steps.{segments[1]}.json, but {known.where} has output format text"]
    return []
