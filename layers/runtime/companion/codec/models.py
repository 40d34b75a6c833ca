"""Provider-neutral request and normalized result: the two shapes every model family is mapped to and from."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelFamily(StrEnum):
    """Request/response formats of InvokeModel, one per family (see shared notes §5)."""

    CLAUDE = "claude"
    NOVA = "nova"
    TITAN_TEXT = "titan_text"
    COHERE_COMMAND = "cohere_command"
    COHERE_COMMAND_R = "cohere_command_r"
    LLAMA = "llama"
    MISTRAL_TEXT = "mistral_text"
    MISTRAL_CHAT = "mistral_chat"
    AI21_JAMBA = "ai21_jamba"
    TITAN_EMBED = "titan_embed"
    COHERE_EMBED = "cohere_embed"


StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "content_filtered",
    "error",
    "other",
    "not_applicable",
    "unknown",
]
"""Canonical stop reasons. ``other`` keeps a raw value no mapping knows; ``unknown`` means the payload had none
(for instance a ResultSelector kept only the text); ``not_applicable`` is for embeddings."""


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: Annotated[str, Field(min_length=1)]


class InferenceParameters(BaseModel):
    """Sampling settings every text family understands (Llama has no stop sequences: the codec says so)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: Annotated[int, Field(ge=1, le=200_000)] = 1024
    temperature: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    top_p: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    stop_sequences: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=16)] = []


class NeutralRequest(InferenceParameters):
    """What a step asks of a model, independent of the family that will answer."""

    system: str | None = None
    messages: Annotated[list[Turn], Field(min_length=1)]
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Family-specific fields merged into the Body (tools, top_k, dimensions...); may not replace a "
        "field the codec sets from the neutral request.",
    )


class ToolCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None
    name: str
    input: Any = None


class NormalizedResult(BaseModel):
    """One shape for every family's answer. Token counts are ``None`` where the payload reports none."""

    model_config = ConfigDict(frozen=True)

    family: ModelFamily
    text: str | None
    tool_calls: list[ToolCall] = []
    stop_reason: StopReason
    raw_stop_reason: str | None = None
    input_tokens: Annotated[int | None, Field(ge=0)] = None
    output_tokens: Annotated[int | None, Field(ge=0)] = None
    usage: Literal["reported", "unknown"] = "unknown"
    embeddings: list[list[float]] | None = None
