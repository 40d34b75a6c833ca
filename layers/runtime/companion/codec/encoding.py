"""NeutralRequest -> the InvokeModel ``Body`` each family expects (shared notes §5).

A family is described by one ``_EncodeSpec``: a layout function that renders the conversation, and the names the
family gives to the sampling parameters (``None`` where it has no such parameter). Families that share a format share
a layout function, never a copy of one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from companion.codec.ids import is_llama2, resolve_family
from companion.codec.models import ModelFamily, NeutralRequest, Turn
from companion.errors import RequestEncodingError

_ANTHROPIC_VERSION = "bedrock-2023-05-31"
_NOVA_SCHEMA_VERSION = "messages-v1"
_COHERE_EMBED_MAX_TEXTS = 96  # Cohere Embed rejects larger batches.

# Prompt-template families parse control tokens out of the prompt text, so a turn containing one could close its own
# turn and open a forged system or assistant turn: refuse such text instead of sending it.
_LLAMA3_CONTROL = re.compile(r"<\|[a-z_]+\|>")
_INST_CONTROL = re.compile(r"\[/?INST\]|<</?SYS>>")


class _ParamNames(NamedTuple):
    """What a family calls each neutral sampling parameter; ``None`` where it has no such parameter."""

    max_tokens: str | None
    temperature: str | None
    top_p: str | None
    stop: str | None


@dataclass(frozen=True)
class _EncodeSpec:
    layout: Callable[[NeutralRequest, str], dict[str, Any]]
    params: _ParamNames
    config_key: str | None = None  # Where sampling parameters nest (Nova inferenceConfig, Titan textGenerationConfig).
    leading: tuple[tuple[str, Any], ...] = ()  # Fixed fields the family requires.
    defaults: tuple[tuple[str, Any], ...] = ()  # Fields extra_body may replace.


def _system(request: NeutralRequest) -> str | None:
    # An empty system prompt is treated as none: several families reject an empty system block.
    return request.system or None


def _check_conversation(request: NeutralRequest, family: str, *, allow_prefill: bool) -> None:
    """Roles start with user and alternate; only prefill-capable families may end on an assistant turn."""
    previous = "assistant"
    for index, turn in enumerate(request.messages):
        if turn.role == previous:
            expected = "user" if index == 0 else f"alternating roles (turn {index - 1} is also {previous})"
            raise RequestEncodingError(f"{family}: messages[{index}] has role {turn.role}; expected {expected}")
        previous = turn.role
    if not allow_prefill and previous != "user":
        last = len(request.messages) - 1
        raise RequestEncodingError(
            f"{family}: messages[{last}] has role assistant; this family needs the last turn to be the user's",
        )


def _refuse_control_tokens(texts: Sequence[tuple[str, str]], pattern: re.Pattern[str] | None, family: str) -> None:
    if pattern is None:
        return
    for where, text in texts:
        found = pattern.search(text)
        if found is not None:
            raise RequestEncodingError(
                f"{family}: {where} contains the prompt-template control token {found.group()!r}, which would let "
                "the text forge a turn boundary; remove it or use a chat-format family",
            )


def _labelled(request: NeutralRequest) -> list[tuple[str, str]]:
    texts = [("system", request.system)] if request.system else []
    texts.extend((f"messages[{index}]", turn.content) for index, turn in enumerate(request.messages))
    return texts


# --- layouts -----------------------------------------------------------------------------------------------------


def _claude_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    _check_conversation(request, "claude", allow_prefill=True)
    body: dict[str, Any] = {}
    if (system := _system(request)) is not None:
        body["system"] = system
    body["messages"] = [{"role": turn.role, "content": turn.content} for turn in request.messages]
    return body


def _nova_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    _check_conversation(request, "nova", allow_prefill=True)
    body: dict[str, Any] = {}
    if (system := _system(request)) is not None:
        body["system"] = [{"text": system}]
    body["messages"] = [{"role": turn.role, "content": [{"text": turn.content}]} for turn in request.messages]
    return body


def _transcript(request: NeutralRequest, family: str, bot_label: str) -> str:
    """Render turns as a "User: ...\\n<Bot>: ..." transcript that ends by handing the turn to the model."""
    _check_conversation(request, family, allow_prefill=False)
    labels = {"user": "User", "assistant": bot_label}
    lines = [f"{labels[turn.role]}: {turn.content}" for turn in request.messages]
    lines.append(f"{bot_label}:")
    transcript = "\n".join(lines)
    system = _system(request)
    return f"{system}\n\n{transcript}" if system is not None else transcript


def _titan_text_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    return {"inputText": _transcript(request, "titan_text", "Bot")}


def _cohere_command_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    return {"prompt": _transcript(request, "cohere_command", "Chatbot")}


def _cohere_command_r_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    _check_conversation(request, "cohere_command_r", allow_prefill=False)
    *history, last = request.messages
    body: dict[str, Any] = {"message": last.content}
    if history:
        roles = {"user": "USER", "assistant": "CHATBOT"}
        body["chat_history"] = [{"role": roles[turn.role], "message": turn.content} for turn in history]
    if (system := _system(request)) is not None:
        body["preamble"] = system
    return body


def _llama3_prompt(system: str | None, turns: Sequence[Turn]) -> str:
    def block(role: str, text: str) -> str:
        return f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"

    parts = ["<|begin_of_text|>"]
    if system is not None:
        parts.append(block("system", system))
    parts.extend(block(turn.role, turn.content) for turn in turns)
    parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)


_PromptRenderer = Callable[[str | None, Sequence[Turn]], str]


def _inst_prompt(system_first_user: Callable[[str, str], str], answer_end: str) -> _PromptRenderer:
    """Build a renderer for the ``<s>[INST] ... [/INST]`` template shared by Llama 2 and Mistral text models.

    The two differ only in how the system text joins the first user turn and in what closes an answer.
    """

    def render(system: str | None, turns: Sequence[Turn]) -> str:
        parts = ["<s>[INST] "]
        for index, turn in enumerate(turns):
            if turn.role == "user":
                text = system_first_user(system, turn.content) if index == 0 and system is not None else turn.content
                parts.append(f"{text} [/INST]")
            else:
                parts.append(f" {turn.content}{answer_end}[INST] ")
        return "".join(parts)

    return render


_llama2_prompt = _inst_prompt(
    lambda system, user: f"<<SYS>>\n{system}\n<</SYS>>\n\n{user}",
    " </s><s>",
)
_mistral_prompt = _inst_prompt(
    lambda system, user: f"{system}\n\n{user}",
    "</s>",
)


def substitution_guard(model_id: str, family: ModelFamily) -> re.Pattern[str] | None:
    """The control tokens a family's prompt template gives a meaning to, which no turn text may contain.

    ``None`` for families that take turns as structured data. State machines that render text at run time refuse
    the same pattern (see :mod:`companion.codec.jsonata`).
    """
    if family is ModelFamily.LLAMA:
        return _INST_CONTROL if is_llama2(model_id) else _LLAMA3_CONTROL
    if family is ModelFamily.MISTRAL_TEXT:
        return _INST_CONTROL
    return None


def _llama_layout(request: NeutralRequest, model_id: str) -> dict[str, Any]:
    _check_conversation(request, "llama", allow_prefill=False)
    _refuse_control_tokens(_labelled(request), substitution_guard(model_id, ModelFamily.LLAMA), "llama")
    if is_llama2(model_id):
        return {"prompt": _llama2_prompt(_system(request), request.messages)}
    return {"prompt": _llama3_prompt(_system(request), request.messages)}


def _mistral_text_layout(request: NeutralRequest, model_id: str) -> dict[str, Any]:
    _check_conversation(request, "mistral_text", allow_prefill=False)
    _refuse_control_tokens(_labelled(request), substitution_guard(model_id, ModelFamily.MISTRAL_TEXT), "mistral_text")
    return {"prompt": _mistral_prompt(_system(request), request.messages)}


def _chat_completions_layout(family: str) -> Callable[[NeutralRequest, str], dict[str, Any]]:
    """Mistral chat and AI21 Jamba share the chat-completions message list."""

    def layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
        _check_conversation(request, family, allow_prefill=False)
        messages: list[dict[str, str]] = []
        if (system := _system(request)) is not None:
            messages.append({"role": "system", "content": system})
        messages.extend({"role": turn.role, "content": turn.content} for turn in request.messages)
        return {"messages": messages}

    return layout


def _embedding_texts(request: NeutralRequest, family: str) -> list[str]:
    if request.system:
        raise RequestEncodingError(f"{family}: an embedding model takes no system prompt")
    for index, turn in enumerate(request.messages):
        if turn.role != "user":
            raise RequestEncodingError(f"{family}: messages[{index}] is an assistant turn; embed only user turns")
    return [turn.content for turn in request.messages]


def _titan_embed_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    texts = _embedding_texts(request, "titan_embed")
    if len(texts) != 1:
        raise RequestEncodingError(f"titan_embed: embeds exactly one text per call, got {len(texts)} turns")
    return {"inputText": texts[0]}


def _cohere_embed_layout(request: NeutralRequest, _model_id: str) -> dict[str, Any]:
    texts = _embedding_texts(request, "cohere_embed")
    if len(texts) > _COHERE_EMBED_MAX_TEXTS:
        raise RequestEncodingError(
            f"cohere_embed: at most {_COHERE_EMBED_MAX_TEXTS} texts per call, got {len(texts)}; split the batch",
        )
    return {"texts": texts}


_CHAT_PARAMS = _ParamNames("max_tokens", "temperature", "top_p", "stop")
_COHERE_PARAMS = _ParamNames("max_tokens", "temperature", "p", "stop_sequences")
_NO_PARAMS = _ParamNames(None, None, None, None)

_SPECS: dict[ModelFamily, _EncodeSpec] = {
    ModelFamily.CLAUDE: _EncodeSpec(
        _claude_layout,
        _ParamNames("max_tokens", "temperature", "top_p", "stop_sequences"),
        leading=(("anthropic_version", _ANTHROPIC_VERSION),),
    ),
    ModelFamily.NOVA: _EncodeSpec(
        _nova_layout,
        _ParamNames("maxTokens", "temperature", "topP", "stopSequences"),
        config_key="inferenceConfig",
        leading=(("schemaVersion", _NOVA_SCHEMA_VERSION),),
    ),
    ModelFamily.TITAN_TEXT: _EncodeSpec(
        _titan_text_layout,
        _ParamNames("maxTokenCount", "temperature", "topP", "stopSequences"),
        config_key="textGenerationConfig",
    ),
    ModelFamily.COHERE_COMMAND: _EncodeSpec(_cohere_command_layout, _COHERE_PARAMS),
    ModelFamily.COHERE_COMMAND_R: _EncodeSpec(_cohere_command_r_layout, _COHERE_PARAMS),
    ModelFamily.LLAMA: _EncodeSpec(_llama_layout, _ParamNames("max_gen_len", "temperature", "top_p", None)),
    ModelFamily.MISTRAL_TEXT: _EncodeSpec(_mistral_text_layout, _CHAT_PARAMS),
    ModelFamily.MISTRAL_CHAT: _EncodeSpec(_chat_completions_layout("mistral_chat"), _CHAT_PARAMS),
    ModelFamily.AI21_JAMBA: _EncodeSpec(_chat_completions_layout("ai21_jamba"), _CHAT_PARAMS),
    ModelFamily.TITAN_EMBED: _EncodeSpec(_titan_embed_layout, _NO_PARAMS),
    ModelFamily.COHERE_EMBED: _EncodeSpec(
        _cohere_embed_layout,
        _NO_PARAMS,
        defaults=(("input_type", "search_document"),),
    ),
}


def _sampling(request: NeutralRequest, names: _ParamNames, family: ModelFamily) -> dict[str, Any]:
    wanted: list[tuple[str, str | None, Any]] = [
        ("temperature", names.temperature, request.temperature),
        ("top_p", names.top_p, request.top_p),
        ("stop_sequences", names.stop, list(request.stop_sequences) or None),
    ]
    # Embedding families have no token budget; the neutral default must not make every embed request fail.
    params: dict[str, Any] = {names.max_tokens: request.max_tokens} if names.max_tokens is not None else {}
    for neutral_name, family_name, value in wanted:
        if value is None:
            continue
        if family_name is None:
            raise RequestEncodingError(f"{family.value}: {neutral_name} is not supported by this model family")
        params[family_name] = value
    return params


def _json_copy(value: Any, where: str) -> Any:
    """Copy an extra_body value through JSON, which proves it serializable and detaches it from the request."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise RequestEncodingError(f"extra_body[{where!r}] is not JSON-serializable: {exc}") from exc


def _merge_extra(body: dict[str, Any], extra: dict[str, Any], path: str = "") -> None:
    for key, value in extra.items():
        where = f"{path}{key}"
        if key not in body:
            body[key] = _json_copy(value, where)
        elif isinstance(body[key], dict) and isinstance(value, dict):
            # Lets extra_body add e.g. inferenceConfig.topK next to the maxTokens the codec set.
            _merge_extra(body[key], value, f"{where}.")
        else:
            raise RequestEncodingError(
                f"extra_body key {where!r} collides with a field the codec sets from the neutral request; "
                "set it through the request's own field instead",
            )


def encode(request: NeutralRequest, model_id: str, family: ModelFamily | str | None = None) -> dict[str, Any]:
    """Build the InvokeModel ``Body`` of a request for the model's family.

    Parameters
    ----------
    request
        The provider-neutral request.
    model_id
        The ``ModelId`` the body will be sent to; it selects the family (and, for Llama, the prompt template).
    family
        Overrides detection from ``model_id`` (needed for opaque provisioned-model or application-profile ARNs).

    Returns
    -------
    dict
        A fresh, JSON-serializable body; equal requests give equal bodies with the same key order.

    Raises
    ------
    UnknownModelFamilyError
        No family can be determined.
    RequestEncodingError
        The request breaks a rule of the family (role order, unsupported parameter, extra_body collision, ...).
    """
    return encode_json(request, model_id, family)[0]


def encode_json(
    request: NeutralRequest, model_id: str, family: ModelFamily | str | None = None
) -> tuple[dict[str, Any], bytes]:
    """:func:`encode`, plus the Body serialized as compact UTF-8 JSON, which callers that send or measure it need.

    Serializing is also the check that the body can be sent at all, so returning the bytes spares callers a second
    pass over a body that may be hundreds of KiB.
    """
    resolved = resolve_family(model_id, family)
    spec = _SPECS[resolved]
    body: dict[str, Any] = dict(spec.leading)
    body.update(spec.layout(request, model_id))
    sampling = _sampling(request, spec.params, resolved)
    if spec.config_key is not None:
        body[spec.config_key] = sampling
    else:
        body.update(sampling)
    body.update((key, value) for key, value in spec.defaults if key not in request.extra_body)
    _merge_extra(body, request.extra_body)
    try:
        # Bedrock reads the body as UTF-8 JSON: a lone surrogate would only fail later, inside the state machine.
        serialized = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise RequestEncodingError(f"{resolved.value}: the request cannot be sent as UTF-8 JSON: {exc}") from exc
    return body, serialized
