"""The codec's facts as JSONata, for state machines that build a Body or read an answer without a Lambda.

Two things are emitted, both from the Python codec so a family's shapes exist once:

- :func:`body_expression`: the InvokeModel ``Body`` of a request whose texts hold *slots* (``slot(0)``, ...). The
  request is encoded by :func:`companion.codec.encode` itself, with the slot markers standing in for text only known
  at run time; every string of the encoded Body that holds a marker becomes a JSONata concatenation of its literal
  parts and the slot's expression. Whatever a family does with the texts (a chat list, Llama's prompt template, a
  transcript) is therefore the encoder's work, checked at compile time exactly as for a rendered request.
- :func:`answer_expression`: reads text, raw and canonical stop reason, and tokens from a family's answer Body,
  from :data:`ANSWER_FIELDS` (tests hold it equal to :func:`companion.codec.decode` on every family's sample).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from companion.codec.decoding import STOP_REASONS
from companion.codec.encoding import encode, substitution_guard
from companion.codec.ids import resolve_family
from companion.codec.models import ModelFamily, NeutralRequest
from companion.errors import RequestEncodingError

_SLOT_OPEN = "\ue000"
_SLOT_CLOSE = "\ue001"
_SLOT = re.compile(f"{_SLOT_OPEN}([0-9]+){_SLOT_CLOSE}")


def slot(index: int) -> str:
    """The marker that stands for run-time text number ``index`` in a request given to :func:`body_expression`."""
    return f"{_SLOT_OPEN}{index}{_SLOT_CLOSE}"


def has_slot_marker(text: str) -> bool:
    """Whether ``text`` holds a character reserved for slot markers (such text cannot be compiled)."""
    return _SLOT_OPEN in text or _SLOT_CLOSE in text


@dataclass(frozen=True)
class AnswerFields:
    """Where a text family's answer Body keeps each field, as JSONata paths relative to the Body.

    Each field lists candidate paths, first present wins (chat-completions families name the stop reason either
    way). ``text_blocks`` means the text is a list of blocks joined without separator (citations split answers).
    """

    text: str
    stop: tuple[str, ...]
    input_tokens: tuple[str, ...] = ()
    output_tokens: tuple[str, ...] = ()
    text_blocks: bool = False


_CHAT_COMPLETIONS = AnswerFields(
    text="choices[0].message.content",
    stop=("choices[0].finish_reason", "choices[0].stop_reason"),
    input_tokens=("usage.prompt_tokens",),
    output_tokens=("usage.completion_tokens",),
)

ANSWER_FIELDS: Mapping[ModelFamily, AnswerFields] = {
    ModelFamily.CLAUDE: AnswerFields(
        text='content[type = "text"].text',
        stop=("stop_reason",),
        input_tokens=("usage.input_tokens",),
        output_tokens=("usage.output_tokens",),
        text_blocks=True,
    ),
    ModelFamily.NOVA: AnswerFields(
        text="output.message.content.text",
        stop=("stopReason",),
        input_tokens=("usage.inputTokens",),
        output_tokens=("usage.outputTokens",),
        text_blocks=True,
    ),
    ModelFamily.TITAN_TEXT: AnswerFields(
        text="results[0].outputText",
        stop=("results[0].completionReason",),
        input_tokens=("inputTextTokenCount",),
        output_tokens=("results[0].tokenCount",),
    ),
    ModelFamily.COHERE_COMMAND: AnswerFields(text="generations[0].text", stop=("generations[0].finish_reason",)),
    ModelFamily.COHERE_COMMAND_R: AnswerFields(
        text="text",
        stop=("finish_reason",),
        input_tokens=("meta.billed_units.input_tokens",),
        output_tokens=("meta.billed_units.output_tokens",),
    ),
    ModelFamily.LLAMA: AnswerFields(
        text="generation",
        stop=("stop_reason",),
        input_tokens=("prompt_token_count",),
        output_tokens=("generation_token_count",),
    ),
    ModelFamily.MISTRAL_TEXT: AnswerFields(text="outputs[0].text", stop=("outputs[0].stop_reason",)),
    ModelFamily.MISTRAL_CHAT: _CHAT_COMPLETIONS,
    ModelFamily.AI21_JAMBA: _CHAT_COMPLETIONS,
}
"""Every text family's answer fields; embedding families have no text answer and are absent."""

TEXT_FAMILIES = frozenset(ANSWER_FIELDS)


def _first_of(body: str, paths: tuple[str, ...]) -> str:
    if not paths:
        return "null"
    expression = f"{body}.{paths[-1]}"
    for path in reversed(paths[:-1]):
        expression = f"($exists({body}.{path}) ? {body}.{path} : {expression})"
    return expression


def answer_expression(family: ModelFamily | str, body: str = "$b") -> str:
    """A JSONata expression reading ``body`` (a variable holding the family's answer Body) into
    ``{"text", "raw_stop_reason", "stop_reason", "input_tokens", "output_tokens"}``.

    ``text`` is undefined (the key is absent) when the answer holds none, which callers treat as
    ``ResponseDecodingError``; token counts that are not numbers are null, as the codec reports them.

    Raises
    ------
    RequestEncodingError
        The family has no text answer (an embedding family).
    """
    fields = ANSWER_FIELDS.get(ModelFamily(family))
    if fields is None:
        raise RequestEncodingError(f"{family}: an embedding family has no text answer to read")
    text = f"{body}.{fields.text}"
    if fields.text_blocks:
        text = f'($exists({text}) ? $join({text}, "") : {text})'
    stop_table = json.dumps(STOP_REASONS, separators=(",", ":"), sort_keys=True)
    return (
        "(\n"
        f"  $text := {text};\n"
        f"  $raw := {_first_of(body, fields.stop)};\n"
        f"  $in := {_first_of(body, fields.input_tokens)};\n"
        f"  $out := {_first_of(body, fields.output_tokens)};\n"
        f"  $known := {stop_table};\n"
        '  $key := $type($raw) = "string" ? $lowercase($trim($raw)) : "";\n'
        "  {\n"
        '    "text": $type($text) = "string" ? $text,\n'
        '    "raw_stop_reason": $type($raw) = "string" ? $raw : null,\n'
        '    "stop_reason": $key = "" ? "unknown"\n'
        '      : ($exists($lookup($known, $key)) ? $lookup($known, $key) : "other"),\n'
        '    "input_tokens": $type($in) = "number" ? $in : null,\n'
        '    "output_tokens": $type($out) = "number" ? $out : null\n'
        "  }\n"
        ")"
    )


def _regex_literal(pattern: re.Pattern[str]) -> str:
    return "/" + pattern.pattern.replace("/", "\\/") + "/"


def body_expression(
    request: NeutralRequest,
    model_id: str,
    family: ModelFamily | str | None,
    slots: Mapping[int, str],
) -> str:
    """The Body of ``request`` as a JSONata expression, each ``slot(i)`` marker replaced by ``slots[i]``.

    Parameters
    ----------
    request
        A request whose system and message texts may hold :func:`slot` markers.
    model_id, family
        As for :func:`companion.codec.encode`.
    slots
        Slot number -> a JSONata expression that evaluates to the slot's text at run time.

    Returns
    -------
    str
        A JSONata expression (without ``{% %}``). For families whose prompt template gives control tokens a
        meaning (Llama, Mistral text), a slot's text holding one fails the evaluation with ``$error``, as the
        encoder refuses such text in Python.

    Raises
    ------
    UnknownModelFamilyError, RequestEncodingError
        From the encoder: the request breaks a rule of the family, whatever the slots will hold.
    """
    resolved = resolve_family(model_id, family)
    body = encode(request, model_id, resolved)
    guard = substitution_guard(model_id, resolved)
    text = _emit(body, slots, guarded=guard is not None)
    if guard is None:
        return text
    message = json.dumps(
        f"{resolved.value}: a variable's text contains a prompt-template control token, which would let it forge "
        "a turn boundary; remove it or use a chat-format family"
    )
    check = f"function($t) {{ $contains($t, {_regex_literal(guard)}) ? $error({message}) : $t }}"
    return f"(\n  $guard := {check};\n  {text}\n)"


def _emit(value: Any, slots: Mapping[int, str], *, guarded: bool) -> str:
    if isinstance(value, str):
        return _emit_text(value, slots, guarded=guarded)
    if isinstance(value, dict):
        members = ", ".join(f"{json.dumps(key)}: {_emit(item, slots, guarded=guarded)}" for key, item in value.items())
        return "{" + members + "}"
    if isinstance(value, list):
        if not any(_holds_slot(item) for item in value):
            # A literal array stays one value; an array constructor would flatten nested arrays from expressions.
            return json.dumps(value, ensure_ascii=False)
        return "[" + ", ".join(_emit(item, slots, guarded=guarded) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _holds_slot(value: Any) -> bool:
    if isinstance(value, str):
        return _SLOT.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_slot(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_slot(item) for item in value)
    return False


def _emit_text(text: str, slots: Mapping[int, str], *, guarded: bool) -> str:
    parts: list[str] = []
    position = 0
    for match in _SLOT.finditer(text):
        if match.start() > position:
            parts.append(json.dumps(text[position : match.start()], ensure_ascii=False))
        expression = slots[int(match.group(1))]
        parts.append(f"$guard({expression})" if guarded else f"({expression})")
        position = match.end()
    if position < len(text) or not parts:
        parts.append(json.dumps(text[position:], ensure_ascii=False))
    return " & ".join(parts)


__all__ = [
    "ANSWER_FIELDS",
    "TEXT_FAMILIES",
    "AnswerFields",
    "answer_expression",
    "body_expression",
    "has_slot_marker",
    "slot",
]
