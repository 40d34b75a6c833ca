"""Prompt chains as data: the definition model, its loader, and the static checks that run before any execution.

A chain is a list of stages: a single step, a ``parallel`` group of steps that run at once, or a ``map`` that runs one
step per item of a list an earlier JSON step produced. Each step is what pre-process and post-process take (prompt
template, model id, inference parameters, output handling, offload settings), plus a re-prompt limit.

Variables a step's templates see (the state machine must build exactly this shape)::

    input                          the execution input (any JSON)
    steps.<name>.text              the answer text of an earlier step (a parallel group's members by their own names)
    steps.<name>.json              its parsed JSON (null unless the step's output format is json)
    steps.<map>.results            a map's results, in item order: a list of {"text": ..., "json": ...}
    steps.<map>.results.<i>.text   ... and .json, as for a single step
    <item_variable>                inside a map's step: the current item
    <item_variable>_index          inside a map's step: its position in the list, from 0

:func:`load_chain` parses and checks a definition; :meth:`Chain.step_order` is the execution plan with every default
applied and every model family resolved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from companion import safejson
from companion.codec import NeutralRequest, Turn, encode, resolve_family
from companion.codec.models import InferenceParameters, ModelFamily
from companion.errors import (
    ChainDefinitionError,
    RequestEncodingError,
    SchemaDefinitionError,
    TemplateSyntaxError,
    UnknownChainError,
    UnknownModelFamilyError,
)
from companion.jsonout import compile_schema
from companion.tasks.postprocess import OutputSpec
from companion.tasks.preprocess import OffloadOptions, PromptTemplate, StepName
from companion.templating import placeholder_paths

MAX_STEPS = 50
"""Steps in a whole chain, counting each parallel member and each map's step once."""
MAX_PARALLEL_STEPS = 10
MAX_PROMPT_CHARS = 50_000
"""Characters of template text (system and every turn) per step, before rendering."""
MAX_SOURCE_BYTES = 1024 * 1024
MAX_REPROMPTS = 5
MAX_MAP_CONCURRENCY = 40

_EMBEDDING_FAMILIES = frozenset({ModelFamily.TITAN_EMBED, ModelFamily.COHERE_EMBED})
_RESULT_FIELDS = ("text", "json")
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
_RESERVED_ROOTS = frozenset({"input", "steps"})
# Tags of the discriminated unions; they appear in Pydantic's error locations and are dropped from ours.
_TAG = "<{}>"


def _no_dots(name: str) -> str:
    # A template path cannot walk through a key containing '.', so such a step could never be referred to.
    if "." in name:
        raise ValueError("a chain step name may not contain '.' (templates could not refer to it)")
    return name


ChainStepName = Annotated[StepName, AfterValidator(_no_dots)]
ChainName = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,64}$")]
ModelId = Annotated[str, Field(min_length=1, max_length=2048)]


def _prompt_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return _TAG.format("text")
    if isinstance(value, Mapping | BaseModel):
        return _TAG.format("turns")
    return None


PromptSource = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag(_TAG.format("text"))]
    | Annotated[PromptTemplate, Tag(_TAG.format("turns"))],
    Discriminator(
        _prompt_kind,
        custom_error_type="prompt_shape",
        custom_error_message="a prompt is a template string or {system, messages: [{role, content}]}",
    ),
]


class StepOutput(OutputSpec):
    """Post-process's output handling, plus how many times a step re-prompts after an invalid JSON answer."""

    max_reprompts: Annotated[int, Field(ge=0, le=MAX_REPROMPTS)] = 0

    @model_validator(mode="after")
    def _json_only_settings(self) -> StepOutput:
        if self.format == "text" and self.max_reprompts:
            raise ValueError("max_reprompts needs format json (a text answer is never invalid)")
        if self.format == "text" and self.json_schema is not None:
            raise ValueError("schema needs format json (a text answer is not validated)")
        return self

    def output_spec(self) -> OutputSpec:
        """The ``output`` field of the post-process input (without ``max_reprompts``, which the loop uses)."""
        return OutputSpec.model_validate(self.model_dump(by_alias=True, exclude={"max_reprompts"}))


class ChainDefaults(BaseModel):
    """Values merged into every step that does not set them (field by field for ``inference`` and ``offload``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: ModelId | None = None
    model_family: ModelFamily | None = None
    inference: InferenceParameters = InferenceParameters()
    offload: OffloadOptions = OffloadOptions()


class StepDefinition(BaseModel):
    """One step as written in the chain file; :class:`ResolvedStep` is the same with defaults applied."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    name: ChainStepName
    model_id: ModelId | None = None
    model_family: ModelFamily | None = Field(
        default=None, description="Needed only for opaque ids: provisioned-model and application-profile ARNs."
    )
    prompt: PromptSource
    inference: InferenceParameters = InferenceParameters()
    extra_body: dict[str, Any] = Field(default_factory=dict)
    output: StepOutput = StepOutput()
    offload: OffloadOptions = OffloadOptions()


def _free_variable(name: str) -> str:
    if name in _RESERVED_ROOTS:
        raise ValueError(f"may not be {name!r}, which templates use for the chain's own variables")
    return name


class ParallelGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ChainStepName
    steps: Annotated[list[StepDefinition], Field(min_length=1, max_length=MAX_PARALLEL_STEPS)]


class MapGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ChainStepName
    items: Annotated[str, Field(min_length=1, max_length=1024)] = Field(
        description="A variable path (template syntax without braces) to a list in an earlier JSON step's answer."
    )
    item_variable: Annotated[str, Field(pattern=_IDENTIFIER, max_length=64), AfterValidator(_free_variable)] = "item"
    max_concurrency: Annotated[int, Field(ge=1, le=MAX_MAP_CONCURRENCY)] = 4
    step: StepDefinition


class ParallelStage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    parallel: ParallelGroup


class MapStage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    map: MapGroup


def _stage_kind(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for kind in ("parallel", "map"):
            if kind in value:
                return _TAG.format(kind)
        return _TAG.format("step")
    if isinstance(value, StepDefinition):
        return _TAG.format("step")
    if isinstance(value, ParallelStage):
        return _TAG.format("parallel")
    if isinstance(value, MapStage):
        return _TAG.format("map")
    return None


StageDefinition = Annotated[
    Annotated[StepDefinition, Tag(_TAG.format("step"))]
    | Annotated[ParallelStage, Tag(_TAG.format("parallel"))]
    | Annotated[MapStage, Tag(_TAG.format("map"))],
    Discriminator(
        _stage_kind,
        custom_error_type="stage_shape",
        custom_error_message="a stage is a step object, {parallel: {name, steps}} or {map: {name, items, step}}",
    ),
]


class ResolvedStep(BaseModel):
    """A step ready to run: defaults applied, family resolved, prompt in its long form.

    ``preprocess_input`` and ``postprocess_output`` give the fields of the two Lambdas' inputs that come from the
    chain; the state machine adds ``execution_name``, ``variables`` and ``result``.
    """

    model_config = ConfigDict(frozen=True, serialize_by_alias=True)

    name: str
    model_id: str
    model_family: ModelFamily
    prompt: PromptTemplate
    inference: InferenceParameters
    extra_body: dict[str, Any]
    output: StepOutput
    offload: OffloadOptions

    def preprocess_input(self) -> dict[str, Any]:
        """Pre-process prompt's input fields for this step (all but ``execution_name`` and ``variables``)."""
        return {
            "step": self.name,
            "model_id": self.model_id,
            "model_family": self.model_family.value,
            "prompt": self.prompt.model_dump(mode="json", exclude_none=True),
            "inference": self.inference.model_dump(mode="json"),
            "extra_body": self.extra_body,
            "offload": self.offload.model_dump(mode="json"),
        }

    def postprocess_output(self) -> dict[str, Any]:
        """Post-process result's ``output`` field for this step."""
        return self.output.output_spec().model_dump(mode="json", by_alias=True)


class SingleStep(BaseModel):
    """A plan stage that runs one step; its result is ``steps.<name> = {text, json}``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["step"] = "step"
    step: ResolvedStep

    @property
    def name(self) -> str:
        return self.step.name


class ParallelSteps(BaseModel):
    """A plan stage whose steps run at once; each member's result is ``steps.<member name> = {text, json}``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["parallel"] = "parallel"
    name: str
    steps: list[ResolvedStep]


class MapSteps(BaseModel):
    """A plan stage that runs ``step`` once per item; the results are ``steps.<name> = {results: [{text, json}]}``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["map"] = "map"
    name: str
    items: str
    item_variable: str
    max_concurrency: int
    step: ResolvedStep

    @property
    def index_variable(self) -> str:
        return f"{self.item_variable}_index"


PlanStage = SingleStep | ParallelSteps | MapSteps


class Chain(BaseModel):
    """A validated chain definition. Build it with :func:`load_chain`, which also runs the static checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ChainName
    description: Annotated[str, Field(max_length=2000)] = ""
    defaults: ChainDefaults = ChainDefaults()
    steps: Annotated[list[StageDefinition], Field(min_length=1)]

    def step_order(self) -> list[PlanStage]:
        """The execution plan: one entry per stage, in order, with defaults applied and families resolved.

        Returns
        -------
        list[PlanStage]
            :class:`SingleStep`, :class:`ParallelSteps` or :class:`MapSteps`; all serialize to JSON with
            ``model_dump(mode="json")``.

        Raises
        ------
        ChainDefinitionError
            A step has no model id or its family cannot be resolved (never for a chain from :func:`load_chain`).
        """
        plan: list[PlanStage] = []
        for stage in self.steps:
            if isinstance(stage, StepDefinition):
                plan.append(SingleStep(step=self._resolve(stage)))
            elif isinstance(stage, ParallelStage):
                group = stage.parallel
                plan.append(ParallelSteps(name=group.name, steps=[self._resolve(step) for step in group.steps]))
            else:
                mapped = stage.map
                plan.append(
                    MapSteps(
                        name=mapped.name,
                        items=mapped.items,
                        item_variable=mapped.item_variable,
                        max_concurrency=mapped.max_concurrency,
                        step=self._resolve(mapped.step),
                    )
                )
        return plan

    def resolved_steps(self) -> list[ResolvedStep]:
        """Every step of the plan, flattened in definition order (parallel members and map steps included)."""
        return [step for _, step in _flatten_plan(self.step_order())]

    def model_ids(self) -> list[str]:
        """Every model id the chain invokes, sorted and without repeats: the resources to grant bedrock:InvokeModel.

        Returns
        -------
        list[str]
            Model ids as the steps pass them to Bedrock (inference-profile ids and ARNs as written).
        """
        return sorted({step.model_id for step in self.resolved_steps()})

    def _resolve(self, step: StepDefinition) -> ResolvedStep:
        model_id, family = _model_of(step, self.defaults)
        if model_id is None:
            raise ChainDefinitionError([f"step {step.name!r}: no model_id, and defaults.model_id is not set"])
        try:
            resolved_family = resolve_family(model_id, family)
        except UnknownModelFamilyError as exc:
            raise ChainDefinitionError([f"step {step.name!r}: {exc}"], chain=self.name) from exc
        prompt = (
            step.prompt
            if isinstance(step.prompt, PromptTemplate)
            else PromptTemplate(messages=[Turn(role="user", content=step.prompt)])
        )
        return ResolvedStep(
            name=step.name,
            model_id=model_id,
            model_family=resolved_family,
            prompt=prompt,
            inference=_merged(InferenceParameters, self.defaults.inference, step.inference),
            extra_body=step.extra_body,
            output=step.output,
            offload=_merged(OffloadOptions, self.defaults.offload, step.offload),
        )


ModelT = TypeVar("ModelT", bound=BaseModel)


def _model_of(step: StepDefinition, defaults: ChainDefaults) -> tuple[str | None, ModelFamily | None]:
    # A step that names its own model does not inherit the default model's family: it belongs to another id.
    if step.model_id is not None:
        return step.model_id, step.model_family
    return defaults.model_id, step.model_family or defaults.model_family


def _merged(model: type[ModelT], default: ModelT, given: ModelT) -> ModelT:
    # Only the fields each side set explicitly take part, so a step's {max_tokens: 600} keeps the default temperature.
    values = {
        **default.model_dump(include=default.model_fields_set),
        **given.model_dump(include=given.model_fields_set),
    }
    return model.model_validate(values)


def _flatten_plan(plan: list[PlanStage]) -> Iterator[tuple[PlanStage, ResolvedStep]]:
    for stage in plan:
        if isinstance(stage, ParallelSteps):
            for step in stage.steps:
                yield stage, step
        else:
            yield stage, stage.step


# ---------------------------------------------------------------------------------------------------------- loading


def execution_input(chain: Chain, chain_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The input of the prompt-chain state machines (``statemachines/prompt_chain.asl.json``) for one run.

    Parameters
    ----------
    chain
        A chain from :func:`load_chain`.
    chain_input
        The chain's ``input`` variable (any JSON object; empty when omitted).

    Returns
    -------
    dict[str, Any]
        ``{"chain": name, "plan": [stage, ...], "input": chain_input}``; each stage is ``{kind, name,
        max_concurrency, steps}`` (``items`` and ``item_variable`` for a map), each step ``{name, step, output,
        max_reprompts}`` where ``step`` is pre-process's input without ``execution_name`` and ``variables`` and
        ``output`` is post-process's ``output`` field.
    """

    def step_run(step: ResolvedStep) -> dict[str, Any]:
        return {
            "name": step.name,
            "step": step.preprocess_input(),
            "output": step.postprocess_output(),
            "max_reprompts": step.output.max_reprompts,
        }

    plan: list[dict[str, Any]] = []
    for stage in chain.step_order():
        if isinstance(stage, SingleStep):
            plan.append({"kind": "step", "name": stage.name, "max_concurrency": 1, "steps": [step_run(stage.step)]})
        elif isinstance(stage, ParallelSteps):
            plan.append(
                {
                    "kind": "parallel",
                    "name": stage.name,
                    "max_concurrency": len(stage.steps),
                    "steps": [step_run(step) for step in stage.steps],
                }
            )
        else:
            plan.append(
                {
                    "kind": "map",
                    "name": stage.name,
                    "items": stage.items.strip(),
                    "item_variable": stage.item_variable,
                    "max_concurrency": stage.max_concurrency,
                    "steps": [step_run(stage.step)],
                }
            )
    return {"chain": chain.name, "plan": plan, "input": dict(chain_input or {})}


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
        raise ChainDefinitionError([f"(root): expected an object, got {_json_type(data)}"])
    name = data.get("name") if isinstance(data.get("name"), str) else None
    try:
        chain = Chain.model_validate(data)
    except ValidationError as exc:
        raise ChainDefinitionError([_pydantic_problem(error) for error in exc.errors()], chain=name) from exc
    except RecursionError as exc:
        raise ChainDefinitionError(["(root): the definition is nested too deeply"], chain=name) from exc
    problems = check_chain(chain)
    if problems:
        raise ChainDefinitionError(problems, chain=chain.name)
    return chain


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
        import yaml  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
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


def _pydantic_problem(error: Any) -> str:
    location = list(error["loc"])
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if error["type"] == "extra_forbidden":
        message = "is not a known field"
    return f"{_location(location)}: {message}"


# ---------------------------------------------------------------------------------------------------- static checks


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
    model_id, family = _model_of(step, chain.defaults)
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
    inference = _merged(InferenceParameters, chain.defaults.inference, step.inference)
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


# Re-exported for the state-machine code and the tests.
CHAIN_LIBRARY = Path(__file__).resolve().parent / "chain_library"
_PACKAGED_NAME = re.compile(r"[a-z0-9-]{1,64}")


@cache
def packaged_chain(name: str) -> Chain:
    """A chain shipped in ``companion/chain_library/`` by name.

    Raises
    ------
    UnknownChainError
        No packaged chain has this name.
    """
    path = CHAIN_LIBRARY / f"{name}.json"
    if not _PACKAGED_NAME.fullmatch(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in CHAIN_LIBRARY.glob("*.json")))
        raise UnknownChainError(f"no chain named {name!r} (packaged chains: {known})")
    return load_chain(path)


def resolve_chain(reference: str | Mapping[str, Any]) -> Chain:
    """What a request names as its chain: a packaged chain's name, or a chain definition given inline.

    Raises
    ------
    UnknownChainError
        No packaged chain has this name.
    ChainDefinitionError
        The inline definition is invalid (every problem with its location).
    """
    return packaged_chain(reference) if isinstance(reference, str) else load_chain(reference)


__all__ = [
    "CHAIN_LIBRARY",
    "MAX_PARALLEL_STEPS",
    "MAX_PROMPT_CHARS",
    "MAX_STEPS",
    "Chain",
    "ChainDefaults",
    "MapGroup",
    "MapStage",
    "MapSteps",
    "ParallelGroup",
    "ParallelStage",
    "ParallelSteps",
    "PlanStage",
    "ResolvedStep",
    "SingleStep",
    "StepDefinition",
    "StepOutput",
    "check_chain",
    "execution_input",
    "load_chain",
    "packaged_chain",
    "resolve_chain",
]
