"""Evaluating a fine-tuned model against its base model on held-out prompts, through the prompt-chain machinery.

:func:`prepare_evaluation` turns the prompts into two prompt-chain plans (``companion.chains``), one per model, that
the fine-tuning state machine runs as nested prompt-chain executions; :func:`score_evaluation` reads both executions'
answers and scores them.

Metric: token-overlap F1 (as in SQuAD). Answer and reference are normalised (lower case, punctuation and the articles
a/an/the removed, whitespace collapsed) and split into words; precision is the share of answer words found in the
reference, recall the share of reference words found in the answer (counting repeats), F1 their harmonic mean (1 when
both are empty, 0 when only one is). A model's score is its mean F1 over the prompts; exact match (normalised strings
equal) is reported beside it. The custom model is *worse* when its score is below the base model's plus
``min_improvement`` (default 0: any drop).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from companion import safejson
from companion.chains import execution_input, load_chain
from companion.codec import resolve_family
from companion.codec.models import ModelFamily
from companion.errors import ChainDefinitionError, InputValidationError, UnknownModelFamilyError
from companion.executions import ExecutionRecord
from companion.s3uri import S3Location, key_segment, parse_s3_uri
from companion.settings import FineTuningEvaluationSettings
from companion.task_io import json_bytes, validation_problems

MAX_PROMPTS = 20
"""Held-out prompts per evaluation: every answer of a chain travels in its state (256 KiB)."""
MAX_PROMPT_CHARS = 4000
MAX_REFERENCE_CHARS = 4000
MAX_PROMPT_SET_BYTES = 1024 * 1024
PROMPTS_PER_STAGE = 5
"""Prompts a chain sends at once (one parallel stage): gentle on the tokens-per-minute quota and on throughput."""
REPORT_PREFIX = "fine-tuning/reports/"
PROMPT_SET_PREFIX = "fine-tuning/evaluation/"
METRIC = "token_f1"
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_BRACES = re.compile(r"\{\{|\}\}")

ModelRole = Literal["base", "custom"]
EXECUTION_ARN = (
    r"^arn:aws[a-z-]*:states:[a-z]{2}(-[a-z]+)+-\d:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$"
)


class EvaluationPrompt(BaseModel):
    """One held-out prompt and the answer the fine-tuned model should give."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
    reference: Annotated[str, Field(max_length=MAX_REFERENCE_CHARS)]


class EvaluationRequest(BaseModel):
    """The ``evaluation`` field of the fine-tuning input: the prompts inline or in S3, and how to ask."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompts: Annotated[list[EvaluationPrompt], Field(min_length=1, max_length=MAX_PROMPTS)] | None = None
    prompts_s3_uri: str | None = Field(
        default=None,
        description="JSON array or JSONL of {prompt, reference} in the payload bucket under fine-tuning/evaluation/.",
    )
    system: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=2048)] = 256
    temperature: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    min_improvement: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0

    @model_validator(mode="after")
    def _one_source(self) -> EvaluationRequest:
        if (self.prompts is None) == (self.prompts_s3_uri is None):
            raise ValueError("give exactly one of prompts and prompts_s3_uri")
        return self


class PrepareEvaluationInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    execution_name: Annotated[str, Field(min_length=1, max_length=80)]
    base_model_id: Annotated[str, Field(min_length=1, max_length=2048)]
    fine_tuned_from: Annotated[str, Field(min_length=1, max_length=2048)] = Field(
        description="The customization job's base model: names the family of the custom model's opaque ARNs."
    )
    custom_model_id: Annotated[str, Field(min_length=1, max_length=2048)] = Field(
        description="The provisioned-throughput ARN, or the custom model's ARN when no throughput was bought."
    )
    evaluation: EvaluationRequest


class EvaluationRun(BaseModel):
    """One nested prompt-chain execution: a model and the chain input that asks it every prompt."""

    model_config = ConfigDict(frozen=True)

    model: ModelRole
    model_id: str
    input: dict[str, Any]


class PrepareEvaluationOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompts_s3_uri: str
    prompt_count: int
    min_improvement: float
    runs: list[EvaluationRun]


class ChainRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelRole
    model_id: str
    execution_arn: Annotated[str, Field(pattern=EXECUTION_ARN)] = Field(
        description="A Standard execution's ARN, checked before it reaches DescribeExecution."
    )


class ScoreEvaluationInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    execution_name: Annotated[str, Field(min_length=1, max_length=80)]
    prompts_s3_uri: str
    min_improvement: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    chains: Annotated[list[ChainRun], Field(min_length=2, max_length=2)]

    @model_validator(mode="after")
    def _both_models(self) -> ScoreEvaluationInput:
        if {run.model for run in self.chains} != {"base", "custom"}:
            raise ValueError("chains must hold one base and one custom run")
        return self


class ModelScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    model_id: str
    score: float = Field(description="Mean token-overlap F1 over the prompts, 0 to 1.")
    exact_match: float = Field(description="Share of answers equal to their reference after normalisation.")
    execution_arn: str


class ScoreEvaluationOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: str = METRIC
    prompt_count: int
    base: ModelScore
    custom: ModelScore
    improvement: float
    min_improvement: float
    custom_is_worse: bool
    report_s3_uri: str


class ObjectStore(Protocol):
    """Reading and writing JSON objects (adapter: ``companion.adapters.s3.S3ObjectStore``)."""

    def put_json(self, location: S3Location, body: bytes) -> None: ...

    def get_bytes(self, location: S3Location) -> bytes: ...


class ExecutionReader(Protocol):
    """Reading an execution by ARN (adapter: ``companion.adapters.stepfunctions.StepFunctionsExecutions``)."""

    def describe(self, arn: str) -> ExecutionRecord: ...


# ---------------------------------------------------------------------------------------------------------- metric


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces: what the metric compares."""
    lowered = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def token_f1(answer: str, reference: str) -> float:
    """Token-overlap F1 of ``answer`` against ``reference`` (see the module docstring)."""
    answer_tokens = normalize_answer(answer).split()
    reference_tokens = normalize_answer(reference).split()
    if not answer_tokens or not reference_tokens:
        return float(answer_tokens == reference_tokens)
    common = sum((Counter(answer_tokens) & Counter(reference_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(answer_tokens)
    recall = common / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(answer: str, reference: str) -> bool:
    return normalize_answer(answer) == normalize_answer(reference)


# ---------------------------------------------------------------------------------------------------------- prepare


def step_name(index: int) -> str:
    """The chain step that asks prompt ``index``."""
    return f"p{index:03d}"


def literal_template(text: str) -> str:
    """``text`` as a prompt template that renders to exactly ``text`` (its ``{{`` and ``}}`` escaped)."""
    return _BRACES.sub(lambda match: '{{ "' + match.group() + '" }}', text)


def evaluation_chain(
    role: ModelRole, model_id: str, family: ModelFamily, prompts: Sequence[EvaluationPrompt], request: EvaluationRequest
) -> dict[str, Any]:
    """The prompt-chain execution input that asks ``model_id`` every prompt, ``PROMPTS_PER_STAGE`` at a time.

    Raises
    ------
    ChainDefinitionError
        The model cannot take such a request (e.g. an embedding model).
    """
    steps: list[dict[str, Any]] = []
    for index, item in enumerate(prompts):
        prompt: dict[str, Any] = {"messages": [{"role": "user", "content": literal_template(item.prompt)}]}
        if request.system is not None:
            prompt["system"] = literal_template(request.system)
        steps.append({"name": step_name(index), "prompt": prompt})
    stages = [
        {"parallel": {"name": f"batch-{start // PROMPTS_PER_STAGE}", "steps": steps[start : start + PROMPTS_PER_STAGE]}}
        for start in range(0, len(steps), PROMPTS_PER_STAGE)
    ]
    chain = load_chain(
        {
            "name": f"fine-tuning-evaluation-{role}",
            "description": f"Held-out prompts for the {role} model of a fine-tuning run",
            "defaults": {
                "model_id": model_id,
                "model_family": family.value,
                "inference": {"max_tokens": request.max_tokens, "temperature": request.temperature},
            },
            "steps": stages,
        }
    )
    return execution_input(chain)


def read_prompt_set(data: bytes, where: str) -> list[EvaluationPrompt]:
    """Parse a prompt set: a JSON array of ``{prompt, reference}``, or one such object per line (JSONL).

    Raises
    ------
    InputValidationError
        Not JSON, an item that is not ``{prompt, reference}``, or more than ``MAX_PROMPTS`` items; problems carry the
        item number.
    """
    try:
        text = data.decode("utf-8")
        stripped = text.lstrip()
        if stripped.startswith("["):
            items: list[Any] = safejson.loads(stripped)
        else:
            items = [safejson.loads(line) for line in text.splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputValidationError(f"{where}: not a JSON array nor JSONL of {{prompt, reference}}: {exc}") from exc
    if not items or len(items) > MAX_PROMPTS:
        raise InputValidationError(f"{where}: {len(items)} prompts; an evaluation takes 1 to {MAX_PROMPTS}")
    prompts: list[EvaluationPrompt] = []
    for number, item in enumerate(items, start=1):
        try:
            prompts.append(EvaluationPrompt.model_validate(item))
        except ValidationError as exc:
            raise InputValidationError(f"{where}: item {number}: {validation_problems(exc, root='(item)')}") from exc
    return prompts


def report_location(bucket: str, execution_name: str, file_name: str) -> S3Location:
    """``s3://<bucket>/fine-tuning/reports/<execution>/<file_name>``."""
    return S3Location(bucket, f"{REPORT_PREFIX}{key_segment(execution_name)}/{file_name}")


def prepare_evaluation(
    task: PrepareEvaluationInput, settings: FineTuningEvaluationSettings, store: ObjectStore
) -> PrepareEvaluationOutput:
    """Both chain plans, and the prompt set (with references) saved where scoring reads it.

    Raises
    ------
    InputValidationError
        Unreadable prompt set, unknown model family, or a model that cannot answer prompts.
    S3LocationError
        ``prompts_s3_uri`` is outside the payload bucket's ``fine-tuning/`` prefix.
    """
    request = task.evaluation
    if request.prompts is not None:
        prompts = list(request.prompts)
    else:
        source = parse_s3_uri(
            request.prompts_s3_uri, where="evaluation.prompts_s3_uri", bucket=settings.offload_bucket,
            prefix=PROMPT_SET_PREFIX,
        )  # fmt: skip
        prompts = read_prompt_set(store.get_bytes(source), source.uri)
    try:
        base_family = resolve_family(task.base_model_id)
        custom_family = resolve_family(task.fine_tuned_from)
        runs = [
            EvaluationRun(
                model="base",
                model_id=task.base_model_id,
                input=evaluation_chain("base", task.base_model_id, base_family, prompts, request),
            ),
            EvaluationRun(
                model="custom",
                model_id=task.custom_model_id,
                input=evaluation_chain("custom", task.custom_model_id, custom_family, prompts, request),
            ),
        ]
    except (UnknownModelFamilyError, ChainDefinitionError) as exc:
        raise InputValidationError(f"evaluation: {exc}") from exc
    saved = report_location(settings.offload_bucket, task.execution_name, "evaluation-prompts.json")
    store.put_json(saved, json_bytes([item.model_dump() for item in prompts], where="evaluation prompts"))
    return PrepareEvaluationOutput(
        prompts_s3_uri=saved.uri, prompt_count=len(prompts), min_improvement=request.min_improvement, runs=runs
    )


# ---------------------------------------------------------------------------------------------------------- score


def chain_answers(record: ExecutionRecord, count: int) -> list[str]:
    """The answer text of each prompt from a finished evaluation chain (empty where a step has none).

    Raises
    ------
    InputValidationError
        The execution did not succeed or has no output.
    """
    if record.status != "SUCCEEDED" or record.output is None:
        raise InputValidationError(f"evaluation chain {record.arn} ended {record.status}; it has no answers")
    try:
        output = safejson.loads(record.output)
    except json.JSONDecodeError as exc:
        raise InputValidationError(f"evaluation chain {record.arn}: its output is not usable JSON ({exc.msg})") from exc
    steps = output.get("steps") if isinstance(output, dict) else None
    if not isinstance(steps, Mapping):
        steps = {}
    answers: list[str] = []
    for index in range(count):
        step = steps.get(step_name(index))
        text = step.get("text") if isinstance(step, Mapping) else None
        answers.append(text if isinstance(text, str) else "")
    return answers


def score_evaluation(
    task: ScoreEvaluationInput, settings: FineTuningEvaluationSettings, store: ObjectStore, executions: ExecutionReader
) -> ScoreEvaluationOutput:
    """Score both models' answers, write ``evaluation.json`` next to the dataset report, and give the verdict.

    Raises
    ------
    InputValidationError
        An evaluation chain did not succeed, or the saved prompt set is unreadable.
    """
    source = parse_s3_uri(
        task.prompts_s3_uri, where="prompts_s3_uri", bucket=settings.offload_bucket, prefix=REPORT_PREFIX
    )
    prompts = read_prompt_set(store.get_bytes(source), source.uri)
    by_role = {run.model: run for run in task.chains}
    answers = {
        role: chain_answers(executions.describe(run.execution_arn), len(prompts)) for role, run in by_role.items()
    }
    rows: list[dict[str, Any]] = []
    scores: dict[str, list[float]] = {"base": [], "custom": []}
    matches: dict[str, list[bool]] = {"base": [], "custom": []}
    for index, item in enumerate(prompts):
        row: dict[str, Any] = {"index": index, "prompt": item.prompt, "reference": item.reference}
        for role in ("base", "custom"):
            answer = answers[role][index]
            f1 = token_f1(answer, item.reference)
            same = exact_match(answer, item.reference)
            scores[role].append(f1)
            matches[role].append(same)
            row[role] = {"answer": answer, "f1": round(f1, 4), "exact_match": same}
        rows.append(row)
    summary = {
        role: ModelScore(
            model_id=by_role[role].model_id,
            score=round(sum(scores[role]) / len(prompts), 4),
            exact_match=round(sum(matches[role]) / len(prompts), 4),
            execution_arn=by_role[role].execution_arn,
        )
        for role in ("base", "custom")
    }
    improvement = round(summary["custom"].score - summary["base"].score, 4)
    report = report_location(settings.offload_bucket, task.execution_name, "evaluation.json")
    output = ScoreEvaluationOutput(
        prompt_count=len(prompts),
        base=summary["base"],
        custom=summary["custom"],
        improvement=improvement,
        min_improvement=task.min_improvement,
        custom_is_worse=improvement < task.min_improvement,
        report_s3_uri=report.uri,
    )
    document = {
        **output.model_dump(mode="json", exclude={"report_s3_uri"}),
        "metric_description": (
            "mean token-overlap F1 against the reference (lower case, punctuation and a/an/the removed); "
            "custom_is_worse when custom - base < min_improvement"
        ),
        "execution_name": task.execution_name,
        "prompts": rows,
    }
    store.put_json(report, json_bytes(document, where="evaluation report"))
    return output


__all__ = [
    "MAX_PROMPTS",
    "METRIC",
    "EvaluationPrompt",
    "EvaluationRequest",
    "PrepareEvaluationInput",
    "PrepareEvaluationOutput",
    "ScoreEvaluationInput",
    "ScoreEvaluationOutput",
    "chain_answers",
    "evaluation_chain",
    "exact_match",
    "literal_template",
    "normalize_answer",
    "prepare_evaluation",
    "read_prompt_set",
    "score_evaluation",
    "token_f1",
]
