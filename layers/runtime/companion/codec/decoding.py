"""Any form a Bedrock answer reaches Python in -> ``NormalizedResult`` (shared notes §3 and §5).

The families name the same few things differently (``stop_reason``/``stopReason``/``finish_reason``...), and a
ResultSelector may keep any subset of them, so one tolerant extractor reads every text family through shared key
tables. What is family-specific is only where the answer sits: some families wrap it in a list of candidates
(``results``, ``generations``, ``outputs``, ``choices``), and the embedding families return vectors, not text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from companion import safejson
from companion.codec._text import describe
from companion.codec.ids import resolve_family
from companion.codec.models import ModelFamily, NormalizedResult, StopReason, ToolCall
from companion.errors import ResponseDecodingError


class _ShapeError(Exception):
    """A part of the payload is not what a Bedrock answer holds; ``decode`` adds family and payload context."""


@dataclass(frozen=True)
class _DecodeSpec:
    choices_key: str | None = None  # List whose first element holds the answer.
    embeddings: bool = False


_SPECS: dict[ModelFamily, _DecodeSpec] = {
    ModelFamily.TITAN_TEXT: _DecodeSpec(choices_key="results"),
    ModelFamily.COHERE_COMMAND: _DecodeSpec(choices_key="generations"),
    ModelFamily.MISTRAL_TEXT: _DecodeSpec(choices_key="outputs"),
    ModelFamily.MISTRAL_CHAT: _DecodeSpec(choices_key="choices"),
    ModelFamily.AI21_JAMBA: _DecodeSpec(choices_key="choices"),
    ModelFamily.TITAN_EMBED: _DecodeSpec(embeddings=True),
    ModelFamily.COHERE_EMBED: _DecodeSpec(embeddings=True),
}
_TOP_LEVEL_ANSWER = _DecodeSpec()
_Scope = tuple[str, dict[str, Any]]  # An object that may hold answer fields, with its path for error messages.

# Searched in this order in every scope (message, candidate, body). PascalCase names are Converse's.
_TEXT_KEYS = ("content", "Content", "text", "Text", "outputText", "generation", "completion")
_STOP_KEYS = ("stop_reason", "stopReason", "StopReason", "finish_reason", "completionReason")
_INPUT_TOKEN_KEYS = (
    "input_tokens",
    "inputTokens",
    "InputTokens",
    "prompt_tokens",
    "prompt_token_count",
    "inputTextTokenCount",
)
_OUTPUT_TOKEN_KEYS = (
    "output_tokens",
    "outputTokens",
    "OutputTokens",
    "completion_tokens",
    "generation_token_count",
    "tokenCount",
)
# Cohere Command R bills from meta.billed_units (meta.tokens also counts the tokens Cohere adds itself).
_USAGE_CONTAINERS = (("usage",), ("Usage",), ("meta", "billed_units"))
_CONVERSE_MESSAGE_PATHS = (("Output", "Message"), ("output", "message"))
_EMBEDDING_TYPE_PREFERENCE = "float"

STOP_REASONS: dict[str, StopReason] = {  # also emitted as JSONata (codec/jsonata.py)
    **dict.fromkeys(("end_turn", "stop", "complete", "finish", "finished"), "end_turn"),
    # Converse's model_context_window_exceeded truncates the answer just like a token limit does.
    **dict.fromkeys(
        ("max_tokens", "length", "model_length", "error_limit", "model_context_window_exceeded"),
        "max_tokens",
    ),
    **dict.fromkeys(("stop_sequence", "stop_criteria_met"), "stop_sequence"),
    **dict.fromkeys(("tool_use", "tool_calls", "tool_call"), "tool_use"),
    **dict.fromkeys(
        ("content_filtered", "error_toxic", "refusal", "guardrail_intervened"),
        "content_filtered",
    ),
    **dict.fromkeys(("error", "malformed_model_output", "malformed_tool_use"), "error"),
}


def canonical_stop_reason(raw: str | None) -> StopReason:
    """Map a family's raw stop reason to the canonical one (case-insensitive); ``unknown`` when there is none."""
    if raw is None or not raw.strip():
        return "unknown"
    return STOP_REASONS.get(raw.strip().lower(), "other")


# --- serialized bodies -------------------------------------------------------------------------------------------


def _is_serialized(value: Any) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) or callable(getattr(value, "read", None))


def _read(value: Any) -> bytes | str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    data = value.read()
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data
    raise _ShapeError(f"reading the body gave {type(data).__name__}, expected bytes")


def _parse_json(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _ShapeError(f"the body is not valid UTF-8 (byte offset {exc.start}: {exc.reason})") from exc
    try:
        return safejson.loads(data)
    except safejson.JsonLimitError as exc:
        raise _ShapeError(f"the body is not usable JSON ({exc.msg})") from exc
    except json.JSONDecodeError as exc:
        raise _ShapeError(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    except (ValueError, RecursionError) as exc:
        # Over-long integers and NaN raise plain ValueError; absurd nesting raises RecursionError.
        raise _ShapeError(f"the body is not usable JSON ({type(exc).__name__}: {exc})") from exc


def _unwrap(payload: Any) -> Any:
    """Peel transport wrappers off until what is left is the model's Body (or what a ResultSelector kept of it)."""
    if _is_serialized(payload):
        return _parse_json(_read(payload))
    if isinstance(payload, dict):
        if "body" in payload and _is_serialized(payload["body"]):
            return _parse_json(_read(payload["body"]))
        if "Body" in payload:
            body = payload["Body"]
            if isinstance(body, str):
                # Only the SDK integration hands the Body over as text, and then it is always the JSON document.
                return _parse_json(body)
            if _is_serialized(body):
                return _parse_json(_read(body))
            return body
    return payload


# --- field readers -----------------------------------------------------------------------------------------------


def _dict_at(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _ShapeError(f"{where} must be an object, got {type(value).__name__}")
    return value


def _text_at(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _ShapeError(f"{where} must be a string, got {type(value).__name__}")
    return value


def _optional_text_at(value: Any, where: str) -> str | None:
    return None if value is None else _text_at(value, where)


def _count_at(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _ShapeError(f"{where} must be an integer token count, got {type(value).__name__}")
    if value < 0:
        raise _ShapeError(f"{where} must not be negative, got {value}")
    return value


def _first(scopes: Iterable[_Scope], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first of ``keys`` present in the first scope holding any, as (path, value)."""
    for prefix, scope in scopes:
        for key in keys:
            if key in scope:
                return f"{prefix}{key}", scope[key]
    return None


def _tool_input(arguments: Any) -> Any:
    """Chat-completions tools pass arguments as a JSON string; keep it raw when the model wrote invalid JSON.

    Tool arguments are model output: a validator downstream can re-prompt on them, which it could not do if the
    whole answer were rejected here.
    """
    if not isinstance(arguments, str):
        return arguments
    try:
        return safejson.loads(arguments)
    except ValueError:
        return arguments


def _tool_call(call_id: Any, name: Any, tool_input: Any, where: str) -> ToolCall:
    if not isinstance(name, str) or not name:
        raise _ShapeError(f"{where} must name the tool with a non-empty string")
    return ToolCall(id=_optional_text_at(call_id, f"{where} id"), name=name, input=tool_input)


def _content_blocks(blocks: list[Any], where: str) -> tuple[str | None, list[ToolCall]]:
    """Read Claude (``type``-tagged), Nova/Converse (key-tagged) and Mistral chunk content blocks."""
    texts: list[str] = []
    tools: list[ToolCall] = []
    for index, raw_block in enumerate(blocks):
        at = f"{where}[{index}]"
        block = _dict_at(raw_block, at)
        kind = block.get("type")
        if kind is not None:
            if kind == "text":
                texts.append(_text_at(block.get("text"), f"{at}.text"))
            elif kind == "tool_use":
                tools.append(_tool_call(block.get("id"), block.get("name"), block.get("input"), at))
            # Other tagged blocks (thinking, redacted_thinking, server tool results) carry no answer text.
            continue
        texts.extend(_text_at(block[key], f"{at}.{key}") for key in ("text", "Text") if key in block)
        for tool_key, (id_key, name_key, input_key) in (
            ("toolUse", ("toolUseId", "name", "input")),
            ("ToolUse", ("ToolUseId", "Name", "Input")),
        ):
            if tool_key in block:
                use = _dict_at(block[tool_key], f"{at}.{tool_key}")
                tools.append(_tool_call(use.get(id_key), use.get(name_key), use.get(input_key), f"{at}.{tool_key}"))
    # Citations split one answer into consecutive blocks, so they are joined without a separator.
    return ("".join(texts) if texts else None), tools


def _tool_calls(value: Any, where: str) -> list[ToolCall]:
    """Read chat-completions (``function``) and Cohere Command R (``name``/``parameters``) tool calls."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ShapeError(f"{where} must be a list, got {type(value).__name__}")
    calls: list[ToolCall] = []
    for index, raw_call in enumerate(value):
        at = f"{where}[{index}]"
        call = _dict_at(raw_call, at)
        if "function" in call:
            function = _dict_at(call["function"], f"{at}.function")
            tool_input = _tool_input(function.get("arguments"))
            calls.append(_tool_call(call.get("id"), function.get("name"), tool_input, f"{at}.function"))
        else:
            tool_input = call.get("parameters", call.get("input"))
            calls.append(_tool_call(call.get("id"), call.get("name"), tool_input, at))
    return calls


def _usage(body: dict[str, Any], scopes: list[_Scope]) -> tuple[int | None, int | None]:
    containers: list[_Scope] = []
    for path in _USAGE_CONTAINERS:
        node: Any = body
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            continue
        label = ".".join(path)
        containers.append((f"{label}.", _dict_at(node, label)))
    places = containers + scopes
    found_in = _first(places, _INPUT_TOKEN_KEYS)
    found_out = _first(places, _OUTPUT_TOKEN_KEYS)
    input_tokens = _count_at(found_in[1], found_in[0]) if found_in else None
    output_tokens = _count_at(found_out[1], found_out[0]) if found_out else None
    return input_tokens, output_tokens


def _stop(scopes: list[_Scope]) -> tuple[StopReason, str | None]:
    found = _first(scopes, _STOP_KEYS)
    raw = _optional_text_at(found[1], found[0]) if found else None
    return canonical_stop_reason(raw), raw


# --- bodies --------------------------------------------------------------------------------------------------------


def _scopes(body: dict[str, Any], spec: _DecodeSpec) -> list[_Scope]:
    """The objects that may hold answer fields, innermost first."""
    for output_key, message_key in _CONVERSE_MESSAGE_PATHS:
        if output_key in body:
            output = _dict_at(body[output_key], output_key)
            path = f"{output_key}.{message_key}"
            return [(f"{path}.", _dict_at(output.get(message_key), path)), ("", body)]
    node, prefix = body, ""
    if spec.choices_key is not None and spec.choices_key in body:
        choices = body[spec.choices_key]
        if not isinstance(choices, list) or not choices:
            raise _ShapeError(f"{spec.choices_key} must be a non-empty list")
        prefix = f"{spec.choices_key}[0]."
        node = _dict_at(choices[0], prefix[:-1])
    scopes: list[_Scope] = [(f"{prefix}message.", node["message"])] if isinstance(node.get("message"), dict) else []
    scopes.append((prefix, node))
    if node is not body:
        scopes.append(("", body))
    return scopes


def _result(family: ModelFamily, **fields: Any) -> NormalizedResult:
    input_tokens, output_tokens = fields.get("input_tokens"), fields.get("output_tokens")
    reported = input_tokens is not None or output_tokens is not None
    try:
        return NormalizedResult(family=family, usage="reported" if reported else "unknown", **fields)
    except ValidationError as exc:
        raise _ShapeError(f"the answer does not fit the normalized result ({exc.error_count()} error(s))") from exc


def _decode_text_dict(body: dict[str, Any], family: ModelFamily, spec: _DecodeSpec) -> NormalizedResult:
    scopes = _scopes(body, spec)
    text: str | None = None
    tools: list[ToolCall] = []
    found = _first(scopes, _TEXT_KEYS)
    if found is not None:
        key, value = found
        if isinstance(value, list):
            text, tools = _content_blocks(value, key)
        elif value is not None and not isinstance(value, str):
            raise _ShapeError(f"{key} must be text or a list of content blocks, got {type(value).__name__}")
        else:
            text = value
    tool_calls_found = _first(scopes, ("tool_calls",))
    if tool_calls_found is not None:
        tools.extend(_tool_calls(tool_calls_found[1], tool_calls_found[0]))
    if found is None and not tools:
        raise _ShapeError(f"found no answer text ({', '.join(_TEXT_KEYS)}) and no tool calls")
    stop_reason, raw_stop_reason = _stop(scopes)
    input_tokens, output_tokens = _usage(body, scopes)
    return _result(
        family,
        text=text,
        tool_calls=tools,
        stop_reason=stop_reason,
        raw_stop_reason=raw_stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _vector(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or not value:
        raise _ShapeError(f"{where} must be a non-empty list of numbers")
    vector: list[float] = []
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise _ShapeError(f"{where} must hold only finite numbers, found {type(number).__name__}")
        vector.append(float(number))
    return vector


def _vectors(value: Any, where: str) -> list[list[float]]:
    if isinstance(value, dict):
        # Cohere answers {"float": [...], "int8": [...]} when asked for several embedding types.
        if not value:
            raise _ShapeError(f"{where} holds no embedding type")
        kind = _EMBEDDING_TYPE_PREFERENCE if _EMBEDDING_TYPE_PREFERENCE in value else next(iter(value))
        return _vectors(value[kind], f"{where}.{kind}")
    if not isinstance(value, list) or not value:
        raise _ShapeError(f"{where} must be a non-empty list of vectors")
    if all(isinstance(item, list) for item in value):
        return [_vector(item, f"{where}[{index}]") for index, item in enumerate(value)]
    # A ResultSelector that kept $.Body.embedding hands over one bare vector.
    return [_vector(value, where)]


def _decode_embedding_dict(body: dict[str, Any], family: ModelFamily) -> NormalizedResult:
    if "embedding" in body:
        vectors = [_vector(body["embedding"], "embedding")]
    elif "embeddings" in body:
        vectors = _vectors(body["embeddings"], "embeddings")
    else:
        raise _ShapeError("found no embedding or embeddings field")
    input_tokens, output_tokens = _usage(body, [("", body)])
    return _result(
        family,
        text=None,
        stop_reason="not_applicable",
        embeddings=vectors,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _decode_body(body: Any, family: ModelFamily) -> NormalizedResult:
    spec = _SPECS.get(family, _TOP_LEVEL_ANSWER)
    if isinstance(body, str):
        # Never parsed: a ResultSelector kept only the text, and the text may itself be JSON the model wrote.
        return _result(family, text=body, stop_reason="unknown")
    if isinstance(body, list):
        if spec.embeddings:
            return _result(family, text=None, stop_reason="not_applicable", embeddings=_vectors(body, "body"))
        text, tools = _content_blocks(body, "content")
        if text is None and not tools:
            raise _ShapeError("the list holds no text or tool-use content block")
        return _result(family, text=text, tool_calls=tools, stop_reason="unknown")
    if isinstance(body, dict):
        is_converse = any(key in body for key, _ in _CONVERSE_MESSAGE_PATHS)
        if spec.embeddings and not is_converse:
            return _decode_embedding_dict(body, family)
        return _decode_text_dict(body, family, spec)
    raise _ShapeError("expected a Bedrock response object, a list of content blocks, or the answer text")


def decode(payload: Any, model_id: str, family: ModelFamily | str | None = None) -> NormalizedResult:
    """Read a Bedrock answer, in whatever form it reached Python, into one normalized shape.

    Parameters
    ----------
    payload
        Any of, detected in this order: the serialized Body (``bytes``, ``bytearray``, ``memoryview`` or a boto3
        ``StreamingBody``, which is consumed); a raw boto3 ``invoke_model`` response; a Step Functions invokeModel
        task result ``{"Body": ..., "ContentType": ...}`` (Body an object or a JSON string); a Converse result
        (PascalCase from the SDK integration, camelCase from boto3); the family's native Body; or what a
        ResultSelector kept of it (the answer text as a ``str``, a list of content blocks, or an object holding
        some of the text, stop-reason and usage fields); or an already normalized result (what resolve-output
        returns), whose extra fields are ignored.
    model_id
        The ``ModelId`` the answer came from; it selects the family.
    family
        Overrides detection from ``model_id``.

    Returns
    -------
    NormalizedResult
        Text (``None`` for embeddings or tool-only answers), tool calls, canonical and raw stop reason, token
        counts (``None`` and ``usage="unknown"`` where the payload reports none) and embeddings.

    Raises
    ------
    UnknownModelFamilyError
        No family can be determined.
    ResponseDecodingError
        The payload cannot be read as an answer of the family; the message names the family and what was seen.
    """
    resolved = resolve_family(model_id, family)
    seen = payload
    try:
        seen = _unwrap(payload)
        if _is_normalized(seen):
            return _revalidate(seen, resolved)
        return _decode_body(seen, resolved)
    except _ShapeError as exc:
        raise ResponseDecodingError(f"cannot decode a {resolved.value} response: {exc}; saw {describe(seen)}") from exc


_NORMALIZED_MARKERS = frozenset({"family", "stop_reason", "usage"})


def _is_normalized(value: Any) -> bool:
    # No family's native body carries all three keys; resolve-output's result (a NormalizedResult) always does.
    return isinstance(value, dict) and value.keys() >= _NORMALIZED_MARKERS


def _revalidate(value: dict[str, Any], family: ModelFamily) -> NormalizedResult:
    if value.get("family") != family.value:
        raise _ShapeError(f"a normalized result of family {value.get('family')!r}, not {family.value!r}")
    fields = {key: value[key] for key in NormalizedResult.model_fields if key in value}
    try:
        return NormalizedResult.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise _ShapeError(f"an invalid normalized result ({problems})") from exc
