"""Prompt chains as data: the definition model and the execution plan it resolves to.

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

:func:`companion.chains.load_chain` parses and checks a definition; :meth:`Chain.step_order` is the execution plan
with every default applied and every model family resolved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from companion.codec import Turn, resolve_family
from companion.codec.models import InferenceParameters, ModelFamily
from companion.errors import ChainDefinitionError, UnknownModelFamilyError
from companion.steps.postprocess import OutputSpec
from companion.steps.preprocess import OffloadOptions, PromptTemplate, StepName

MAX_STEPS = 50
"""Steps in a whole chain, counting each parallel member and each map's step once."""
MAX_PARALLEL_STEPS = 10
MAX_PROMPT_CHARS = 50_000
"""Characters of template text (system and every turn) per step, before rendering."""
MAX_SOURCE_BYTES = 1024 * 1024
MAX_REPROMPTS = 5
MAX_MAP_CONCURRENCY = 40
# A map that may get more items than this runs as a Distributed Map (see MapGroup.max_items).
INLINE_MAP_ITEMS = 40
MAX_MAP_ITEMS = 10_000
SCHEMA_KEY = "$schema"
"""A top-level key a chain file may carry for editors (the URI of its JSON Schema); :func:`load_chain` drops it."""

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
    max_items: Annotated[int, Field(ge=1, le=MAX_MAP_ITEMS)] | None = Field(
        default=None,
        description=f"The most items the map runs (the list's first ones). Over {INLINE_MAP_ITEMS}, a compiled chain "
        "runs the map as a Distributed Map: each item an Express child workflow (5 minutes at most), the results "
        "written to S3 and returned by reference.",
    )
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
    max_items: int | None = None
    step: ResolvedStep

    @property
    def distributed(self) -> bool:
        """Whether a compiled chain runs this map as a Distributed Map (its results then come back by reference)."""
        return self.max_items is not None and self.max_items > INLINE_MAP_ITEMS

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
                        max_items=mapped.max_items,
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
        model_id, family = step_model(step, self.defaults)
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
            inference=merge_set_fields(InferenceParameters, self.defaults.inference, step.inference),
            extra_body=step.extra_body,
            output=step.output,
            offload=merge_set_fields(OffloadOptions, self.defaults.offload, step.offload),
        )


ModelT = TypeVar("ModelT", bound=BaseModel)


def step_model(step: StepDefinition, defaults: ChainDefaults) -> tuple[str | None, ModelFamily | None]:
    # A step that names its own model does not inherit the default model's family: it belongs to another id.
    if step.model_id is not None:
        return step.model_id, step.model_family
    return defaults.model_id, step.model_family or defaults.model_family


def merge_set_fields(model: type[ModelT], default: ModelT, given: ModelT) -> ModelT:
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


def machine_input(chain_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The execution input of a chain's own compiled machine (``companion.chains.compiler``) for one run.

    Kept beside the model, not in the compiler, so that starting a packaged chain (the chain API's cold start) does
    not import the compiler.
    """
    return {"input": dict(chain_input or {})}


def execution_input(chain: Chain, chain_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The input of the prompt-chain state machines (``statemachines/prompt_chain.asl.yaml``) for one run.

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
