"""What each fine-tunable base model accepts, as one table: record format, dataset limits and hyperparameters.

Sources: the Amazon Bedrock User Guide pages "Custom model hyperparameters" (every range in ``BASE_MODELS``), "Model
requirements for training and validation datasets" (the Titan token and file-size limits, and ~6 characters per
token), the Amazon Nova data-preparation page (reserved words) and Cohere's Bedrock fine-tuning page (at least 32
examples, 4,096 tokens a record); shared notes §6. Values AWS does not document are conservative defaults, marked
``# default``: rejecting an unusual but valid dataset costs a re-run of this check, accepting one that Bedrock refuses
costs a paid job that fails late.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from companion.codec._text import quote
from companion.codec.ids import parse_model_id
from companion.errors import UnsupportedBaseModelError
from companion.finetune.options import CustomizationType

# AWS's estimate for fine-tuning data; the "character quota per sample" is the token quota times this.
CHARS_PER_TOKEN = 6
# A character takes at most 12 bytes in JSON text (a \uXXXX\uXXXX surrogate pair); the slack covers keys and nesting.
_JSON_BYTES_PER_CHAR = 12
_JSON_STRUCTURE_SLACK_BYTES = 64 * 1024


class RecordFormat(StrEnum):
    """The JSON shape of one line of a dataset."""

    PROMPT_COMPLETION = "prompt_completion"
    CONVERSATION = "bedrock-conversation-2024"
    CLAUDE_MESSAGES = "claude_messages"
    PRE_TRAINING = "continued_pre_training"


class DatasetLimits(BaseModel):
    """Per-model dataset limits; token counts are estimates at ``CHARS_PER_TOKEN`` characters a token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_records: int
    max_records: int
    max_validation_records: int
    max_record_tokens: int
    max_record_chars: int
    max_training_bytes: int
    max_validation_bytes: int
    # Titan holds fewer tokens a record in larger batches: (largest batch size at max_record_tokens, tokens above it).
    large_batch_record_tokens: tuple[int, int] | None = None

    def for_batch_size(self, batch_size: int) -> DatasetLimits:
        """The limits that hold when the job trains with ``batch_size``."""
        if self.large_batch_record_tokens is None or batch_size <= self.large_batch_record_tokens[0]:
            return self
        tokens = self.large_batch_record_tokens[1]
        return self.model_copy(update={"max_record_tokens": tokens, "max_record_chars": tokens * CHARS_PER_TOKEN})


def _limits(
    *,
    record_tokens: int,
    min_records: int = 32,  # default: Cohere's documented minimum, the highest any of these models documents
    max_records: int = 10_000,  # default: the smallest default record quota of these models
    max_validation_records: int = 1_000,  # default
    max_training_bytes: int = 1_000_000_000,  # default: Titan's documented fine-tuning file size
    max_validation_bytes: int = 100_000_000,  # default: Titan's documented validation file size
    large_batch_record_tokens: tuple[int, int] | None = None,
) -> DatasetLimits:
    return DatasetLimits(
        min_records=min_records,
        max_records=max_records,
        max_validation_records=max_validation_records,
        max_record_tokens=record_tokens,
        max_record_chars=record_tokens * CHARS_PER_TOKEN,
        max_training_bytes=max_training_bytes,
        max_validation_bytes=max_validation_bytes,
        large_batch_record_tokens=large_batch_record_tokens,
    )


@dataclass(frozen=True, slots=True)
class Hyperparameter:
    """One hyperparameter's documented type and inclusive range."""

    integer: bool
    minimum: Decimal
    maximum: Decimal


def _integer(minimum: int, maximum: int) -> Hyperparameter:
    return Hyperparameter(integer=True, minimum=Decimal(minimum), maximum=Decimal(maximum))


def _number(minimum: str, maximum: str) -> Hyperparameter:
    return Hyperparameter(integer=False, minimum=Decimal(minimum), maximum=Decimal(maximum))


@dataclass(frozen=True, slots=True)
class Customization:
    record_format: RecordFormat
    limits: DatasetLimits


@dataclass(frozen=True, slots=True)
class BaseModelSpec:
    """A family of fine-tunable base models: ids matching ``id_pattern`` (at the start of the base model id)."""

    name: str
    id_pattern: str
    example_id: str
    customizations: Mapping[CustomizationType, Customization]
    hyperparameters: Mapping[str, Hyperparameter]
    # Words whose presence in a user or system prompt makes the training job fail (Amazon Nova's documented list).
    reserved_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DatasetRules:
    """What the dataset validator checks every line against."""

    model: str
    record_format: RecordFormat
    limits: DatasetLimits
    reserved_words: tuple[str, ...] = ()

    @property
    def max_line_bytes(self) -> int:
        """The longest line a valid record could take; longer lines are reported without being held in memory."""
        return self.limits.max_record_chars * _JSON_BYTES_PER_CHAR + _JSON_STRUCTURE_SLACK_BYTES


_NOVA_RESERVED_WORDS = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")

_TITAN_HYPERPARAMETERS = {
    "epochCount": _integer(1, 10),
    "batchSize": _integer(1, 64),
    "learningRate": _number("0", "1"),
    "learningRateWarmupSteps": _integer(0, 250),
}
_LLAMA_HYPERPARAMETERS = {
    "epochCount": _integer(1, 10),
    "batchSize": _integer(1, 1),
    "learningRate": _number("0.000005", "0.1"),
}


def _cohere_hyperparameters(max_batch_size: int) -> dict[str, Hyperparameter]:
    return {
        "epochCount": _integer(1, 100),
        "batchSize": _integer(8, max_batch_size),
        "learningRate": _number("0.000005", "0.1"),
        "earlyStoppingThreshold": _number("0", "0.1"),
        "earlyStoppingPatience": _integer(1, 10),
        "evalPercentage": _number("5", "50"),
    }


def _fine_tuning(record_format: RecordFormat, limits: DatasetLimits) -> dict[CustomizationType, Customization]:
    return {CustomizationType.FINE_TUNING: Customization(record_format, limits)}


# The table. First match wins, so a more specific pattern must come before a broader one.
def _titan_text(label: str, variant: str, context: str, *, single_record_batch: int) -> BaseModelSpec:
    """Titan Text Express and Lite differ only in name and in the batch size above which records are capped at
    2,048 tokens."""
    large_batch = (single_record_batch, 2_048)
    return BaseModelSpec(
        name=f"Amazon Titan Text {label}",
        id_pattern=rf"amazon\.titan-text-{variant}-v1\b",
        example_id=f"amazon.titan-text-{variant}-v1:0:{context}",
        customizations={
            CustomizationType.FINE_TUNING: Customization(
                RecordFormat.PROMPT_COMPLETION, _limits(record_tokens=4_096, large_batch_record_tokens=large_batch)
            ),
            CustomizationType.CONTINUED_PRE_TRAINING: Customization(
                RecordFormat.PRE_TRAINING,
                _limits(
                    record_tokens=4_096,
                    max_records=100_000,
                    max_training_bytes=10_000_000_000,
                    large_batch_record_tokens=large_batch,
                ),
            ),
        },
        hyperparameters=_TITAN_HYPERPARAMETERS,
    )


BASE_MODELS: tuple[BaseModelSpec, ...] = (
    BaseModelSpec(
        name="Amazon Nova Micro, Lite, Pro",
        id_pattern=r"amazon\.nova-(?:micro|lite|pro)-v1\b",
        example_id="amazon.nova-lite-v1:0:300k",
        customizations=_fine_tuning(
            RecordFormat.CONVERSATION,
            # default: 20,000 records (Nova's record quota as we know it, unverified) and 32,000 tokens a record
            # (Claude 3 Haiku's value): a job over a record quota is refused when created, not an hour in.
            _limits(record_tokens=32_000, max_records=20_000),
        ),
        hyperparameters={
            "epochCount": _integer(1, 5),
            "learningRate": _number("0.000001", "0.0001"),
            "learningRateWarmupSteps": _integer(0, 100),
        },
        reserved_words=_NOVA_RESERVED_WORDS,
    ),
    _titan_text("Express", "express", "8k", single_record_batch=1),
    _titan_text("Lite", "lite", "4k", single_record_batch=2),
    BaseModelSpec(
        name="Amazon Titan Text Premier",
        id_pattern=r"amazon\.titan-text-premier-v1\b",
        example_id="amazon.titan-text-premier-v1:0:32k",
        customizations=_fine_tuning(RecordFormat.PROMPT_COMPLETION, _limits(record_tokens=4_096)),
        hyperparameters={
            "epochCount": _integer(1, 5),
            "batchSize": _integer(1, 1),
            "learningRate": _number("0.0000001", "0.00001"),
            "learningRateWarmupSteps": _integer(0, 20),
        },
    ),
    BaseModelSpec(
        name="Anthropic Claude 3 Haiku",
        id_pattern=r"anthropic\.claude-3-haiku-20240307-v1\b",
        example_id="anthropic.claude-3-haiku-20240307-v1:0:200k",
        customizations=_fine_tuning(RecordFormat.CLAUDE_MESSAGES, _limits(record_tokens=32_000)),
        hyperparameters={
            "epochCount": _integer(1, 10),
            "batchSize": _integer(4, 256),
            "learningRateMultiplier": _number("0.1", "2"),
            "earlyStoppingThreshold": _number("0", "0.1"),
            "earlyStoppingPatience": _integer(1, 10),
        },
    ),
    BaseModelSpec(
        name="Cohere Command Light",
        id_pattern=r"cohere\.command-light-text-v14\b",
        example_id="cohere.command-light-text-v14:7:4k",
        customizations=_fine_tuning(RecordFormat.PROMPT_COMPLETION, _limits(record_tokens=4_096)),
        hyperparameters=_cohere_hyperparameters(max_batch_size=32),
    ),
    BaseModelSpec(
        name="Cohere Command",
        id_pattern=r"cohere\.command-text-v14\b",
        example_id="cohere.command-text-v14:7:4k",
        customizations=_fine_tuning(RecordFormat.PROMPT_COMPLETION, _limits(record_tokens=4_096)),
        hyperparameters=_cohere_hyperparameters(max_batch_size=8),
    ),
    BaseModelSpec(
        name="Meta Llama 3.1 8B, 70B and 3.2 1B, 3B",
        id_pattern=r"meta\.llama3-(?:1-(?:8|70)b|2-(?:1|3)b)-instruct-v1\b",
        example_id="meta.llama3-1-8b-instruct-v1:0:128k",
        # 4,096 tokens a record is a default: AWS documents no per-record limit for Llama fine-tuning.
        customizations=_fine_tuning(RecordFormat.PROMPT_COMPLETION, _limits(record_tokens=4_096)),
        hyperparameters=_LLAMA_HYPERPARAMETERS,
    ),
    BaseModelSpec(
        name="Meta Llama 3.2 11B, 90B",
        id_pattern=r"meta\.llama3-2-(?:11|90)b-instruct-v1\b",
        example_id="meta.llama3-2-11b-instruct-v1:0:128k",
        customizations=_fine_tuning(RecordFormat.CONVERSATION, _limits(record_tokens=4_096)),
        hyperparameters=_LLAMA_HYPERPARAMETERS,
    ),
)

_COMPILED = tuple((re.compile(spec.id_pattern), spec) for spec in BASE_MODELS)


def find_base_model(model_id: str) -> BaseModelSpec:
    """The table entry for a base model id, inference-profile id or Bedrock ARN that embeds one.

    Raises
    ------
    UnsupportedBaseModelError
        No entry matches; the message lists the supported models with an example id each.
    """
    base_id = parse_model_id(model_id).base_id
    if base_id is not None:
        for pattern, spec in _COMPILED:
            if pattern.match(base_id):
                return spec
    supported = "; ".join(f"{spec.name} (e.g. {spec.example_id})" for spec in BASE_MODELS)
    raise UnsupportedBaseModelError(
        f"no fine-tuning dataset rules for base model {quote(model_id)}; supported: {supported}"
    )


def dataset_rules(
    model: BaseModelSpec, customization_type: CustomizationType, hyperparameters: Mapping[str, str]
) -> DatasetRules:
    """The rules a dataset must follow for ``model`` trained as ``customization_type`` with ``hyperparameters``.

    ``hyperparameters`` must be normalized already (see :func:`validate_hyperparameters`): the batch size, when
    given, can lower the tokens a record may hold.

    Raises
    ------
    UnsupportedBaseModelError
        The model does not support ``customization_type``.
    """
    customization = model.customizations.get(customization_type)
    if customization is None:
        offered = ", ".join(model.customizations)
        raise UnsupportedBaseModelError(f"{model.name} supports {offered}, not {customization_type}")
    limits = customization.limits
    if "batchSize" in hyperparameters:
        limits = limits.for_batch_size(int(hyperparameters["batchSize"]))
    return DatasetRules(model.name, customization.record_format, limits, model.reserved_words)
