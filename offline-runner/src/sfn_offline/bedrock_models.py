"""What the SIMULATED Bedrock knows of Bedrock's model ids: which family's native body format an id speaks, and where
each family's answer reports its token usage.

This is the service side of the wire, so the stand-in keeps its own copy of what Bedrock accepts: the runner serves any
SAM project, and a project's own request/answer code (if it has any) is what the stand-in is there to check. A project
may compare its own reading of model ids with :func:`family_of` in its tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final, NamedTuple


class ModelFamily(StrEnum):
    """The InvokeModel body formats the stand-in speaks, one per family."""

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


class UnknownModelError(ValueError):
    """A model id no family is known for, or a family name that is not one of :class:`ModelFamily`."""


_ARN: Final = re.compile(
    r"arn:(?:aws|aws-us-gov|aws-cn):bedrock:[a-z0-9-]+:(?:\d{12})?:(?P<kind>[a-z-]+)/(?P<resource>\S+)",
)
_GEO_PREFIX: Final = re.compile(r"(?:us-gov|us|eu|apac|global|ca|jp|au)\.")
_MODEL_ID: Final = re.compile(r"[a-z0-9][a-z0-9._:-]*")
_MAX_ID_LENGTH: Final = 2048
# ARNs of account-scoped resources that do not say which model they serve (register them with the stand-in).
_OPAQUE_KINDS: Final = frozenset(
    {
        "provisioned-model",
        "application-inference-profile",
        "custom-model-deployment",
        "imported-model",
        "default-prompt-router",
        "prompt-router",
    },
)
# Only Nova's text models take the messages-v1 body; Mistral Large moved to chat completions with 2407.
_NOVA_TEXT: Final = re.compile(r"amazon\.nova-(?:\d+-)?(?:micro|lite|pro|premier)\b")
_MISTRAL_LARGE_DATED: Final = re.compile(r"mistral\.mistral-large-(?P<yymm>\d{4})\b")
_FIRST_CHAT_MISTRAL_LARGE: Final = 2407
_PREFIXES: Final[tuple[tuple[str, ModelFamily], ...]] = (
    ("anthropic.", ModelFamily.CLAUDE),
    ("amazon.titan-text-", ModelFamily.TITAN_TEXT),
    ("amazon.titan-tg1-", ModelFamily.TITAN_TEXT),
    ("amazon.titan-embed-text-", ModelFamily.TITAN_EMBED),
    ("amazon.titan-embed-g1-text-", ModelFamily.TITAN_EMBED),
    ("cohere.command-r", ModelFamily.COHERE_COMMAND_R),
    ("cohere.command-text-", ModelFamily.COHERE_COMMAND),
    ("cohere.command-light-text-", ModelFamily.COHERE_COMMAND),
    ("cohere.embed-", ModelFamily.COHERE_EMBED),
    ("meta.llama", ModelFamily.LLAMA),
    ("mistral.pixtral-", ModelFamily.MISTRAL_CHAT),
    ("ai21.jamba", ModelFamily.AI21_JAMBA),
    ("mistral.", ModelFamily.MISTRAL_TEXT),
)


class ParsedModelId(NamedTuple):
    """The base model id a ``ModelId`` refers to, or why none can be read from it."""

    base_id: str | None
    problem: str | None = None


def parse_model_id(model_id: str) -> ParsedModelId:
    """Reduce a model id, inference-profile id or Bedrock ARN to its base model id (no geo prefix, no ARN)."""
    if len(model_id) > _MAX_ID_LENGTH:
        return ParsedModelId(None, f"the model id is longer than {_MAX_ID_LENGTH} characters")
    if not model_id.strip():
        return ParsedModelId(None, "the model id is empty or blank")
    candidate = model_id
    arn = _ARN.fullmatch(model_id)
    if arn is not None:
        kind, resource = arn["kind"], arn["resource"]
        if kind in _OPAQUE_KINDS:
            return ParsedModelId(None, f"a {kind} ARN does not say which model it serves")
        if kind == "custom-model":
            candidate = resource.split("/", 1)[0]
        elif kind in {"foundation-model", "inference-profile"}:
            candidate = resource
        else:
            return ParsedModelId(None, f"'{kind}' is not a Bedrock resource type that can be invoked")
    elif model_id.startswith("arn:"):
        return ParsedModelId(None, "it is not a Bedrock model ARN")
    geo = _GEO_PREFIX.match(candidate)
    if geo is not None:
        candidate = candidate[geo.end() :]
    if _MODEL_ID.fullmatch(candidate) is None:
        return ParsedModelId(None, "it is not a well-formed model id")
    return ParsedModelId(candidate)


def family_of(model_id: str, family: ModelFamily | str | None = None) -> ModelFamily:
    """The body format ``model_id`` speaks; ``family`` (enum or value) overrides detection.

    Raises
    ------
    UnknownModelError
        ``family`` names no family, or none can be read from ``model_id``.
    """
    if family is not None:
        try:
            return ModelFamily(str(family).strip().lower())
        except ValueError:
            raise UnknownModelError(f"unknown model family {family!r}") from None
    parsed = parse_model_id(model_id) if isinstance(model_id, str) else ParsedModelId(None, "not a string")
    base = parsed.base_id
    if base is not None:
        if _NOVA_TEXT.match(base):
            return ModelFamily.NOVA
        dated = _MISTRAL_LARGE_DATED.match(base)
        if dated is not None:
            chat = int(dated["yymm"]) >= _FIRST_CHAT_MISTRAL_LARGE
            return ModelFamily.MISTRAL_CHAT if chat else ModelFamily.MISTRAL_TEXT
        for prefix, found in _PREFIXES:
            if base.startswith(prefix) and len(base) > len(prefix):
                return found
    reason = parsed.problem or "no model family is known for this provider or model"
    raise UnknownModelError(f"cannot tell the model family of {model_id!r}: {reason}")


# Where each family's answer (and Converse's) reports its usage: (input path, output path), first match wins.
_USAGE_PATHS: Final[tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...]] = (
    (("Usage", "InputTokens"), ("Usage", "OutputTokens")),  # Converse
    (("usage", "input_tokens"), ("usage", "output_tokens")),  # Claude
    (("usage", "inputTokens"), ("usage", "outputTokens")),  # Nova
    (("usage", "prompt_tokens"), ("usage", "completion_tokens")),  # Jamba, Mistral chat
    (("meta", "billed_units", "input_tokens"), ("meta", "billed_units", "output_tokens")),  # Command R
    (("prompt_token_count",), ("generation_token_count",)),  # Llama
    (("inputTextTokenCount",), ("results", 0, "tokenCount")),  # Titan text
)


def token_usage(answer: Any) -> tuple[int | None, int | None]:
    """(input tokens, output tokens) an answer reports; ``None`` where it reports none (Cohere Command, Mistral
    text and the embedding models report no output tokens, some none at all)."""
    for input_path, output_path in _USAGE_PATHS:
        used = _at(answer, input_path)
        if used is not None:
            return used, _at(answer, output_path)
    return None, None


def _at(value: Any, path: tuple[str | int, ...]) -> int | None:
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return None
        elif not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, int) and not isinstance(value, bool) else None
