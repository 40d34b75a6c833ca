"""Property tests: the codec only ever fails with its named errors, and native answers round-trip."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.response import StreamingBody
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from companion.codec import ModelFamily, NeutralRequest, Turn, decode, encode
from companion.errors import RequestEncodingError, ResponseDecodingError

F = ModelFamily
# An opaque ARN plus an explicit family reaches every family without depending on id detection.
OPAQUE_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/w3e4r5t6y7u8"
TEXT_FAMILIES = [family for family in ModelFamily if family not in {F.TITAN_EMBED, F.COHERE_EMBED}]
ENCODE_TARGETS = [(OPAQUE_ARN, family) for family in TEXT_FAMILIES] + [("meta.llama2-13b-chat-v1", None)]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Key names the decoder looks for, so that generated objects reach its deeper paths, not only "no answer" errors.
KNOWN_KEYS = [
    "Body", "body", "ContentType", "content", "Content", "text", "Text", "type", "outputText", "generation",
    "completion", "message", "Message", "output", "Output", "results", "generations", "outputs", "choices",
    "stop_reason", "stopReason", "StopReason", "finish_reason", "completionReason", "usage", "Usage", "meta",
    "billed_units", "input_tokens", "output_tokens", "inputTokens", "outputTokens", "InputTokens", "OutputTokens",
    "prompt_tokens", "completion_tokens", "prompt_token_count", "generation_token_count", "inputTextTokenCount",
    "tokenCount", "tool_calls", "function", "arguments", "name", "id", "input", "parameters", "toolUse", "ToolUse",
    "toolUseId", "embedding", "embeddings", "float",
]  # fmt: skip

short_text = st.text(min_size=1, max_size=30)
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**15)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["text", "tool_use", "end_turn", "float"])
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=30,
)


@st.composite
def neutral_requests(draw: st.DrawFn) -> NeutralRequest:
    count = draw(st.integers(min_value=1, max_value=6))
    turns = [Turn(role="user" if index % 2 == 0 else "assistant", content=draw(short_text)) for index in range(count)]
    probability = st.none() | st.floats(min_value=0.0, max_value=1.0)
    extra_values = json_values | st.just(float("nan")) | st.just({1, 2})
    return NeutralRequest(
        system=draw(st.none() | st.text(max_size=30)),
        messages=turns,
        max_tokens=draw(st.integers(min_value=1, max_value=200_000)),
        temperature=draw(probability),
        top_p=draw(probability),
        stop_sequences=draw(st.lists(short_text, max_size=3)),
        extra_body=draw(
            st.dictionaries(
                st.sampled_from(["top_k", "max_tokens", "inferenceConfig", "prompt", "input_type"])
                | st.text(max_size=6),
                extra_values,
                max_size=2,
            ),
        ),
    )


@pytest.mark.parametrize(("model_id", "family"), ENCODE_TARGETS)
@FAST
@given(neutral=neutral_requests())
def test_encode_returns_json_or_raises_only_request_encoding_error(
    model_id: str,
    family: ModelFamily | None,
    neutral: NeutralRequest,
) -> None:
    # Given any request whose roles alternate starting with the user
    # When it is encoded for a text family
    try:
        body = encode(neutral, model_id, family)
    except RequestEncodingError:
        event("refused")
        return
    event("encoded")
    # Then the body is a dict JSON can send as UTF-8, and encoding is deterministic
    assert isinstance(body, dict)
    serialized = json.dumps(body, ensure_ascii=False, allow_nan=False)
    serialized.encode("utf-8")
    assert json.dumps(encode(neutral, model_id, family), ensure_ascii=False) == serialized


def _serialized_forms(value: Any) -> st.SearchStrategy[Any]:
    raw = json.dumps(value).encode()
    return st.sampled_from(
        [raw, bytearray(raw), {"Body": json.dumps(value)}, {"body": raw, "contentType": "application/json"}],
    )


payloads = (
    json_values
    | json_values.map(lambda value: {"Body": value, "ContentType": "application/json"})
    | json_values.flatmap(_serialized_forms)
    | st.binary(max_size=64)
    | st.binary(max_size=64).map(lambda raw: StreamingBody(io.BytesIO(raw), len(raw)))
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=payloads, family=st.sampled_from(list(ModelFamily)))
def test_decode_raises_only_response_decoding_error(payload: Any, family: ModelFamily) -> None:
    # Given any JSON-like value, serialized body or byte string
    # When it is decoded for any family
    try:
        result = decode(payload, OPAQUE_ARN, family)
    except ResponseDecodingError:
        event("refused")
        return
    event("decoded")
    # Then it either decodes into a result of that family or fails with the named error
    assert result.family is family


NativeBuilder = Callable[[str, str, int, int], tuple[dict[str, Any], int | None, int | None]]

NATIVE: dict[ModelFamily, NativeBuilder] = {
    F.CLAUDE: lambda text, stop, tin, tout: (
        {
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "usage": {"input_tokens": tin, "output_tokens": tout},
        },
        tin,
        tout,
    ),
    F.NOVA: lambda text, stop, tin, tout: (
        {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop,
            "usage": {"inputTokens": tin, "outputTokens": tout, "totalTokens": tin + tout},
        },
        tin,
        tout,
    ),
    F.TITAN_TEXT: lambda text, stop, tin, tout: (
        {"inputTextTokenCount": tin, "results": [{"tokenCount": tout, "outputText": text, "completionReason": stop}]},
        tin,
        tout,
    ),
    F.COHERE_COMMAND: lambda text, stop, tin, tout: (
        {"id": "g", "generations": [{"id": "g0", "text": text, "finish_reason": stop}], "prompt": "User: hi"},
        None,
        None,
    ),
    F.COHERE_COMMAND_R: lambda text, stop, tin, tout: (
        {"text": text, "finish_reason": stop, "meta": {"billed_units": {"input_tokens": tin, "output_tokens": tout}}},
        tin,
        tout,
    ),
    F.LLAMA: lambda text, stop, tin, tout: (
        {"generation": text, "prompt_token_count": tin, "generation_token_count": tout, "stop_reason": stop},
        tin,
        tout,
    ),
    F.MISTRAL_TEXT: lambda text, stop, tin, tout: ({"outputs": [{"text": text, "stop_reason": stop}]}, None, None),
    F.MISTRAL_CHAT: lambda text, stop, tin, tout: (
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "stop_reason": stop}]},
        None,
        None,
    ),
    F.AI21_JAMBA: lambda text, stop, tin, tout: (
        {
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": stop}],
            "usage": {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout},
        },
        tin,
        tout,
    ),
}

raw_stop_reasons = st.sampled_from(["end_turn", "stop", "COMPLETE", "FINISH", "length", "tool_use", "ERROR"]) | st.text(
    min_size=1,
    max_size=12,
)
counts = st.integers(min_value=0, max_value=2_000_000)


def _wrap(body: dict[str, Any], form: str) -> Any:
    raw = json.dumps(body).encode()
    return {
        "bare": body,
        "task_result": {"Body": body, "ContentType": "application/json"},
        "bytes": raw,
        "streaming": StreamingBody(io.BytesIO(raw), len(raw)),
    }[form]


forms = st.sampled_from(["bare", "task_result", "bytes", "streaming"])


@pytest.mark.parametrize("family", list(NATIVE))
@FAST
@given(text=st.text(max_size=80), stop=raw_stop_reasons, tin=counts, tout=counts, form=forms)
def test_native_answer_round_trips(family: ModelFamily, text: str, stop: str, tin: int, tout: int, form: str) -> None:
    # Given a native answer of the family built from arbitrary text, stop reason and usage
    body, expected_in, expected_out = NATIVE[family](text, stop, tin, tout)
    # When it is decoded from any payload form
    result = decode(_wrap(body, form), OPAQUE_ARN, family)
    # Then the text, the raw stop reason and the usage the family reports come back unchanged
    assert result.text == text
    assert result.raw_stop_reason == stop
    assert (result.input_tokens, result.output_tokens) == (expected_in, expected_out)
    assert result.usage == ("unknown" if expected_in is None else "reported")


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a JSON value, so one of them can be replaced."""
    pairs: list[tuple[Any, Any]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        pairs.append((value, key))
        pairs.extend(_slots(child))
    return pairs


@st.composite
def mutated_native_answers(draw: st.DrawFn) -> tuple[ModelFamily, dict[str, Any]]:
    family = draw(st.sampled_from(list(NATIVE)))
    body, _, _ = NATIVE[family](draw(st.text(max_size=10)), draw(raw_stop_reasons), draw(counts), draw(counts))
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        container, key = draw(st.sampled_from(_slots(body)))
        container[key] = draw(json_values)
    return family, body


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=mutated_native_answers(), form=forms)
def test_decode_of_damaged_native_answer_raises_only_response_decoding_error(
    answer: tuple[ModelFamily, dict[str, Any]],
    form: str,
) -> None:
    # Given a native answer with one or two fields replaced by arbitrary JSON (wrong types, nulls, nesting)
    family, body = answer
    # When it is decoded
    try:
        result = decode(_wrap(body, form), OPAQUE_ARN, family)
    except ResponseDecodingError:
        event("refused")
        return
    event("decoded")
    # Then it either still decodes or fails with the named error
    assert result.family is family


vectors = st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=1, max_size=16)


@FAST
@given(vector=vectors, tin=counts, form=forms)
def test_titan_embedding_round_trips(vector: list[float], tin: int, form: str) -> None:
    # Given Titan Embeddings' answer built from an arbitrary vector and token count
    body = {"embedding": vector, "inputTextTokenCount": tin}
    # When it is decoded
    result = decode(_wrap(body, form), OPAQUE_ARN, F.TITAN_EMBED)
    # Then the vector and the count come back
    assert result.embeddings == [vector]
    assert (result.input_tokens, result.usage) == (tin, "reported")


@FAST
@given(batch=st.lists(vectors, min_size=1, max_size=4), typed=st.booleans(), form=forms)
def test_cohere_embeddings_round_trip(batch: list[list[float]], typed: bool, form: str) -> None:
    # Given Cohere Embed's answer, as a plain list or keyed by embedding type
    body = {"id": "e", "embeddings": {"float": batch} if typed else batch, "response_type": "embeddings_floats"}
    # When it is decoded
    result = decode(_wrap(body, form), OPAQUE_ARN, F.COHERE_EMBED)
    # Then every vector comes back, and no usage is claimed
    assert result.embeddings == batch
    assert result.usage == "unknown"
