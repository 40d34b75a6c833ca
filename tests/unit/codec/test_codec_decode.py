"""decode: every form a Bedrock answer reaches Python in, every family, and payloads that must be refused."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from botocore.response import StreamingBody

from companion.codec import ModelFamily, NormalizedResult, ToolCall, decode
from companion.errors import ResponseDecodingError

F = ModelFamily
LoadEvent = Callable[[str], dict[str, Any]]
WrapBoto3 = Callable[[bytes], dict[str, Any]]


class Expected(NamedTuple):
    text: str
    raw_stop_reason: str
    input_tokens: int | None
    output_tokens: int | None


EXPECTED: dict[ModelFamily, Expected] = {
    F.CLAUDE: Expected(
        "The March 14 outage was caused by an expired TLS certificate on the payments gateway, which made checkout "
        "fail for 47 minutes. The on-call team rotated the certificate and added an expiry alarm 30 days ahead.",
        "end_turn",
        118,
        49,
    ),
    F.NOVA: Expected(
        "Checkout failed for 47 minutes on March 14 because the payments gateway's TLS certificate expired. "
        "Engineers replaced the certificate and now alert 30 days before any certificate expires.",
        "end_turn",
        112,
        41,
    ),
    F.TITAN_TEXT: Expected(
        "On March 14 an expired TLS certificate on the payments gateway broke checkout for 47 minutes. The team "
        "renewed the certificate and set up an expiry alarm.",
        "FINISH",
        121,
        38,
    ),
    F.COHERE_COMMAND: Expected(
        " An expired TLS certificate on the payments gateway caused checkout to fail for 47 minutes on March 14. "
        "The certificate was rotated and a 30-day expiry alarm was added.",
        "COMPLETE",
        None,
        None,
    ),
    F.COHERE_COMMAND_R: Expected(
        "The checkout outage on March 14 lasted 47 minutes and was caused by an expired TLS certificate on the "
        "payments gateway. The team rotated the certificate and created an alarm that fires 30 days before expiry.",
        "COMPLETE",
        109,
        45,
    ),
    F.LLAMA: Expected(
        "The checkout outage on March 14 (47 minutes) happened because the payments gateway's TLS certificate "
        "expired. The certificate was rotated, and an alarm now warns 30 days before expiry.",
        "stop",
        131,
        44,
    ),
    F.MISTRAL_TEXT: Expected(
        " The payments gateway's TLS certificate expired on March 14, so checkout failed for 47 minutes. The team "
        "rotated it and added an alarm 30 days before expiry.",
        "stop",
        None,
        None,
    ),
    F.MISTRAL_CHAT: Expected(
        "Checkout was down for 47 minutes on March 14 because the TLS certificate of the payments gateway expired. "
        "The certificate was rotated and a 30-day expiry alarm was put in place.",
        "stop",
        None,
        None,
    ),
    F.AI21_JAMBA: Expected(
        "An expired TLS certificate on the payments gateway made checkout fail for 47 minutes on March 14. The team "
        "rotated the certificate and added an alarm that fires 30 days before expiry.",
        "stop",
        126,
        43,
    ),
}
CONVERSE_TEXT = (
    "The March 14 checkout outage lasted 47 minutes: the payments gateway's TLS certificate had expired. It was "
    "rotated, and an alarm now fires 30 days before a certificate expires."
)


def _payload_forms(event: dict[str, Any], boto3_response: WrapBoto3) -> dict[str, Callable[[], Any]]:
    body = event["Body"]
    raw = json.dumps(body).encode()
    return {
        "task_result": lambda: event,
        "sdk_task_result_with_json_string": lambda: {"Body": json.dumps(body), "ContentType": "application/json"},
        "bare_body": lambda: body,
        "bytes": lambda: raw,
        "bytearray": lambda: bytearray(raw),
        "memoryview": lambda: memoryview(raw),
        "streaming_body": lambda: StreamingBody(io.BytesIO(raw), len(raw)),
        "boto3_invoke_model_response": lambda: boto3_response(raw),
    }


FORMS = [
    "task_result",
    "sdk_task_result_with_json_string",
    "bare_body",
    "bytes",
    "bytearray",
    "memoryview",
    "streaming_body",
    "boto3_invoke_model_response",
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("family", list(EXPECTED))
def test_decodes_native_answer_in_every_payload_form(
    family: ModelFamily,
    form: str,
    bedrock_event: LoadEvent,
    boto3_response: WrapBoto3,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given the family's sample answer from events/bedrock, in one of the forms it can reach Python in
    payload = _payload_forms(bedrock_event(family.value), boto3_response)[form]()
    expected = EXPECTED[family]
    # When it is decoded
    result = decode(payload, model_ids[family])
    # Then text, stop reason and usage are read from the family's own fields
    assert result.family is family
    assert result.text == expected.text
    assert result.stop_reason == "end_turn"
    assert result.raw_stop_reason == expected.raw_stop_reason
    assert (result.input_tokens, result.output_tokens) == (expected.input_tokens, expected.output_tokens)
    assert result.usage == ("unknown" if expected.input_tokens is None else "reported")
    assert result.tool_calls == []
    assert result.embeddings is None


@pytest.mark.parametrize("family", list(ModelFamily))
def test_narrowed_text_is_the_answer_even_when_it_looks_like_json(
    family: ModelFamily,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given a ResultSelector that kept only the text, and the model answered with JSON
    payload = '{"summary": "expired certificate", "minutes": 47}'
    # When it is decoded
    result = decode(payload, model_ids[family])
    # Then the string is the answer, untouched, and nothing else is claimed
    assert result.text == payload
    assert (result.stop_reason, result.raw_stop_reason) == ("unknown", None)
    assert (result.input_tokens, result.output_tokens, result.usage) == (None, None, "unknown")


@pytest.mark.parametrize("family", list(EXPECTED))
def test_narrowed_text_of_each_sample_decodes(family: ModelFamily, model_ids: dict[ModelFamily, str]) -> None:
    # Given the sample's answer text as a ResultSelector would keep it
    # When it is decoded
    result = decode(EXPECTED[family].text, model_ids[family])
    # Then it is the text with unknown stop reason and usage
    assert result == NormalizedResult(family=family, text=EXPECTED[family].text, stop_reason="unknown")


@pytest.mark.parametrize("family", [F.CLAUDE, F.LLAMA, F.NOVA, F.TITAN_EMBED])
def test_converse_result_decodes_for_any_family(
    family: ModelFamily,
    bedrock_event: LoadEvent,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given an aws-sdk:bedrockruntime:converse result (PascalCase)
    payload = bedrock_event("converse")
    # When it is decoded with the step's model id
    result = decode(payload, model_ids[family])
    # Then it is read as Converse, and the resolved family is kept
    assert result.family is family
    assert result.text == CONVERSE_TEXT
    assert (result.stop_reason, result.raw_stop_reason) == ("end_turn", "end_turn")
    assert (result.input_tokens, result.output_tokens, result.usage) == (114, 46, "reported")


def test_boto3_converse_response_decodes_like_nova(model_ids: dict[ModelFamily, str]) -> None:
    # Given boto3's converse response, which is camelCase like Nova's native body
    payload = {
        "ResponseMetadata": {"HTTPStatusCode": 200},
        "output": {"message": {"role": "assistant", "content": [{"text": "Done."}]}},
        "stopReason": "max_tokens",
        "usage": {"inputTokens": 9, "outputTokens": 2, "totalTokens": 11},
        "metrics": {"latencyMs": 321},
    }
    # When it is decoded for a Claude id
    result = decode(payload, model_ids[F.CLAUDE])
    # Then the Converse fields are read
    assert (result.text, result.stop_reason, result.input_tokens, result.output_tokens) == ("Done.", "max_tokens", 9, 2)


@pytest.mark.parametrize(
    ("family", "payload", "text", "stop_reason", "tokens"),
    [
        (
            F.CLAUDE,
            [{"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}],
            "Hello world",
            "unknown",
            None,
        ),
        (F.NOVA, [{"text": "Hello"}], "Hello", "unknown", None),
        (F.CLAUDE, [{"Text": "From Converse content"}], "From Converse content", "unknown", None),
        (F.COHERE_COMMAND_R, {"text": "Hi", "stop_reason": "COMPLETE"}, "Hi", "end_turn", None),
        (F.LLAMA, {"generation": "Hi"}, "Hi", "unknown", None),
        (F.LLAMA, {"generation": "Hi", "prompt_token_count": 5, "generation_token_count": 1}, "Hi", "unknown", (5, 1)),
        (F.TITAN_TEXT, {"outputText": "Hi", "completionReason": "LENGTH"}, "Hi", "max_tokens", None),
        (
            F.TITAN_TEXT,
            {"outputText": "Hi", "tokenCount": 1, "completionReason": "FINISH"},
            "Hi",
            "end_turn",
            (None, 1),
        ),
        (F.CLAUDE, {"completion": "Hi", "stop_reason": "stop_sequence"}, "Hi", "stop_sequence", None),
        (
            F.CLAUDE,
            {"content": "Hi", "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 1}},
            "Hi",
            "end_turn",
            (3, 1),
        ),
        (
            F.CLAUDE,
            {"content": [{"type": "text", "text": "Hi"}], "stop_reason": "max_tokens"},
            "Hi",
            "max_tokens",
            None,
        ),
        (
            F.MISTRAL_CHAT,
            {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "stop_reason": "length"},
            "Hi",
            "max_tokens",
            None,
        ),
        (F.MISTRAL_TEXT, {"text": "Hi", "stop_reason": "stop"}, "Hi", "end_turn", None),
        (F.COHERE_COMMAND, {"text": "Hi", "finish_reason": "MAX_TOKENS"}, "Hi", "max_tokens", None),
        (
            F.AI21_JAMBA,
            {"content": "Hi", "finish_reason": "stop", "usage": {"prompt_tokens": 4, "completion_tokens": 1}},
            "Hi",
            "end_turn",
            (4, 1),
        ),
    ],
)
def test_narrowed_body_keeps_what_the_result_selector_kept(
    family: ModelFamily,
    payload: Any,
    text: str,
    stop_reason: str,
    tokens: tuple[int | None, int | None] | None,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given a Body a ResultSelector narrowed to some recognizable fields
    # When it is decoded
    result = decode(payload, model_ids[family])
    # Then what is there is read, and what is missing is marked unknown
    assert result.text == text
    assert result.stop_reason == stop_reason
    if tokens is None:
        assert (result.input_tokens, result.output_tokens, result.usage) == (None, None, "unknown")
    else:
        assert (result.input_tokens, result.output_tokens, result.usage) == (*tokens, "reported")


def test_decodes_titan_embedding(bedrock_event: LoadEvent, model_ids: dict[ModelFamily, str]) -> None:
    # Given Titan Embeddings' sample answer (256 dimensions)
    event = bedrock_event("titan_embed")
    # When it is decoded
    result = decode(event, model_ids[F.TITAN_EMBED])
    # Then the vector is the one embedding, with no text and the input token count
    assert result.embeddings == [event["Body"]["embedding"]]
    assert len(result.embeddings[0]) == 256
    assert (result.text, result.stop_reason) == (None, "not_applicable")
    assert (result.input_tokens, result.output_tokens, result.usage) == (14, None, "reported")


@pytest.mark.parametrize("form", FORMS)
def test_decodes_cohere_embeddings_in_every_payload_form(
    form: str,
    bedrock_event: LoadEvent,
    boto3_response: WrapBoto3,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given Cohere Embed's sample answer (two texts, 1024 dimensions) in one of its forms
    event = bedrock_event("cohere_embed")
    payload = _payload_forms(event, boto3_response)[form]()
    # When it is decoded
    result = decode(payload, model_ids[F.COHERE_EMBED])
    # Then there is one vector per text and no usage
    assert result.embeddings is not None
    assert result.embeddings == event["Body"]["embeddings"]
    assert [len(vector) for vector in result.embeddings] == [1024, 1024]
    assert (result.text, result.stop_reason, result.usage) == (None, "not_applicable", "unknown")


@pytest.mark.parametrize(
    ("family", "payload", "expected"),
    [
        (F.COHERE_EMBED, {"embeddings": {"float": [[0.1, 0.2]], "int8": [[12, 25]]}}, [[0.1, 0.2]]),
        (F.COHERE_EMBED, {"embeddings": {"int8": [[12, 25]]}}, [[12.0, 25.0]]),
        (F.TITAN_EMBED, [0.5, -0.5], [[0.5, -0.5]]),
        (F.COHERE_EMBED, [[0.5, -0.5], [1, 0]], [[0.5, -0.5], [1.0, 0.0]]),
    ],
)
def test_decodes_typed_and_narrowed_embeddings(
    family: ModelFamily,
    payload: Any,
    expected: list[list[float]],
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given embeddings keyed by type, or a vector a ResultSelector kept
    # When they are decoded
    result = decode(payload, model_ids[family])
    # Then the float vectors are returned (the first type when float was not asked for)
    assert result.embeddings == expected


@pytest.mark.parametrize(
    ("family", "body", "text", "calls"),
    [
        (
            F.CLAUDE,
            {
                "content": [
                    {"type": "text", "text": "Let me look that up."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_incident", "input": {"id": "INC-2291"}},
                ],
                "stop_reason": "tool_use",
            },
            "Let me look that up.",
            [ToolCall(id="toolu_01", name="get_incident", input={"id": "INC-2291"})],
        ),
        (
            F.NOVA,
            {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t-1", "name": "get_incident", "input": {"id": 7}}}],
                    },
                },
                "stopReason": "tool_use",
            },
            None,
            [ToolCall(id="t-1", name="get_incident", input={"id": 7})],
        ),
        (
            F.MISTRAL_CHAT,
            {
                "choices": [
                    {
                        "message": {
                            "role": "assistant",
                            "content": "",
                            "tool_calls": [
                                {"id": "c1", "function": {"name": "get_incident", "arguments": '{"id": "INC-2291"}'}},
                                {"id": "c2", "function": {"name": "page_oncall", "arguments": "{not json"}},
                            ],
                        },
                        "stop_reason": "tool_calls",
                    },
                ],
            },
            "",
            [
                ToolCall(id="c1", name="get_incident", input={"id": "INC-2291"}),
                ToolCall(id="c2", name="page_oncall", input="{not json"),
            ],
        ),
        (
            F.COHERE_COMMAND_R,
            {
                "text": "",
                "tool_calls": [{"name": "get_incident", "parameters": {"id": "INC-2291"}}],
                "finish_reason": "COMPLETE",
            },
            "",
            [ToolCall(name="get_incident", input={"id": "INC-2291"})],
        ),
        (
            F.CLAUDE,
            {
                "Output": {"Message": {"Content": [{"ToolUse": {"ToolUseId": "x", "Name": "lookup", "Input": {}}}]}},
                "StopReason": "tool_use",
            },
            None,
            [ToolCall(id="x", name="lookup", input={})],
        ),
    ],
)
def test_decodes_tool_calls(
    family: ModelFamily,
    body: dict[str, Any],
    text: str | None,
    calls: list[ToolCall],
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given an answer that asks for tools (invalid JSON arguments are model output, kept raw for a validator)
    # When it is decoded
    result = decode({"Body": body, "ContentType": "application/json"}, model_ids[family])
    # Then every tool call is listed with its id, name and input
    assert result.text == text
    assert result.tool_calls == calls


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        *[(raw, "end_turn") for raw in ("end_turn", "stop", "COMPLETE", "FINISH", "FINISHED", "Stop")],
        *[(raw, "max_tokens") for raw in ("max_tokens", "length", "LENGTH", "MAX_TOKENS", "model_length")],
        ("ERROR_LIMIT", "max_tokens"),
        ("model_context_window_exceeded", "max_tokens"),
        *[(raw, "stop_sequence") for raw in ("stop_sequence", "STOP_CRITERIA_MET", "STOP_SEQUENCE")],
        *[(raw, "tool_use") for raw in ("tool_use", "tool_calls", "TOOL_CALL")],
        *[(raw, "content_filtered") for raw in ("content_filtered", "CONTENT_FILTERED", "ERROR_TOXIC", "refusal")],
        ("guardrail_intervened", "content_filtered"),
        *[(raw, "error") for raw in ("ERROR", "malformed_model_output", "malformed_tool_use")],
        *[(raw, "other") for raw in ("pause_turn", "USER_CANCEL", "something_new")],
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_stop_reasons_are_canonical(raw: str | None, canonical: str, model_ids: dict[ModelFamily, str]) -> None:
    # Given an answer whose stop reason is one a family reports
    payload = {"generation": "Hi", "stop_reason": raw}
    # When it is decoded
    result = decode(payload, model_ids[F.LLAMA])
    # Then it is mapped case-insensitively, and the raw value is kept
    assert result.stop_reason == canonical
    assert result.raw_stop_reason == raw


def _hostile_cases() -> list[tuple[str, ModelFamily, Any, str]]:
    """(id, family, payload, text the error must contain)."""
    deep = "[" * 100_000 + "]" * 100_000
    return [
        ("invalid_utf8", F.CLAUDE, b'{"a":\xff}', "byte offset 5"),
        ("invalid_utf8_streaming", F.CLAUDE, StreamingBody(io.BytesIO(b"\xc3\x28"), 2), "byte offset 0"),
        ("not_json_bytes", F.CLAUDE, b'{"content": [', "line 1 column 14"),
        ("not_json_multiline", F.CLAUDE, b'{\n  "content":\n  nope}', "line 3 column 3"),
        ("nan_json", F.LLAMA, b'{"generation": NaN}', "NaN is not a JSON number"),
        ("deep_json", F.LLAMA, deep.encode(), "not usable JSON"),
        ("huge_int_json", F.LLAMA, b'{"generation": "x", "prompt_token_count": ' + b"9" * 5000 + b"}", "usable JSON"),
        ("body_string_not_json", F.CLAUDE, {"Body": "Hello there", "ContentType": "application/json"}, "not JSON"),
        ("empty_bytes", F.CLAUDE, b"", "not JSON"),
        ("empty_object", F.CLAUDE, {}, "an empty object"),
        ("unknown_keys", F.CLAUDE, {"answer": "x", "why": "y"}, "keys ['answer', 'why']"),
        ("number", F.CLAUDE, 42, "type int"),
        ("none", F.CLAUDE, None, "type NoneType"),
        ("empty_list", F.CLAUDE, [], "no text or tool-use content block"),
        ("list_of_numbers", F.CLAUDE, [1, 2], "content[0] must be an object"),
        ("content_number", F.CLAUDE, {"content": 42}, "content must be text or a list of content blocks"),
        ("content_object", F.CLAUDE, {"content": {"text": "x"}}, "content must be text or a list"),
        ("content_block_not_object", F.CLAUDE, {"content": ["x"]}, "content[0] must be an object"),
        ("block_text_not_string", F.CLAUDE, {"content": [{"type": "text", "text": 5}]}, "content[0].text must be"),
        ("tool_use_without_name", F.CLAUDE, {"content": [{"type": "tool_use", "id": "t"}]}, "non-empty string"),
        (
            "usage_string",
            F.CLAUDE,
            {"content": [], "usage": {"input_tokens": "12", "output_tokens": 3}},
            "input_tokens must be an integer",
        ),
        ("usage_negative", F.LLAMA, {"generation": "x", "generation_token_count": -1}, "must not be negative"),
        ("usage_bool", F.LLAMA, {"generation": "x", "prompt_token_count": True}, "must be an integer"),
        ("usage_float", F.LLAMA, {"generation": "x", "prompt_token_count": 1.5}, "must be an integer"),
        ("usage_not_object", F.CLAUDE, {"content": [], "usage": [1, 2]}, "usage must be an object"),
        ("stop_reason_number", F.LLAMA, {"generation": "x", "stop_reason": 1}, "stop_reason must be a string"),
        ("generation_number", F.LLAMA, {"generation": 7}, "generation must be text"),
        ("results_empty", F.TITAN_TEXT, {"inputTextTokenCount": 3, "results": []}, "results must be a non-empty list"),
        ("results_string", F.TITAN_TEXT, {"results": "x"}, "results must be a non-empty list"),
        ("choice_null", F.MISTRAL_CHAT, {"choices": [None]}, "choices[0] must be an object"),
        ("generations_missing_text", F.COHERE_COMMAND, {"generations": [{"id": "g"}]}, "found no answer text"),
        ("converse_output_string", F.CLAUDE, {"Output": "x"}, "Output must be an object"),
        ("converse_message_null", F.CLAUDE, {"Output": {"Message": None}}, "Output.Message must be an object"),
        ("tool_calls_string", F.COHERE_COMMAND_R, {"text": "", "tool_calls": "x"}, "tool_calls must be a list"),
        ("tool_call_function_null", F.MISTRAL_CHAT, {"message": {"tool_calls": [{"function": None}]}}, "function"),
        ("embedding_missing", F.TITAN_EMBED, {"inputTextTokenCount": 3}, "no embedding or embeddings"),
        ("embedding_strings", F.TITAN_EMBED, {"embedding": ["a"]}, "finite numbers"),
        ("embedding_empty", F.TITAN_EMBED, {"embedding": []}, "non-empty list of numbers"),
        ("embeddings_no_type", F.COHERE_EMBED, {"embeddings": {}}, "no embedding type"),
        ("embeddings_ragged", F.COHERE_EMBED, {"embeddings": [[0.1], "x"]}, "finite numbers"),
        ("text_stream_of_empty_object", F.CLAUDE, io.StringIO("{}"), "an empty object"),
    ]


HOSTILE = _hostile_cases()


@pytest.mark.parametrize(("family", "payload", "message"), [case[1:] for case in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_malformed_payload_raises_response_decoding_error(
    family: ModelFamily,
    payload: Any,
    message: str,
    model_ids: dict[ModelFamily, str],
) -> None:
    # Given a payload that is not a readable answer of the family
    # When it is decoded
    with pytest.raises(ResponseDecodingError) as caught:
        decode(payload, model_ids[family])
    # Then the named error says what is wrong and which family was expected
    assert message in str(caught.value)
    assert f"cannot decode a {family.value} response" in str(caught.value)


def test_error_does_not_echo_payload_content(model_ids: dict[ModelFamily, str]) -> None:
    # Given an unreadable payload carrying user data
    payload = {"secret_answer": "patient record 123", "more": 1}
    # When it is decoded
    with pytest.raises(ResponseDecodingError) as caught:
        decode(payload, model_ids[F.CLAUDE])
    # Then the error names the keys only, never the values (they are user data)
    assert "secret_answer" in str(caught.value)
    assert "patient record" not in str(caught.value)
