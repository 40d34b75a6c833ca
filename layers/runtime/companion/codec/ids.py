"""Model-id parsing: from whatever a step was given as ``ModelId`` to the family whose body format it speaks.

Bedrock accepts base model ids, inference-profile ids (geo-prefixed), and ARNs of both, plus ARNs of custom,
provisioned and application-profile resources. Only some of them embed the base model id; the others are opaque,
and the caller has to name the family explicitly.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from companion.codec._text import quote
from companion.codec.models import ModelFamily
from companion.errors import UnknownModelFamilyError

_ARN = re.compile(
    r"arn:(?:aws|aws-us-gov|aws-cn):bedrock:[a-z0-9-]+:(?:\d{12})?:(?P<kind>[a-z-]+)/(?P<resource>[^\s]+)",
)
_GEO_PREFIX = re.compile(r"(?:us-gov|us|eu|apac|global|ca|jp|au)\.")
_MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._:-]*")
_MAX_ID_LENGTH = 2048

# Resource kinds whose ARN names an account-scoped resource, not the model behind it.
_OPAQUE_KINDS = frozenset(
    {
        "provisioned-model",
        "application-inference-profile",
        "custom-model-deployment",
        "imported-model",
        "default-prompt-router",
        "prompt-router",
    },
)

# Only Nova's text models speak the messages-v1 body; Canvas, Reel, Sonic and the embedding models do not.
_NOVA_TEXT = re.compile(r"amazon\.nova-(?:\d+-)?(?:micro|lite|pro|premier)\b")
# Mistral moved to the chat-completions body with Large 2407; the date in the id orders releases.
_MISTRAL_LARGE_DATED = re.compile(r"mistral\.mistral-large-(?P<yymm>\d{4})\b")
_FIRST_CHAT_MISTRAL_LARGE = 2407

_PREFIXES: tuple[tuple[str, ModelFamily], ...] = (
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
)

_VALID_FAMILIES = ", ".join(member.value for member in ModelFamily)


class ParsedModelId(NamedTuple):
    """The base model id a ``ModelId`` refers to, or why none can be read from it."""

    base_id: str | None
    problem: str | None = None


def _fix_hint() -> str:
    # Users read this in the Step Functions console, where the family is the task input's model_family field.
    return (
        f"pass the family explicitly (model_family in the step input, family in Python; one of: {_VALID_FAMILIES}), "
        "or use a base model id, an inference-profile id or an ARN that embeds one "
        "(e.g. 'anthropic.claude-3-5-sonnet-20240620-v1:0')"
    )


def parse_model_id(model_id: str) -> ParsedModelId:
    """Reduce a model id, inference-profile id or Bedrock ARN to its base model id.

    Parameters
    ----------
    model_id
        What the step passes to Bedrock as ``ModelId``.

    Returns
    -------
    ParsedModelId
        ``base_id`` without geo prefix or ARN wrapping (a custom model's ``:ctx`` suffix is kept), or ``None`` with
        ``problem`` saying why no base id can be read.
    """
    if len(model_id) > _MAX_ID_LENGTH:
        # Checked before the cache so that hostile megabyte ids are never kept alive as cache keys.
        return ParsedModelId(None, f"the model id is longer than {_MAX_ID_LENGTH} characters")
    return _parse_bounded_model_id(model_id)


@functools.lru_cache(maxsize=256)
def _parse_bounded_model_id(model_id: str) -> ParsedModelId:
    if not model_id.strip():
        return ParsedModelId(None, "the model id is empty or blank")
    candidate = model_id
    arn = _ARN.fullmatch(model_id)
    if arn is not None:
        kind, resource = arn["kind"], arn["resource"]
        if kind in _OPAQUE_KINDS:
            return ParsedModelId(None, f"a {kind} ARN does not say which model it serves")
        if kind == "custom-model":
            # custom-model/<base model id>/<suffix>: the base id cannot contain '/', so the first segment is it.
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


@functools.lru_cache(maxsize=256)
def _family_of_base_id(base_id: str) -> ModelFamily | None:
    if _NOVA_TEXT.match(base_id):
        return ModelFamily.NOVA
    dated = _MISTRAL_LARGE_DATED.match(base_id)
    if dated is not None:
        chat = int(dated["yymm"]) >= _FIRST_CHAT_MISTRAL_LARGE
        return ModelFamily.MISTRAL_CHAT if chat else ModelFamily.MISTRAL_TEXT
    for prefix, family in _PREFIXES:
        if base_id.startswith(prefix) and len(base_id) > len(prefix):
            return family
    if base_id.startswith("mistral.") and len(base_id) > len("mistral."):
        return ModelFamily.MISTRAL_TEXT
    return None


def coerce_family(family: ModelFamily | str) -> ModelFamily:
    """Turn an explicit family (enum or its value, any case) into a ``ModelFamily``.

    Raises
    ------
    UnknownModelFamilyError
        The value names no family; the message lists the valid values.
    """
    if isinstance(family, ModelFamily):
        return family
    if isinstance(family, str):
        try:
            return ModelFamily(family.strip().lower())
        except ValueError:
            pass
    raise UnknownModelFamilyError(f"unknown model family {quote(family)}; valid values: {_VALID_FAMILIES}")


def resolve_family(model_id: str, family: ModelFamily | str | None = None) -> ModelFamily:
    """Name the body format a model id speaks.

    Parameters
    ----------
    model_id
        A base model id, an inference-profile id (``us.``, ``eu.``, ``apac.``, ``global.``, ``us-gov.``, ``ca.``,
        ``jp.``, ``au.``), or a Bedrock ARN (foundation-model, inference-profile, custom-model, in the ``aws``,
        ``aws-us-gov`` and ``aws-cn`` partitions).
    family
        Overrides detection. Required for provisioned-model and application-inference-profile ARNs, which do not
        say which model they serve.

    Returns
    -------
    ModelFamily
        The family whose InvokeModel body format the model uses.

    Raises
    ------
    UnknownModelFamilyError
        ``family`` is not a valid value, or no family can be read from ``model_id``; the message quotes the id and
        says how to fix it.
    """
    if family is not None:
        return coerce_family(family)
    if not isinstance(model_id, str):
        raise UnknownModelFamilyError(f"the model id must be a string, got {quote(model_id)}; {_fix_hint()}")
    parsed = parse_model_id(model_id)
    detected = _family_of_base_id(parsed.base_id) if parsed.base_id is not None else None
    if detected is None:
        reason = parsed.problem or "no model family is known for this provider or model"
        raise UnknownModelFamilyError(f"cannot tell the model family of {quote(model_id)}: {reason}; {_fix_hint()}")
    return detected


def is_llama2(model_id: str) -> bool:
    """Whether a Llama model id names Llama 2, whose prompt template differs from Llama 3 and later."""
    if not isinstance(model_id, str):
        return False
    base_id = parse_model_id(model_id).base_id
    return base_id is not None and base_id.startswith("meta.llama2")
