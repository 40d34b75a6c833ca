"""The static checks a structurally valid chain must pass before anything runs: references, models, schemas, sizes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

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
from companion.errors import (
    MissingTemplateVariablesError,
    PromptTooLargeError,
    RequestEncodingError,
    SchemaDefinitionError,
    TemplateSyntaxError,
    UnknownModelFamilyError,
)
from companion.steps.json_answers import compile_schema
from companion.steps.preprocess import PromptTemplate
from companion.steps.templating import placeholder_paths, render

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


class ChainProblem(NamedTuple):
    """One problem of a chain definition: where, as a field path (``steps[2].map.step.prompt``; empty for the whole
    definition), and what is wrong. ``str()`` gives ``<path>: <what>``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


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
    return [str(problem) for problem in located_problems(chain)]


def located_problems(chain: Chain) -> list[ChainProblem]:
    """:func:`check_chain`'s problems with their field paths apart, for tools that point at the place in a file."""
    problems: list[ChainProblem] = []
    earlier: dict[str, _Known] = {}  # names of the steps of stages before the current one
    seen: dict[str, str] = {}  # every name so far -> where, for the uniqueness check
    count = 0

    def claim(name: str, where: str) -> None:
        if name in seen:
            problems.append(ChainProblem(f"{where}.name", f"{name!r} is already the name of {seen[name]}"))
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
        problems.append(ChainProblem("steps", f"the chain has {count} steps; at most {MAX_STEPS} are allowed"))
    return problems


def input_problems(chain: Chain, chain_input: Mapping[str, Any]) -> list[ChainProblem]:
    """The templates' references to ``input.*`` that ``chain_input`` does not hold, each where the template is.

    A run with this input would fail in pre-process (``MissingTemplateVariablesError``) at the first such step; this
    finds every one before anything starts.

    Parameters
    ----------
    chain
        A chain from :func:`load_chain`.
    chain_input
        The chain's ``input`` variable.
    """
    problems: list[ChainProblem] = []
    variables = {"input": dict(chain_input)}
    for where, step in _located_steps(chain):
        for template_where, text in _templates(step, where):
            try:
                render(text, variables, where=template_where)
            except MissingTemplateVariablesError as exc:
                problems += [
                    ChainProblem(template_where, f"refers to {path}, which the chain's input does not have")
                    for path in exc.missing
                    if path.split(".")[0] == "input"
                ]
            except (TemplateSyntaxError, PromptTooLargeError):
                continue  # the static checks report the syntax; the size depends on the earlier answers too
    return problems


def _located_steps(chain: Chain) -> Iterator[tuple[str, StepDefinition]]:
    for index, stage in enumerate(chain.steps):
        where = f"steps[{index}]"
        if isinstance(stage, StepDefinition):
            yield where, stage
        elif isinstance(stage, ParallelStage):
            for member_index, step in enumerate(stage.parallel.steps):
                yield f"{where}.parallel.steps[{member_index}]", step
        else:
            yield f"{where}.map.step", stage.map.step


def _check_step(chain: Chain, step: StepDefinition, where: str, scope: _Scope) -> list[ChainProblem]:
    problems = _check_model(chain, step, where)
    templates = _templates(step, where)
    size = sum(len(text) for _, text in templates)
    if size > MAX_PROMPT_CHARS:
        problems.append(
            ChainProblem(f"{where}.prompt", f"{size} characters of template text; at most {MAX_PROMPT_CHARS} per step")
        )
    for template_where, text in templates:
        try:
            paths = placeholder_paths(text, where=template_where)
        except TemplateSyntaxError as exc:
            problems.append(ChainProblem(template_where, str(exc).removeprefix(f"{template_where}: ")))
            continue
        problems += [
            ChainProblem(template_where, problem) for path in paths if (problem := _check_reference(path, scope))
        ]
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


def _check_model(chain: Chain, step: StepDefinition, where: str) -> list[ChainProblem]:
    model_id, family = step_model(step, chain.defaults)
    if model_id is None:
        return [ChainProblem(f"{where}.model_id", "the step has no model_id and defaults.model_id is not set")]
    try:
        resolved = resolve_family(model_id, family)
    except UnknownModelFamilyError as exc:
        return [ChainProblem(_model_field(step, where), str(exc))]
    if resolved in _EMBEDDING_FAMILIES and step.output.format == "json":
        message = f"json needs a text model; {model_id} is an embedding model ({resolved.value})"
        return [ChainProblem(f"{where}.output.format", message)]
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
        return [ChainProblem(where, f"{model_id} cannot take this request: {exc}")]
    return []


def _model_field(step: StepDefinition, where: str) -> str:
    # Point at what the file says: the step's own model fields, or the defaults it inherits.
    if step.model_family is not None:
        return f"{where}.model_family"
    return f"{where}.model_id" if step.model_id is not None else "defaults.model_id"


def _check_schema(schema: dict[str, Any], where: str) -> list[ChainProblem]:
    try:
        compile_schema(schema)
    except SchemaDefinitionError as exc:
        return [ChainProblem(where, str(exc).removeprefix("output.schema "))]
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


def _check_items(mapped: MapGroup, where: str, earlier: Mapping[str, _Known]) -> list[ChainProblem]:
    problem = _items_problem(mapped, earlier)
    return [] if problem is None else [ChainProblem(f"{where}.items", problem)]


def _items_problem(mapped: MapGroup, earlier: Mapping[str, _Known]) -> str | None:
    try:
        paths = placeholder_paths("{{ " + mapped.items + " }}", where="items")
    except TemplateSyntaxError:
        return f"{mapped.items!r} is not a variable path (e.g. steps.outline.json.sections)"
    if len(paths) != 1 or paths[0] != mapped.items.strip():
        return f"{mapped.items!r} is not a variable path (e.g. steps.outline.json.sections)"
    segments = paths[0].split(".")
    if len(segments) < 3 or segments[0] != "steps" or segments[2] != "json":
        return "must be a path into an earlier JSON step's answer (steps.<name>.json...)"
    known = earlier.get(segments[1])
    if known is None or known.kind != "step":
        if segments[1] == mapped.name or segments[1] == mapped.step.name:
            return f"refers to steps.{segments[1]}, which is this map itself"
        return f"refers to steps.{segments[1]}, which is not an earlier step"
    if not known.json:
        return f"refers to steps.{segments[1]}.json, but {known.where} has output format text"
    return None
