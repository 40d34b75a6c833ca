"""SIMULATED Amazon Bedrock for the offline runner: no model is called and no answer comes from a model.

``BedrockStandIn`` implements the ``BedrockBackend`` contract (``sfn_offline/bedrock_api.py``). It checks requests
the way Bedrock does (model id, each family's body schema, Converse's message rules), answers in each family's exact
native response format with *deterministic* text derived from the request (a short sentence quoting a hash of the
request and the first words of the last user turn), estimates usage (about four characters per input token, one
output token per word), and honours the request's token budget. Answers are placeholders for exercising state
machines, never content to evaluate.

It can be scripted per state and attempt (mock-config semantics: ``{"Return": ...}`` or ``{"Throw": ...}``), inject
faults (throttling, timeouts, any named error), and simulate the control plane's model-customization jobs and
provisioned throughput with a lifecycle that advances one step per poll. All state sits behind one lock because the
engine runs Map iterations and Parallel branches on threads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sfn_offline.agents_standin import agent_actions
from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_models import ModelFamily, UnknownModelError, family_of, parse_model_id
from sfn_offline.image_models import image_answer, is_image_model
from sfn_offline.mock_config import MockedResponseExhaustedError

REGION = "us-east-1"
ACCOUNT = "123456789012"
_ARN_PREFIX = f"arn:aws:bedrock:{REGION}:{ACCOUNT}"

_INVALID_MODEL = "The provided model identifier is invalid."
_THROTTLED = "Too many requests, please wait before trying again."
_TIMED_OUT = "Model has timed out in processing the request. Try your request again."
_CONVERSE_FIRST_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts with a user message."
)
_CONVERSE_ALTERNATE = (
    "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between "
    "user and assistant roles and try again."
)
_QUOTED_WORDS = 8
_TITAN_V1_DIMENSIONS = 1536
_TITAN_V2_DIMENSIONS = (256, 512, 1024)
_COHERE_DIMENSIONS = 1024
_COHERE_INPUT_TYPES = frozenset({"search_document", "search_query", "classification", "clustering", "image"})
_COHERE_EMBED_MAX_TEXTS = 96
_NAME_PATTERN = re.compile(r"([0-9a-zA-Z][_-]?)+")
_JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*")
_ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::\d{12}:role/.+")
_S3_URI = re.compile(r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?")
_MAX_NAME = 63


def _invalid(message: str) -> BedrockServiceError:
    return BedrockServiceError("ValidationException", message)


def _malformed(detail: str) -> BedrockServiceError:
    # Bedrock's JSON-schema check of an InvokeModel body answers in this exact frame.
    return _invalid(f"Malformed input request: {detail}, please reformat your input and try again.")


# --- body schema checks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Number:
    integer: bool = False
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class _Schema:
    """What an InvokeModel body of a family may hold. ``strict`` families reject keys they do not know."""

    required: tuple[str, ...]
    strings: tuple[str, ...] = ()
    numbers: Mapping[str, _Number] = field(default_factory=dict)
    lists: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    allowed: frozenset[str] = frozenset()
    strict: bool = False


_TOKENS = _Number(integer=True, low=1)
_UNIT = _Number(low=0.0, high=1.0)

_SCHEMAS: dict[ModelFamily, _Schema] = {
    ModelFamily.CLAUDE: _Schema(
        required=("anthropic_version", "max_tokens", "messages"),
        strings=("anthropic_version",),
        numbers={"max_tokens": _TOKENS, "temperature": _UNIT, "top_p": _UNIT, "top_k": _Number(integer=True, low=0)},
        lists=("messages", "stop_sequences", "tools", "anthropic_beta"),
        objects=("tool_choice", "metadata", "thinking"),
        allowed=frozenset(
            {
                "anthropic_version",
                "max_tokens",
                "messages",
                "system",
                "temperature",
                "top_p",
                "top_k",
                "stop_sequences",
                "tools",
                "tool_choice",
                "metadata",
                "anthropic_beta",
                "thinking",
            },
        ),
        strict=True,
    ),
    ModelFamily.NOVA: _Schema(
        required=("messages",),
        strings=("schemaVersion",),
        lists=("messages", "system"),
        objects=("inferenceConfig", "toolConfig"),
        allowed=frozenset({"schemaVersion", "system", "messages", "inferenceConfig", "toolConfig"}),
        strict=True,
    ),
    ModelFamily.TITAN_TEXT: _Schema(
        required=("inputText",),
        strings=("inputText",),
        objects=("textGenerationConfig",),
        allowed=frozenset({"inputText", "textGenerationConfig"}),
        strict=True,
    ),
    ModelFamily.COHERE_COMMAND: _Schema(
        required=("prompt",),
        strings=("prompt", "return_likelihoods", "truncate"),
        numbers={
            "max_tokens": _TOKENS,
            "temperature": _Number(low=0.0, high=5.0),
            "p": _UNIT,
            "k": _Number(integer=True, low=0, high=500),
            "num_generations": _Number(integer=True, low=1, high=5),
        },
        lists=("stop_sequences",),
    ),
    ModelFamily.COHERE_COMMAND_R: _Schema(
        required=("message",),
        strings=("message", "preamble"),
        numbers={"max_tokens": _TOKENS, "temperature": _UNIT, "p": _UNIT, "k": _Number(integer=True, low=0, high=500)},
        lists=("chat_history", "stop_sequences", "documents", "tools"),
    ),
    ModelFamily.LLAMA: _Schema(
        required=("prompt",),
        strings=("prompt",),
        numbers={"max_gen_len": _Number(integer=True, low=1, high=8192), "temperature": _UNIT, "top_p": _UNIT},
    ),
    ModelFamily.MISTRAL_TEXT: _Schema(
        required=("prompt",),
        strings=("prompt",),
        numbers={"max_tokens": _TOKENS, "temperature": _UNIT, "top_p": _UNIT, "top_k": _Number(integer=True, low=1)},
        lists=("stop",),
    ),
    ModelFamily.MISTRAL_CHAT: _Schema(
        required=("messages",),
        numbers={"max_tokens": _TOKENS, "temperature": _UNIT, "top_p": _UNIT},
        lists=("messages", "stop", "tools"),
    ),
    ModelFamily.AI21_JAMBA: _Schema(
        required=("messages",),
        numbers={
            "max_tokens": _TOKENS,
            "temperature": _Number(low=0.0, high=2.0),
            "top_p": _UNIT,
            "n": _Number(integer=True, low=1, high=16),
        },
        lists=("messages", "stop", "tools"),
    ),
    ModelFamily.TITAN_EMBED: _Schema(
        required=("inputText",),
        strings=("inputText",),
        numbers={"dimensions": _Number(integer=True)},
        lists=("embeddingTypes",),
        allowed=frozenset({"inputText", "dimensions", "normalize", "embeddingTypes"}),
        strict=True,
    ),
    ModelFamily.COHERE_EMBED: _Schema(
        required=("texts", "input_type"),
        strings=("input_type", "truncate"),
        lists=("texts", "embedding_types", "images"),
    ),
}

_TYPE_NAMES: dict[type, str] = {str: "String", list: "JSONArray", dict: "JSONObject"}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "BigDecimal"
    if value is None:
        return "Null"
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _check_number(where: str, value: Any, rule: _Number) -> None:
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer() and rule.integer)
    if isinstance(value, bool) or not isinstance(value, int | float) or (rule.integer and not integral):
        expected = "Integer" if rule.integer else "Number"
        raise _malformed(f"{where}: expected type: {expected}, found: {_type_name(value)}")
    if not math.isfinite(value):
        raise _malformed(f"{where}: {value} is not a finite number")
    if rule.low is not None and value < rule.low:
        raise _malformed(f"{where}: {value} is not greater or equal to {rule.low:g}")
    if rule.high is not None and value > rule.high:
        raise _malformed(f"{where}: {value} is not less or equal to {rule.high:g}")


def _check_schema(body: Any, schema: _Schema) -> None:
    if not isinstance(body, dict):
        raise _malformed(f"#: expected type: JSONObject, found: {_type_name(body)}")
    for key in schema.required:
        if key not in body:
            raise _malformed(f"#: required key [{key}] not found")
    if schema.strict:
        for key in body:
            if key not in schema.allowed:
                raise _malformed(f"#: extraneous key [{key}] is not permitted")
    for key in schema.strings:
        if key in body and not isinstance(body[key], str):
            raise _malformed(f"#/{key}: expected type: String, found: {_type_name(body[key])}")
    for key in schema.lists:
        if key in body and not isinstance(body[key], list):
            raise _malformed(f"#/{key}: expected type: JSONArray, found: {_type_name(body[key])}")
    for key in schema.objects:
        if key in body and not isinstance(body[key], dict):
            raise _malformed(f"#/{key}: expected type: JSONObject, found: {_type_name(body[key])}")
    for key, rule in schema.numbers.items():
        if key in body:
            _check_number(f"#/{key}", body[key], rule)


def _content_text(content: Any, where: str, *, blocks_key: str = "text") -> str:
    """The text of a message's content (a string or a list of blocks); empty text is refused as Bedrock does."""
    if isinstance(content, str):
        if not content.strip():
            raise _invalid(f"{where}: text content blocks must be non-empty")
        return content
    if not isinstance(content, list) or not content:
        raise _invalid(f"{where}: content must be a non-empty string or list of content blocks")
    texts: list[str] = []
    for index, block in enumerate(content):
        if not isinstance(block, dict):
            raise _malformed(f"{where}/{index}: expected type: JSONObject, found: {_type_name(block)}")
        text = block.get(blocks_key)
        if text is None:
            continue  # Images, documents, tool results: accepted, not quoted.
        if not isinstance(text, str):
            raise _malformed(f"{where}/{index}/{blocks_key}: expected type: String, found: {_type_name(text)}")
        if not text.strip():
            raise _invalid(f"{where}: text content blocks must be non-empty")
        texts.append(text)
    return "\n".join(texts)


def _alternating_turns(
    messages: list[Any],
    *,
    role_key: str,
    content_key: str,
    text_key: str,
    first_user: str,
    alternate: Callable[[str], str],
) -> list[tuple[str, str]]:
    """Check a Claude/Nova/Converse message list; return (role, text) pairs."""
    if not messages:
        raise _invalid("messages: at least one message is required")
    turns: list[tuple[str, str]] = []
    previous: str | None = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _malformed(f"#/messages/{index}: expected type: JSONObject, found: {_type_name(message)}")
        role = message.get(role_key)
        if role not in {"user", "assistant"}:
            raise _invalid(f"messages.{index}.{role_key}: Input should be 'user' or 'assistant'")
        if index == 0 and role != "user":
            raise _invalid(first_user)
        if role == previous:
            raise _invalid(alternate(role))
        if content_key not in message:
            raise _malformed(f"#/messages/{index}: required key [{content_key}] not found")
        turns.append(
            (role, _content_text(message[content_key], f"messages.{index}.{content_key}", blocks_key=text_key))
        )
        previous = role
    return turns


def _claude_alternate(role: str) -> str:
    return f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" roles in a row'


def _last_user(turns: Sequence[tuple[str, str]]) -> str:
    for role, text in reversed(turns):
        if role == "user":
            return text
    return turns[-1][1] if turns else ""


_LLAMA3_USER = re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\s*(.*?)<\|eot_id\|>", re.DOTALL)
_INST_USER = re.compile(r"\[INST\]\s*(?:<<SYS>>.*?<</SYS>>\s*)?(.*?)\s*\[/INST\]", re.DOTALL)
_TRANSCRIPT_USER = re.compile(r"^User: (.*)$", re.MULTILINE)


def _prompt_user_text(prompt: str) -> str:
    """The last user turn of a templated prompt (Llama 3, [INST], or a "User: ..." transcript), else the prompt."""
    for pattern in (_LLAMA3_USER, _INST_USER, _TRANSCRIPT_USER):
        found = pattern.findall(prompt)
        if found:
            return str(found[-1])
    return prompt


@dataclass(frozen=True)
class _Parsed:
    """What the stand-in needs from a valid request: the texts it reads and the answer budget."""

    user_text: str
    all_text: str
    max_tokens: int | None
    texts: tuple[str, ...] = ()  # Embedding inputs.
    dimensions: int | None = None


def _system_text(system: Any, where: str) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(_content_text([block], where) for block in system if isinstance(block, dict))
    raise _malformed(f"#/{where}: expected type: String or JSONArray, found: {_type_name(system)}")


def _parse_claude(body: dict[str, Any], _model_id: str) -> _Parsed:
    turns = _alternating_turns(
        body["messages"],
        role_key="role",
        content_key="content",
        text_key="text",
        first_user='messages: first message must use the "user" role',
        alternate=_claude_alternate,
    )
    if body["anthropic_version"] != "bedrock-2023-05-31":
        raise _invalid(f"#/anthropic_version: {body['anthropic_version']!r} is not a supported version")
    system = _system_text(body.get("system"), "system")
    all_text = "\n".join([system, *(text for _, text in turns)])
    return _Parsed(_last_user(turns), all_text, int(body["max_tokens"]))


def _parse_nova(body: dict[str, Any], _model_id: str) -> _Parsed:
    turns = _alternating_turns(
        body["messages"],
        role_key="role",
        content_key="content",
        text_key="text",
        first_user=_CONVERSE_FIRST_USER,
        alternate=lambda _role: _CONVERSE_ALTERNATE,
    )
    config = body.get("inferenceConfig", {})
    numbers = {"maxTokens": _TOKENS, "temperature": _UNIT, "topP": _UNIT, "topK": _Number(integer=True, low=0)}
    for key, rule in numbers.items():
        if key in config:
            _check_number(f"#/inferenceConfig/{key}", config[key], rule)
    system = _system_text(body.get("system"), "system")
    all_text = "\n".join([system, *(text for _, text in turns)])
    max_tokens = config.get("maxTokens")
    return _Parsed(_last_user(turns), all_text, int(max_tokens) if max_tokens is not None else None)


def _parse_titan_text(body: dict[str, Any], _model_id: str) -> _Parsed:
    prompt = body["inputText"]
    if not prompt.strip():
        raise _malformed("#/inputText: expected minLength: 1, actual: 0")
    config = body.get("textGenerationConfig", {})
    allowed = {"maxTokenCount": _Number(integer=True, low=0, high=8192), "temperature": _UNIT, "topP": _UNIT}
    for key in config:
        if key not in {*allowed, "stopSequences"}:
            raise _malformed(f"#/textGenerationConfig: extraneous key [{key}] is not permitted")
    for key, rule in allowed.items():
        if key in config:
            _check_number(f"#/textGenerationConfig/{key}", config[key], rule)
    max_tokens = config.get("maxTokenCount")
    return _Parsed(_prompt_user_text(prompt), prompt, int(max_tokens) if max_tokens is not None else None)


def _parse_prompt(key: str, budget: str) -> Callable[[dict[str, Any], str], _Parsed]:
    def parse(body: dict[str, Any], _model_id: str) -> _Parsed:
        prompt = body[key]
        if not prompt.strip():
            raise _invalid(f"{key}: must not be empty")
        max_tokens = body.get(budget)
        return _Parsed(_prompt_user_text(prompt), prompt, int(max_tokens) if max_tokens is not None else None)

    return parse


def _parse_command_r(body: dict[str, Any], _model_id: str) -> _Parsed:
    message = body["message"]
    if not message.strip():
        raise _invalid("message: must not be empty")
    history = []
    for index, turn in enumerate(body.get("chat_history", [])):
        if not isinstance(turn, dict) or turn.get("role") not in {"USER", "CHATBOT", "SYSTEM"}:
            raise _invalid(f"chat_history[{index}]: role must be one of USER, CHATBOT, SYSTEM")
        if not isinstance(turn.get("message"), str):
            raise _malformed(f"#/chat_history/{index}: required key [message] not found")
        history.append(turn["message"])
    all_text = "\n".join([body.get("preamble", ""), *history, message])
    max_tokens = body.get("max_tokens")
    return _Parsed(message, all_text, int(max_tokens) if max_tokens is not None else None)


def _parse_chat_completions(body: dict[str, Any], _model_id: str) -> _Parsed:
    turns: list[tuple[str, str]] = []
    messages = body["messages"]
    if not messages:
        raise _invalid("messages: at least one message is required")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _malformed(f"#/messages/{index}: expected type: JSONObject, found: {_type_name(message)}")
        role = message.get("role")
        if role not in {"system", "user", "assistant", "tool"}:
            raise _invalid(f"messages[{index}].role: must be one of system, user, assistant, tool")
        content = message.get("content")
        if role in {"system", "user"} and (not isinstance(content, str) or not content.strip()):
            raise _invalid(f"messages[{index}].content: must be a non-empty string")
        turns.append((role, content if isinstance(content, str) else ""))
    if turns[-1][0] not in {"user", "tool"}:
        raise _invalid("Expected last role User or Tool (or Assistant with prefix True) for serving")
    max_tokens = body.get("max_tokens")
    all_text = "\n".join(text for _, text in turns)
    return _Parsed(_last_user(turns), all_text, int(max_tokens) if max_tokens is not None else None)


def _parse_titan_embed(body: dict[str, Any], model_id: str) -> _Parsed:
    text = body["inputText"]
    if not text:
        raise _malformed("#/inputText: expected minLength: 1, actual: 0")
    base = parse_model_id(model_id).base_id or ""
    v2 = "v2" in base
    dimensions = body.get("dimensions")
    if dimensions is not None and (not v2 or dimensions not in _TITAN_V2_DIMENSIONS):
        allowed = ", ".join(str(size) for size in _TITAN_V2_DIMENSIONS) if v2 else "none (v1 is fixed at 1536)"
        raise _malformed(f"#/dimensions: {dimensions} is not a valid enum value (allowed: {allowed})")
    if "normalize" in body and not isinstance(body["normalize"], bool):
        raise _malformed(f"#/normalize: expected type: Boolean, found: {_type_name(body['normalize'])}")
    size = dimensions if dimensions is not None else (1024 if v2 else _TITAN_V1_DIMENSIONS)
    return _Parsed(text, text, None, texts=(text,), dimensions=size)


def _parse_cohere_embed(body: dict[str, Any], _model_id: str) -> _Parsed:
    texts = body["texts"]
    if not texts or len(texts) > _COHERE_EMBED_MAX_TEXTS:
        raise _malformed(f"#/texts: expected 1 to {_COHERE_EMBED_MAX_TEXTS} items, found {len(texts)}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise _malformed(f"#/texts/{index}: expected type: String, found: {_type_name(text)}")
    if body["input_type"] not in _COHERE_INPUT_TYPES:
        raise _malformed(f"#/input_type: {body['input_type']} is not a valid enum value")
    if body.get("truncate", "NONE") not in {"NONE", "START", "END"}:
        raise _malformed(f"#/truncate: {body['truncate']} is not a valid enum value")
    return _Parsed(texts[0], "\n".join(texts), None, texts=tuple(texts), dimensions=_COHERE_DIMENSIONS)


_PARSERS: dict[ModelFamily, Callable[[dict[str, Any], str], _Parsed]] = {
    ModelFamily.CLAUDE: _parse_claude,
    ModelFamily.NOVA: _parse_nova,
    ModelFamily.TITAN_TEXT: _parse_titan_text,
    ModelFamily.COHERE_COMMAND: _parse_prompt("prompt", "max_tokens"),
    ModelFamily.COHERE_COMMAND_R: _parse_command_r,
    ModelFamily.LLAMA: _parse_prompt("prompt", "max_gen_len"),
    ModelFamily.MISTRAL_TEXT: _parse_prompt("prompt", "max_tokens"),
    ModelFamily.MISTRAL_CHAT: _parse_chat_completions,
    ModelFamily.AI21_JAMBA: _parse_chat_completions,
    ModelFamily.TITAN_EMBED: _parse_titan_embed,
    ModelFamily.COHERE_EMBED: _parse_cohere_embed,
}


# --- deterministic answers ----------------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


def simulated_text(user_text: str, seed: str) -> str:
    """The deterministic answer the stand-in gives to a turn: it quotes a hash and the turn's first words.

    ``seed`` distinguishes requests whose last user turn is equal (the whole request goes into it).
    """
    words = user_text.split()
    quoted = " ".join(words[:_QUOTED_WORDS]) + (" ..." if len(words) > _QUOTED_WORDS else "")
    return f"Simulated answer {_digest(seed)[:8]} to: {quoted}"


def _input_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _budgeted(text: str, max_tokens: int | None) -> tuple[str, int, bool]:
    """Cut the answer to the token budget (one token a word); say whether it was cut."""
    words = text.split()
    if max_tokens is not None and len(words) > max_tokens:
        return " ".join(words[:max_tokens]), max_tokens, True
    return text, len(words), False


def _vector(text: str, size: int, *, normalize: bool = True) -> list[float]:
    """A deterministic pseudo-embedding: sha256 stream -> values in [-1, 1], unit length when ``normalize``."""
    values: list[float] = []
    counter = 0
    while len(values) < size:
        block = hashlib.sha256(f"{counter}:{text}".encode("utf-8", "surrogatepass")).digest()
        values.extend((int.from_bytes(block[i : i + 2], "big") / 32767.5) - 1.0 for i in range(0, len(block), 2))
        counter += 1
    values = values[:size]
    if normalize:
        norm = math.sqrt(sum(value * value for value in values)) or 1.0
        values = [value / norm for value in values]
    return [round(value, 6) for value in values]


def _stable_uuid(seed: str) -> str:
    return str(uuid.UUID(_digest(seed)[:32]))


_STOP_REASONS: dict[ModelFamily, tuple[str, str]] = {
    ModelFamily.CLAUDE: ("end_turn", "max_tokens"),
    ModelFamily.NOVA: ("end_turn", "max_tokens"),
    ModelFamily.TITAN_TEXT: ("FINISH", "LENGTH"),
    ModelFamily.COHERE_COMMAND: ("COMPLETE", "MAX_TOKENS"),
    ModelFamily.COHERE_COMMAND_R: ("COMPLETE", "MAX_TOKENS"),
    ModelFamily.LLAMA: ("stop", "length"),
    ModelFamily.MISTRAL_TEXT: ("stop", "length"),
    ModelFamily.MISTRAL_CHAT: ("stop", "length"),
    ModelFamily.AI21_JAMBA: ("stop", "length"),
}


@dataclass(frozen=True)
class _Answer:
    text: str
    stop: str
    input_tokens: int
    output_tokens: int
    seed: str
    body: dict[str, Any]


def _native_answer(family: ModelFamily, model_id: str, body: dict[str, Any], parsed: _Parsed) -> dict[str, Any]:
    seed = _digest(model_id, json.dumps(body, sort_keys=True, default=str))
    if family is ModelFamily.TITAN_EMBED:
        normalize = bool(body.get("normalize", True))
        assert parsed.dimensions is not None  # noqa: S101 - set by the embedding parser
        return {
            "embedding": _vector(parsed.texts[0], parsed.dimensions, normalize=normalize),
            "inputTextTokenCount": _input_tokens(parsed.all_text),
        }
    if family is ModelFamily.COHERE_EMBED:
        assert parsed.dimensions is not None  # noqa: S101 - set by the embedding parser
        return {
            "id": _stable_uuid(seed),
            "texts": list(parsed.texts),
            "embeddings": [_vector(text, parsed.dimensions) for text in parsed.texts],
            "response_type": "embeddings_floats",
        }
    text, output_tokens, cut = _budgeted(simulated_text(parsed.user_text, seed), parsed.max_tokens)
    done, truncated = _STOP_REASONS[family]
    stop = truncated if cut else done
    input_tokens = _input_tokens(parsed.all_text)
    return _TEXT_ANSWERS[family](_Answer(text, stop, input_tokens, output_tokens, seed, body))


def _claude_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "id": f"msg_bdrk_{reply.seed[:24]}",
        "type": "message",
        "role": "assistant",
        "model": "simulated-claude",
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": reply.stop,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _nova_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": reply.text}]}},
        "stopReason": reply.stop,
        "usage": {
            "inputTokens": reply.input_tokens,
            "outputTokens": reply.output_tokens,
            "totalTokens": reply.input_tokens + reply.output_tokens,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        },
    }


def _titan_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "inputTextTokenCount": reply.input_tokens,
        "results": [{"tokenCount": reply.output_tokens, "outputText": reply.text, "completionReason": reply.stop}],
    }


def _cohere_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "id": _stable_uuid(reply.seed),
        "generations": [{"id": _stable_uuid(reply.seed + "g"), "text": f" {reply.text}", "finish_reason": reply.stop}],
        "prompt": reply.body["prompt"],
    }


def _command_r_answer(reply: _Answer) -> dict[str, Any]:
    history = [*reply.body.get("chat_history", []), {"role": "USER", "message": reply.body["message"]}]
    return {
        "response_id": _stable_uuid(reply.seed),
        "text": reply.text,
        "generation_id": _stable_uuid(reply.seed + "g"),
        "chat_history": [*history, {"role": "CHATBOT", "message": reply.text}],
        "finish_reason": reply.stop,
        "meta": {
            "api_version": {"version": "1"},
            "billed_units": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
            "tokens": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
        },
    }


def _llama_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "generation": reply.text,
        "prompt_token_count": reply.input_tokens,
        "generation_token_count": reply.output_tokens,
        "stop_reason": reply.stop,
    }


def _mistral_text_answer(reply: _Answer) -> dict[str, Any]:
    return {"outputs": [{"text": f" {reply.text}", "stop_reason": reply.stop}]}


def _mistral_chat_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "id": _stable_uuid(reply.seed),
        "object": "chat.completion",
        "created": 1741945200,
        "model": "simulated-mistral",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "tool_calls": None},
                "stop_reason": reply.stop,
            },
        ],
    }


def _jamba_answer(reply: _Answer) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{_stable_uuid(reply.seed)}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "tool_calls": None},
                "logprobs": None,
                "finish_reason": reply.stop,
            },
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
        "meta": {"requestDurationMillis": 100 + 5 * reply.output_tokens},
        "model": "simulated-jamba",
    }


_TextAnswer = Callable[[_Answer], dict[str, Any]]
_TEXT_ANSWERS: dict[ModelFamily, _TextAnswer] = {
    ModelFamily.CLAUDE: _claude_answer,
    ModelFamily.NOVA: _nova_answer,
    ModelFamily.TITAN_TEXT: _titan_answer,
    ModelFamily.COHERE_COMMAND: _cohere_answer,
    ModelFamily.COHERE_COMMAND_R: _command_r_answer,
    ModelFamily.LLAMA: _llama_answer,
    ModelFamily.MISTRAL_TEXT: _mistral_text_answer,
    ModelFamily.MISTRAL_CHAT: _mistral_chat_answer,
    ModelFamily.AI21_JAMBA: _jamba_answer,
}


# --- scripts, faults, control-plane records -----------------------------------------------------------------------


class Call(NamedTuple):
    """One call the stand-in answered (or refused): for tests to assert what the state machine sent."""

    api: str  # "invoke_model", "converse" or "control_plane"
    state_name: str
    attempt: int
    target: str  # Model id for the runtime APIs, action for the control plane.
    request: Any


@dataclass
class _Script:
    entries: list[dict[str, Any]]
    strict: bool


@dataclass
class _Fault:
    error_name: str
    message: str
    remaining: int
    state_name: str | None


@dataclass
class _Job:
    arn: str
    name: str
    request: dict[str, Any]
    base_model_arn: str
    output_model_name: str
    output_model_arn: str
    created: datetime
    polls_until_done: int
    fail_with: str | None
    polls: int = 0
    status: str = "InProgress"
    modified: datetime | None = None
    ended: datetime | None = None
    failure: str | None = None
    stopping_seen: bool = False


@dataclass
class _Throughput:
    arn: str
    name: str
    request: dict[str, Any]
    model_arn: str
    foundation_model_arn: str
    created: datetime
    polls_until_in_service: int
    polls: int = 0
    status: str = "Creating"
    modified: datetime | None = None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _error_name(error: str) -> str:
    # Mock configs name errors as Step Functions reports them (Bedrock.ThrottlingException); the API's own name is
    # what BedrockServiceError carries.
    return error.removeprefix("Bedrock.")


def _expand_script(
    responses: Sequence[Mapping[str, Any]] | Mapping[str | int, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    if isinstance(responses, Mapping):
        by_attempt: dict[int, dict[str, Any]] = {}
        for key, entry in responses.items():
            found = re.fullmatch(r"(\d+)(?:-(\d+))?", str(key))
            if found is None:
                raise ValueError(f"scripted attempt keys are 'N' or 'N-M', got {key!r}")
            first = int(found[1])
            last = int(found[2]) if found[2] is not None else first
            for attempt in range(first, last + 1):
                by_attempt[attempt] = dict(entry)
        if sorted(by_attempt) != list(range(len(by_attempt))):
            raise ValueError("scripted attempts must be contiguous from 0")
        return [by_attempt[attempt] for attempt in range(len(by_attempt))]
    return [dict(entry) for entry in responses]


def _check_entry(entry: Mapping[str, Any]) -> None:
    kinds = [kind for kind in ("Return", "Throw") if kind in entry]
    if len(kinds) != 1:
        raise ValueError(f"a scripted response holds exactly one of Return or Throw, got {sorted(entry)}")
    throw = entry.get("Throw")
    if kinds[0] == "Throw" and (not isinstance(throw, Mapping) or not isinstance(throw.get("Error"), str)):
        raise ValueError("a scripted Throw needs an Error string")


class BedrockStandIn:
    """SIMULATED Bedrock runtime and control plane; satisfies ``BedrockBackend``.

    Parameters
    ----------
    models
        Provisioned-model, custom-model or application-profile ARNs the stand-in should accept, with the family of
        the model behind each (opaque ARNs say nothing about it).
    clock
        Source of the control plane's timestamps; defaults to the wall clock (UTC).
    """

    def __init__(
        self,
        models: Mapping[str, ModelFamily | str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._initial_models = dict(models or {})
        self.calls: list[Call] = []
        self.reset()

    # --- configuration ------------------------------------------------------------------------------------------

    def control_plane_actions(self) -> list[str]:
        """The control-plane actions called so far, in order (``CreateModelCustomizationJob``, ...)."""
        return [call.target for call in self.calls if call.api == "control_plane"]

    def reset(self) -> None:
        """Forget scripts, faults, the call log, jobs, throughput, lifecycle settings and registered models.

        Models passed to the constructor stay registered.
        """
        with self._lock:
            self._models: dict[str, ModelFamily] = {}
            self._scripts: dict[str, _Script] = {}
            self._faults: list[_Fault] = []
            self._jobs: dict[str, _Job] = {}
            self._job_tokens: dict[str, str] = {}
            self._throughputs: dict[str, _Throughput] = {}
            self._throughput_tokens: dict[str, str] = {}
            self._counter = 0
            self._polls_until_done = 2
            self._fail_with: str | None = None
            self._polls_until_in_service = 2
            self.calls.clear()
            for model_id, family in self._initial_models.items():
                self.register_model(model_id, family)

    def register_model(self, model_id: str, family: ModelFamily | str) -> None:
        """Accept ``model_id`` (e.g. a provisioned-model ARN) as a model of ``family``."""
        with self._lock:
            self._models[model_id] = family_of(model_id, family)

    def script(
        self,
        state_name: str,
        responses: Sequence[Mapping[str, Any]] | Mapping[str | int, Mapping[str, Any]],
        *,
        strict: bool = False,
    ) -> None:
        """Script a state's answers by attempt, in mock-config terms.

        Parameters
        ----------
        state_name
            The Task state whose calls are scripted.
        responses
            A list (index = attempt) or a mapping with mock-config keys ``"N"``/``"N-M"``; each entry is
            ``{"Return": <native body or API result>}`` or ``{"Throw": {"Error": ..., "Cause": ...}}``. ``Error`` may
            carry the ``Bedrock.`` prefix Step Functions shows.
        strict
            Past the last entry, fail like AWS's mock config does (``MockedResponseExhaustedError``) instead of
            falling back to generated answers.
        """
        entries = _expand_script(responses)
        for entry in entries:
            _check_entry(entry)
        with self._lock:
            self._scripts[state_name] = _Script(copy.deepcopy(entries), strict)

    def fail(self, error_name: str, message: str, times: int = 1, state_name: str | None = None) -> None:
        """Make the next ``times`` calls (of ``state_name``, or of any state) raise ``error_name``."""
        with self._lock:
            self._faults.append(_Fault(_error_name(error_name), message, times, state_name))

    def throttle(self, times: int, state_name: str | None = None) -> None:
        """Make the next ``times`` calls raise ``ThrottlingException``."""
        self.fail("ThrottlingException", _THROTTLED, times, state_name)

    def time_out(self, times: int = 1, state_name: str | None = None) -> None:
        """Make the next ``times`` calls raise ``ModelTimeoutException``."""
        self.fail("ModelTimeoutException", _TIMED_OUT, times, state_name)

    def job_lifecycle(self, polls_until_done: int = 2, fail_with: str | None = None) -> None:
        """How jobs created from now on end: after ``polls_until_done`` Get calls, Completed (or Failed with
        ``fail_with`` as FailureMessage)."""
        with self._lock:
            self._polls_until_done = polls_until_done
            self._fail_with = fail_with

    def throughput_lifecycle(self, polls_until_in_service: int = 2) -> None:
        """How many Get calls provisioned throughput created from now on stays Creating (the last one is InService)."""
        with self._lock:
            self._polls_until_in_service = polls_until_in_service

    # --- BedrockBackend -----------------------------------------------------------------------------------------

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        """Answer InvokeModel with the family's native response body (see the module docstring)."""
        with self._lock:
            self.calls.append(Call("invoke_model", state_name, attempt, model_id, copy.deepcopy(body)))
            scripted = self._scripted(state_name, attempt)
            if scripted is not None:
                return _unwrap_task_result(scripted)
            self._raise_fault(state_name)
            if is_image_model(model_id):
                return image_answer(model_id, body)
            family = self._family(model_id)
            if family is None:
                raise _invalid(_INVALID_MODEL)
        _check_schema(body, _SCHEMAS[family])
        parsed = _PARSERS[family](body, model_id)
        return _native_answer(family, model_id, body, parsed)

    def converse(self, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        """Answer ``bedrockruntime:converse`` in the SDK integration's PascalCase."""
        with self._lock:
            model_id = request.get("ModelId") if isinstance(request, dict) else None
            self.calls.append(Call("converse", state_name, attempt, str(model_id), copy.deepcopy(request)))
            scripted = self._scripted(state_name, attempt)
            if scripted is not None:
                return scripted
            self._raise_fault(state_name)
            if not isinstance(model_id, str) or not model_id:
                raise _invalid(
                    "1 validation error detected: Value null at 'modelId' failed to satisfy constraint: "
                    "Member must not be null"
                )
            family = self._family(model_id)
            if family is None:
                raise _invalid(_INVALID_MODEL)
        if family in {ModelFamily.TITAN_EMBED, ModelFamily.COHERE_EMBED}:
            raise _invalid(
                "This action doesn't support the model that you provided. "
                "Try again with a supported text or chat model."
            )
        return _converse_answer(model_id, request)

    def control_plane(self, action: str, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        """Answer a model-customization or provisioned-throughput action (PascalCase in and out)."""
        with self._lock:
            self.calls.append(Call("control_plane", state_name, attempt, action, copy.deepcopy(request)))
            scripted = self._scripted(state_name, attempt)
            if scripted is not None:
                return scripted
            self._raise_fault(state_name)
            handler = self._actions().get(action)
            if handler is None:
                known = ", ".join(sorted(self._actions()))
                raise _invalid(f"The stand-in does not support the Bedrock action {action!r}; supported: {known}")
            if not isinstance(request, dict):
                raise _invalid("The request must be a JSON object")
            return handler(request)

    # --- internals ----------------------------------------------------------------------------------------------

    def _family(self, model_id: Any) -> ModelFamily | None:
        if not isinstance(model_id, str):
            return None
        if model_id in self._models:
            return self._models[model_id]
        if model_id.startswith(f"{_ARN_PREFIX}:provisioned-model/"):
            return None  # Unknown or deleted throughput.
        try:
            return family_of(model_id)
        except UnknownModelError:
            return None

    def _scripted(self, state_name: str, attempt: int) -> dict[str, Any] | None:
        script = self._scripts.get(state_name)
        if script is None:
            return None
        if attempt >= len(script.entries):
            if script.strict:
                raise MockedResponseExhaustedError(
                    f"state {state_name!r} was invoked {attempt + 1} time(s) but its script covers only "
                    f"{len(script.entries)}; AWS fails the execution when an invocation has no mocked response",
                )
            return None
        entry = script.entries[attempt]
        if "Throw" in entry:
            throw = entry["Throw"]
            raise BedrockServiceError(_error_name(throw["Error"]), str(throw.get("Cause", "")))
        result: dict[str, Any] = copy.deepcopy(entry["Return"])
        return result

    def _raise_fault(self, state_name: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.state_name in {None, state_name}:
                fault.remaining -= 1
                raise BedrockServiceError(fault.error_name, fault.message)

    def _next_id(self, seed: str) -> str:
        self._counter += 1
        return _digest(seed, str(self._counter))[:12]

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "CreateModelCustomizationJob": self._create_job,
            "GetModelCustomizationJob": self._get_job,
            "StopModelCustomizationJob": self._stop_job,
            "CreateProvisionedModelThroughput": self._create_throughput,
            "GetProvisionedModelThroughput": self._get_throughput,
            "DeleteProvisionedModelThroughput": self._delete_throughput,
            **agent_actions(),
        }

    # --- model customization ------------------------------------------------------------------------------------

    def _base_model(self, identifier: Any) -> tuple[str, str, ModelFamily]:
        """(base model id for ARNs, base model ARN, family) of a BaseModelIdentifier."""
        if not isinstance(identifier, str) or not identifier:
            raise _constraint("baseModelIdentifier", identifier, "Member must not be null")
        family = self._family(identifier)
        base_id = parse_model_id(identifier).base_id
        if family is None or base_id is None:
            raise BedrockServiceError("ResourceNotFoundException", f"Could not find base model {identifier}.")
        if identifier.startswith("arn:"):
            return base_id, identifier, family
        return base_id, f"arn:aws:bedrock:{REGION}::foundation-model/{base_id}", family

    def _create_job(self, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("ClientRequestToken")
        if isinstance(token, str) and token in self._job_tokens:
            return {"JobArn": self._job_tokens[token]}
        job_name = _named(request, "JobName", "jobName", _JOB_NAME_PATTERN)
        model_name = _named(request, "CustomModelName", "customModelName", _NAME_PATTERN)
        role = request.get("RoleArn")
        if not isinstance(role, str) or _ROLE_ARN.fullmatch(role) is None:
            raise _constraint("roleArn", role, f"Member must satisfy regular expression pattern: {_ROLE_ARN.pattern}")
        base_id, base_arn, family = self._base_model(request.get("BaseModelIdentifier"))
        for config in ("TrainingDataConfig", "OutputDataConfig"):
            uri = request.get(config, {}).get("S3Uri") if isinstance(request.get(config), dict) else None
            if not isinstance(uri, str) or _S3_URI.fullmatch(uri) is None:
                member = f"{config[0].lower()}{config[1:]}.s3Uri"
                raise _constraint(member, uri, "Member must satisfy regular expression pattern: s3://bucket/key")
        hyper = request.get("HyperParameters", {})
        if not isinstance(hyper, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in hyper.items()):
            raise _invalid('HyperParameters must be a map of strings to strings, e.g. {"epochCount": "2"}')
        customization = request.get("CustomizationType", "FINE_TUNING")
        if customization not in {"FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"}:
            raise _constraint(
                "customizationType",
                customization,
                "Member must satisfy enum value set: [FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION]",
            )
        job_id = self._next_id(job_name)
        arn = f"{_ARN_PREFIX}:model-customization-job/{base_id}/{job_id}"
        output_arn = f"{_ARN_PREFIX}:custom-model/{base_id}/{self._next_id(model_name)}"
        now = self._clock()
        self._jobs[arn] = _Job(
            arn=arn,
            name=job_name,
            request=copy.deepcopy(request),
            base_model_arn=base_arn,
            output_model_name=model_name,
            output_model_arn=output_arn,
            created=now,
            polls_until_done=self._polls_until_done,
            fail_with=self._fail_with,
            modified=now,
        )
        self._models[output_arn] = family
        if isinstance(token, str):
            self._job_tokens[token] = arn
        return {"JobArn": arn}

    def _find_job(self, request: dict[str, Any]) -> _Job:
        identifier = request.get("JobIdentifier")
        if not isinstance(identifier, str) or not identifier:
            raise _constraint("jobIdentifier", identifier, "Member must not be null")
        job = self._jobs.get(identifier) or next((j for j in self._jobs.values() if j.name == identifier), None)
        if job is None:
            raise BedrockServiceError("ResourceNotFoundException", f"Could not find job {identifier}.")
        return job

    def _get_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job = self._find_job(request)
        now = self._clock()
        job.polls += 1
        if job.status == "Stopping" and job.stopping_seen:
            job.status, job.modified, job.ended = "Stopped", now, now
        elif job.status == "Stopping":
            job.stopping_seen = True  # Reported once, as AWS shows Stopping for a while before Stopped.
        elif job.status == "InProgress" and job.polls >= job.polls_until_done:
            job.modified, job.ended = now, now
            if job.fail_with is not None:
                job.status, job.failure = "Failed", job.fail_with
            else:
                job.status = "Completed"
        return _describe_job(job)

    def _stop_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job = self._find_job(request)
        if job.status != "InProgress":
            raise _invalid(f"Job {job.arn} is in status {job.status} and cannot be stopped.")
        job.status, job.modified = "Stopping", self._clock()
        return {}

    # --- provisioned throughput ---------------------------------------------------------------------------------

    def _create_throughput(self, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("ClientRequestToken")
        if isinstance(token, str) and token in self._throughput_tokens:
            return {"ProvisionedModelArn": self._throughput_tokens[token]}
        name = _named(request, "ProvisionedModelName", "provisionedModelName", _NAME_PATTERN)
        units = request.get("ModelUnits")
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise _constraint("modelUnits", units, "Member must have value greater than or equal to 1")
        model_id = request.get("ModelId")
        family = self._family(model_id)
        if not isinstance(model_id, str) or family is None:
            raise BedrockServiceError("ResourceNotFoundException", f"Could not find model {model_id}.")
        duration = request.get("CommitmentDuration")
        if duration is not None and duration not in {"OneMonth", "SixMonths"}:
            raise _constraint(
                "commitmentDuration", duration, "Member must satisfy enum value set: [OneMonth, SixMonths]"
            )
        if any(item.name == name for item in self._throughputs.values()):
            raise BedrockServiceError("ResourceInUseException", f"Provisioned model name {name} already exists.")
        arn = f"{_ARN_PREFIX}:provisioned-model/{self._next_id(name)}"
        job = next((j for j in self._jobs.values() if j.output_model_arn == model_id), None)
        base_id = parse_model_id(model_id).base_id or model_id
        foundation = job.base_model_arn if job else f"arn:aws:bedrock:{REGION}::foundation-model/{base_id}"
        model_arn = model_id if model_id.startswith("arn:") else foundation
        now = self._clock()
        self._throughputs[arn] = _Throughput(
            arn, name, copy.deepcopy(request), model_arn, foundation, now, self._polls_until_in_service, modified=now
        )
        self._models[arn] = family
        if isinstance(token, str):
            self._throughput_tokens[token] = arn
        return {"ProvisionedModelArn": arn}

    def _find_throughput(self, request: dict[str, Any]) -> _Throughput:
        identifier = request.get("ProvisionedModelId")
        if not isinstance(identifier, str) or not identifier:
            raise _constraint("provisionedModelId", identifier, "Member must not be null")
        found = self._throughputs.get(identifier) or next(
            (item for item in self._throughputs.values() if item.name == identifier),
            None,
        )
        if found is None:
            raise BedrockServiceError("ResourceNotFoundException", f"Could not find provisioned model {identifier}.")
        return found

    def _get_throughput(self, request: dict[str, Any]) -> dict[str, Any]:
        item = self._find_throughput(request)
        item.polls += 1
        if item.status == "Creating" and item.polls >= item.polls_until_in_service:
            item.status, item.modified = "InService", self._clock()
        units = item.request["ModelUnits"]
        answer: dict[str, Any] = {
            "ModelUnits": units,
            "DesiredModelUnits": units,
            "ProvisionedModelName": item.name,
            "ProvisionedModelArn": item.arn,
            "ModelArn": item.model_arn,
            "DesiredModelArn": item.model_arn,
            "FoundationModelArn": item.foundation_model_arn,
            "Status": item.status,
            "CreationTime": _timestamp(item.created),
            "LastModifiedTime": _timestamp(item.modified or item.created),
        }
        if "CommitmentDuration" in item.request:
            answer["CommitmentDuration"] = item.request["CommitmentDuration"]
        return answer

    def _delete_throughput(self, request: dict[str, Any]) -> dict[str, Any]:
        item = self._find_throughput(request)
        del self._throughputs[item.arn]
        self._models.pop(item.arn, None)
        return {}


def _constraint(member: str, value: Any, rule: str) -> BedrockServiceError:
    return _invalid(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}")


def _named(request: dict[str, Any], key: str, member: str, pattern: re.Pattern[str]) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise _constraint(member, value, "Member must not be null")
    if len(value) > _MAX_NAME:
        raise _constraint(member, value, f"Member must have length less than or equal to {_MAX_NAME}")
    if pattern.fullmatch(value) is None:
        raise _constraint(member, value, f"Member must satisfy regular expression pattern: ^{pattern.pattern}$")
    return value


def _describe_job(job: _Job) -> dict[str, Any]:
    request = job.request
    answer: dict[str, Any] = {
        "JobArn": job.arn,
        "JobName": job.name,
        "OutputModelName": job.output_model_name,
        "RoleArn": request["RoleArn"],
        "ClientRequestToken": request.get("ClientRequestToken", ""),
        "BaseModelArn": job.base_model_arn,
        "Status": job.status,
        "CreationTime": _timestamp(job.created),
        "LastModifiedTime": _timestamp(job.modified or job.created),
        "HyperParameters": copy.deepcopy(request.get("HyperParameters", {})),
        "TrainingDataConfig": copy.deepcopy(request["TrainingDataConfig"]),
        "OutputDataConfig": copy.deepcopy(request["OutputDataConfig"]),
        "CustomizationType": request.get("CustomizationType", "FINE_TUNING"),
    }
    if "ValidationDataConfig" in request:
        answer["ValidationDataConfig"] = copy.deepcopy(request["ValidationDataConfig"])
    if job.status == "Completed":
        answer["OutputModelArn"] = job.output_model_arn
        loss = int(_digest(job.arn)[:4], 16) / 65535
        answer["TrainingMetrics"] = {"TrainingLoss": round(0.2 + loss, 4)}
        answer["ValidationMetrics"] = [{"ValidationLoss": round(0.25 + loss, 4)}]
    if job.failure is not None:
        answer["FailureMessage"] = job.failure
    if job.ended is not None:
        answer["EndTime"] = _timestamp(job.ended)
    return answer


def _unwrap_task_result(result: dict[str, Any]) -> dict[str, Any]:
    """A scripted invokeModel Return may be the task result ``{"Body", "ContentType"}``; the API returns the Body."""
    if isinstance(result, dict) and "Body" in result and set(result) <= {"Body", "ContentType"}:
        body = result["Body"]
        if isinstance(body, str):
            parsed: dict[str, Any] = json.loads(body)
            return parsed
        if isinstance(body, dict):
            return body
    return result


def _converse_turns(request: dict[str, Any]) -> tuple[list[tuple[str, str]], str]:
    messages = request.get("Messages")
    if not isinstance(messages, list):
        raise _invalid(
            "1 validation error detected: Value null at 'messages' failed to satisfy constraint: "
            "Member must not be null"
        )
    turns = _alternating_turns(
        messages,
        role_key="Role",
        content_key="Content",
        text_key="Text",
        first_user=_CONVERSE_FIRST_USER,
        alternate=lambda _role: _CONVERSE_ALTERNATE,
    )
    system = request.get("System", [])
    if not isinstance(system, list):
        raise _invalid("System must be a list of system content blocks")
    system_text = "\n".join(
        _content_text([block], "System", blocks_key="Text")
        for block in system
        if isinstance(block, dict) and "Text" in block
    )
    return turns, system_text


def _converse_answer(model_id: str, request: dict[str, Any]) -> dict[str, Any]:
    turns, system_text = _converse_turns(request)
    config = request.get("InferenceConfig", {})
    if not isinstance(config, dict):
        raise _invalid("InferenceConfig must be an object")
    rules = {"MaxTokens": _TOKENS, "Temperature": _UNIT, "TopP": _UNIT}
    for key, rule in rules.items():
        if key in config:
            try:
                _check_number(key, config[key], rule)
            except BedrockServiceError as exc:
                detail = exc.message.removeprefix("Malformed input request: ").split(", please")[0]
                raise _invalid(f"1 validation error detected: {detail}") from exc
    max_tokens = config.get("MaxTokens")
    seed = _digest(model_id, repr(turns), system_text, repr(sorted(config.items())))
    text, output_tokens, cut = _budgeted(simulated_text(_last_user(turns), seed), max_tokens)
    input_tokens = _input_tokens("\n".join([system_text, *(t for _, t in turns)]))
    return {
        "Output": {"Message": {"Role": "assistant", "Content": [{"Text": text}]}},
        "StopReason": "max_tokens" if cut else "end_turn",
        "Usage": {
            "InputTokens": input_tokens,
            "OutputTokens": output_tokens,
            "TotalTokens": input_tokens + output_tokens,
        },
        "Metrics": {"LatencyMs": 100 + 5 * output_tokens},
    }
