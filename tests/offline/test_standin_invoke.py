"""The simulated Bedrock runtime: every family's body is checked as Bedrock would and answered in its native format."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_standin import BedrockStandIn

from companion.codec import ModelFamily, NeutralRequest, Turn, decode, encode
from tests.model_ids import EMBEDDING_FAMILIES, MODEL_IDS

EVENTS = Path(__file__).resolve().parents[2] / "events" / "bedrock"

TEXT_FAMILIES = [family for family in MODEL_IDS if family not in EMBEDDING_FAMILIES]
# Families whose native answer carries token counts (shared notes §5).
REPORTS_USAGE = {
    ModelFamily.CLAUDE,
    ModelFamily.NOVA,
    ModelFamily.TITAN_TEXT,
    ModelFamily.COHERE_COMMAND_R,
    ModelFamily.LLAMA,
    ModelFamily.AI21_JAMBA,
}
QUESTION = "Summarize the incident report below in two sentences please"
ANSWER = re.compile(r"Simulated answer [0-9a-f]{8} to: Summarize the incident report below in two sentences \.\.\.")


def conversation(**overrides: Any) -> NeutralRequest:
    fields: dict[str, Any] = {
        "system": "You are terse.",
        "messages": [
            Turn(role="user", content="Hello"),
            Turn(role="assistant", content="Hi, how can I help?"),
            Turn(role="user", content=QUESTION),
        ],
    }
    fields.update(overrides)
    return NeutralRequest(**fields)


def invoke(standin: BedrockStandIn, model_id: str, body: Any) -> dict[str, Any]:
    return standin.invoke_model(model_id, body, state_name="Invoke Model", attempt=0)


def shape(value: Any) -> Any:
    """Key structure of a JSON value: what a consumer navigating it depends on (list lengths and values ignored)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@pytest.fixture
def standin() -> BedrockStandIn:
    return BedrockStandIn()


@pytest.mark.parametrize("family", TEXT_FAMILIES, ids=str)
def test_every_text_family_accepts_the_codec_body_and_answers_deterministically(
    standin: BedrockStandIn,
    family: ModelFamily,
) -> None:
    # Given the body the project's codec builds for a three-turn conversation
    model_id = MODEL_IDS[family]
    body = encode(conversation(), model_id)

    # When the stand-in answers it twice
    first = invoke(standin, model_id, body)
    second = invoke(standin, model_id, body)

    # Then the answer has the family's native shape, decodes to the deterministic text, and repeats exactly
    assert shape(first) == shape(json.loads((EVENTS / f"{family.value}.json").read_text())["Body"])
    result = decode(first, model_id)
    assert result.text is not None
    assert ANSWER.fullmatch(result.text.strip())
    assert result.stop_reason == "end_turn"
    assert first == second
    if family in REPORTS_USAGE:
        assert result.usage == "reported"
        assert result.input_tokens is not None
        assert result.input_tokens > 0
        assert result.output_tokens == len(result.text.split())


@pytest.mark.parametrize("family", TEXT_FAMILIES, ids=str)
def test_answers_tell_requests_apart(standin: BedrockStandIn, family: ModelFamily) -> None:
    # Given two requests that differ only in the question
    model_id = MODEL_IDS[family]
    other = conversation(messages=[Turn(role="user", content="What changed after the outage?")])

    # When both are answered
    first = decode(invoke(standin, model_id, encode(conversation(), model_id)), model_id).text
    second = decode(invoke(standin, model_id, encode(other, model_id)), model_id).text

    # Then each answer quotes its own question and carries a different hash
    assert first is not None
    assert second is not None
    assert "What changed after the outage?" in second
    assert first.split()[2] != second.split()[2]


@pytest.mark.parametrize("family", TEXT_FAMILIES, ids=str)
def test_the_token_budget_truncates_the_answer(standin: BedrockStandIn, family: ModelFamily) -> None:
    # Given a budget smaller than the deterministic answer
    model_id = MODEL_IDS[family]
    body = encode(conversation(max_tokens=4), model_id)

    # When it is answered
    result = decode(invoke(standin, model_id, body), model_id)

    # Then the answer is cut to the budget and says so with the family's max-tokens stop reason
    assert result.text is not None
    assert len(result.text.split()) == 4
    assert result.stop_reason == "max_tokens"


def test_titan_embeddings_have_the_requested_dimension_and_unit_length(standin: BedrockStandIn) -> None:
    # Given Titan v2 bodies with the default and with an explicit dimension
    model_id = MODEL_IDS[ModelFamily.TITAN_EMBED]
    body = encode(NeutralRequest(messages=[Turn(role="user", content="expired certificate")]), model_id)

    # When both are embedded
    default = decode(invoke(standin, model_id, body), model_id)
    small = decode(invoke(standin, model_id, {**body, "dimensions": 256}), model_id)

    # Then the dimensions are 1024 and 256, the vectors are normalized, and the same text embeds the same way
    assert default.embeddings is not None
    assert small.embeddings is not None
    assert len(default.embeddings[0]) == 1024
    assert len(small.embeddings[0]) == 256
    assert math.isclose(math.fsum(x * x for x in default.embeddings[0]), 1.0, rel_tol=1e-3)
    assert default.input_tokens is not None
    assert decode(invoke(standin, model_id, body), model_id).embeddings == default.embeddings
    assert shape(invoke(standin, model_id, body)) == shape(
        json.loads((EVENTS / "titan_embed.json").read_text())["Body"]
    )


def test_titan_v1_embeddings_are_1536_wide_and_take_no_dimensions(standin: BedrockStandIn) -> None:
    # Given the Titan v1 embedding model
    model_id = "amazon.titan-embed-text-v1"

    # When it embeds a text, and when asked for a dimension it does not support
    result = decode(invoke(standin, model_id, {"inputText": "hello"}), model_id)
    with pytest.raises(BedrockServiceError) as refused:
        invoke(standin, model_id, {"inputText": "hello", "dimensions": 256})

    # Then v1's fixed width is used and the dimension is refused
    assert result.embeddings is not None
    assert len(result.embeddings[0]) == 1536
    assert refused.value.error_name == "ValidationException"


def test_cohere_embeddings_give_one_1024_vector_per_text(standin: BedrockStandIn) -> None:
    # Given a Cohere Embed batch of two distinct texts
    model_id = MODEL_IDS[ModelFamily.COHERE_EMBED]
    body = encode(NeutralRequest(messages=[Turn(role="user", content="a"), Turn(role="user", content="b")]), model_id)

    # When it is embedded
    answer = invoke(standin, model_id, body)
    result = decode(answer, model_id)

    # Then there is one 1024-wide vector per text, different for different texts, in the native shape
    assert result.embeddings is not None
    assert [len(vector) for vector in result.embeddings] == [1024, 1024]
    assert result.embeddings[0] != result.embeddings[1]
    assert shape(answer) == shape(json.loads((EVENTS / "cohere_embed.json").read_text())["Body"])


CLAUDE = MODEL_IDS[ModelFamily.CLAUDE]
CLAUDE_OK: dict[str, Any] = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
NOVA = MODEL_IDS[ModelFamily.NOVA]
NOVA_OK: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


@pytest.mark.parametrize(
    ("model_id", "body", "message"),
    [
        pytest.param(
            CLAUDE,
            {key: value for key, value in CLAUDE_OK.items() if key != "max_tokens"},
            "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try "
            "again.",
            id="claude-missing-max_tokens",
        ),
        pytest.param(
            CLAUDE,
            {key: value for key, value in CLAUDE_OK.items() if key != "anthropic_version"},
            "required key [anthropic_version] not found",
            id="claude-missing-version",
        ),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "maxTokens": 5},
            "Malformed input request: #: extraneous key [maxTokens] is not permitted, please reformat your input and "
            "try again.",
            id="claude-extra-key",
        ),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "max_tokens": "100"},
            "#/max_tokens: expected type: Integer, found: String",
            id="claude-max_tokens-string",
        ),
        pytest.param(CLAUDE, {**CLAUDE_OK, "max_tokens": 0}, "0 is not greater or equal to 1", id="claude-max-zero"),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "temperature": 1.5},
            "#/temperature: 1.5 is not less or equal to 1",
            id="claude-temperature-range",
        ),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "messages": [{"role": "assistant", "content": "hi"}]},
            'first message must use the "user" role',
            id="claude-starts-with-assistant",
        ),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            'roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
            id="claude-roles-do-not-alternate",
        ),
        pytest.param(
            CLAUDE,
            {**CLAUDE_OK, "messages": [{"role": "user", "content": " "}]},
            "text content blocks must be non-empty",
            id="claude-empty-content",
        ),
        pytest.param(NOVA, {"inferenceConfig": {}}, "required key [messages] not found", id="nova-missing-messages"),
        pytest.param(
            NOVA,
            {**NOVA_OK, "messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
            "A conversation must start with a user message.",
            id="nova-starts-with-assistant",
        ),
        pytest.param(
            NOVA,
            {**NOVA_OK, "inferenceConfig": {"maxTokens": -1}},
            "#/inferenceConfig/maxTokens: -1 is not greater or equal to 1",
            id="nova-negative-max",
        ),
        pytest.param(NOVA, {**NOVA_OK, "max_tokens": 5}, "extraneous key [max_tokens]", id="nova-extra-key"),
        pytest.param(
            MODEL_IDS[ModelFamily.TITAN_TEXT],
            {"prompt": "hi"},
            "required key [inputText] not found",
            id="titan-missing-inputText",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.TITAN_TEXT],
            {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": "9"}},
            "#/textGenerationConfig/maxTokenCount: expected type: Integer, found: String",
            id="titan-config-type",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.COHERE_COMMAND],
            {"message": "hi"},
            "required key [prompt] not found",
            id="cohere-missing-prompt",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.COHERE_COMMAND_R],
            {"prompt": "hi"},
            "required key [message] not found",
            id="command-r-missing-message",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.LLAMA],
            {"prompt": "hi", "max_gen_len": 2.5},
            "#/max_gen_len: expected type: Integer, found: BigDecimal",
            id="llama-float-budget",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.MISTRAL_TEXT],
            {"messages": []},
            "required key [prompt] not found",
            id="mistral-text-missing-prompt",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.MISTRAL_CHAT],
            {"prompt": "hi"},
            "required key [messages] not found",
            id="mistral-chat-missing-messages",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.AI21_JAMBA],
            {"messages": "hi"},
            "#/messages: expected type: JSONArray, found: String",
            id="jamba-messages-type",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.TITAN_EMBED],
            {"inputText": "hi", "dimensions": 300},
            "#/dimensions: 300 is not a valid enum value",
            id="titan-embed-dimension",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.COHERE_EMBED],
            {"texts": ["hi"]},
            "required key [input_type] not found",
            id="cohere-embed-missing-input-type",
        ),
        pytest.param(
            MODEL_IDS[ModelFamily.COHERE_EMBED],
            {"texts": ["hi"], "input_type": "poetry"},
            "#/input_type: poetry is not a valid enum value",
            id="cohere-embed-input-type",
        ),
        pytest.param(CLAUDE, ["not", "an", "object"], "expected type: JSONObject, found: JSONArray", id="not-object"),
        pytest.param(
            "acme.super-model-v1",
            CLAUDE_OK,
            "The provided model identifier is invalid.",
            id="unknown-provider",
        ),
        pytest.param(
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123",
            CLAUDE_OK,
            "The provided model identifier is invalid.",
            id="unregistered-provisioned-arn",
        ),
    ],
)
def test_malformed_requests_are_refused_as_bedrock_refuses_them(
    standin: BedrockStandIn,
    model_id: str,
    body: Any,
    message: str,
) -> None:
    # Given a body Bedrock would refuse
    # When the stand-in is asked to answer it
    with pytest.raises(BedrockServiceError) as refused:
        invoke(standin, model_id, body)

    # Then it refuses with a ValidationException and Bedrock's wording
    assert refused.value.error_name == "ValidationException"
    assert message in refused.value.message


def test_a_registered_provisioned_arn_speaks_its_family() -> None:
    # Given a provisioned-model ARN registered as Claude
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
    standin = BedrockStandIn(models={arn: "claude"})

    # When a Claude body is sent to it
    answer = invoke(standin, arn, CLAUDE_OK)

    # Then it answers in Claude's format
    assert decode(answer, arn, family="claude").text is not None
    assert answer["type"] == "message"


def test_converse_answers_in_pascal_case_with_usage_and_budget(standin: BedrockStandIn) -> None:
    # Given a Converse request with a system prompt and a token budget
    request = {
        "ModelId": NOVA,
        "Messages": [{"Role": "user", "Content": [{"Text": QUESTION}]}],
        "System": [{"Text": "Be brief."}],
        "InferenceConfig": {"MaxTokens": 200, "Temperature": 0.2},
    }

    # When it is answered, and again with a budget of three tokens
    answer = standin.converse(request, state_name="Converse", attempt=0)
    short = standin.converse({**request, "InferenceConfig": {"MaxTokens": 3}}, state_name="Converse", attempt=0)

    # Then the answer has the SDK integration's shape, decodes, and honours the budget
    assert shape(answer) == shape(json.loads((EVENTS / "converse.json").read_text()))
    result = decode(answer, NOVA)
    assert result.text is not None
    assert ANSWER.fullmatch(result.text)
    assert result.stop_reason == "end_turn"
    assert answer["Usage"]["TotalTokens"] == answer["Usage"]["InputTokens"] + answer["Usage"]["OutputTokens"]
    assert short["StopReason"] == "max_tokens"
    assert len(short["Output"]["Message"]["Content"][0]["Text"].split()) == 3


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        pytest.param({"Messages": [{"Role": "user", "Content": [{"Text": "hi"}]}]}, "'modelId'", id="no-model"),
        pytest.param({"ModelId": NOVA}, "'messages'", id="no-messages"),
        pytest.param(
            {"ModelId": NOVA, "Messages": [{"Role": "assistant", "Content": [{"Text": "hi"}]}]},
            "A conversation must start with a user message.",
            id="starts-with-assistant",
        ),
        pytest.param(
            {
                "ModelId": NOVA,
                "Messages": [
                    {"Role": "user", "Content": [{"Text": "a"}]},
                    {"Role": "user", "Content": [{"Text": "b"}]},
                ],
            },
            "A conversation must alternate between user and assistant roles.",
            id="no-alternation",
        ),
        pytest.param(
            {
                "ModelId": NOVA,
                "Messages": [{"Role": "user", "Content": [{"Text": "a"}]}],
                "InferenceConfig": {"MaxTokens": 0},
            },
            "MaxTokens: 0 is not greater or equal to 1",
            id="zero-budget",
        ),
        pytest.param(
            {"ModelId": MODEL_IDS[ModelFamily.TITAN_EMBED], "Messages": [{"Role": "user", "Content": [{"Text": "a"}]}]},
            "doesn't support the model",
            id="embedding-model",
        ),
        pytest.param(
            {"ModelId": "acme.model", "Messages": [{"Role": "user", "Content": [{"Text": "a"}]}]},
            "The provided model identifier is invalid.",
            id="unknown-model",
        ),
    ],
)
def test_converse_refuses_invalid_requests(standin: BedrockStandIn, request_body: dict[str, Any], message: str) -> None:
    # Given a Converse request Bedrock would refuse
    # When it is sent
    with pytest.raises(BedrockServiceError) as refused:
        standin.converse(request_body, state_name="Converse", attempt=0)

    # Then a ValidationException explains why
    assert refused.value.error_name == "ValidationException"
    assert message in refused.value.message
