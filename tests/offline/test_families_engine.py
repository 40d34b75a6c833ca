"""Every model family through the offline engine: codec-built Body in, the family's text path out via ResultSelector.

The expected value is what the stand-in answers when called directly with the same body, so the test checks the
engine's plumbing (Body passed as-is, the task result's ``Body`` object, AWS's definite-path JSONPath), not the text.
"""

from __future__ import annotations

from typing import Any

import pytest
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import run_definition

from companion.codec import ModelFamily, NeutralRequest, Turn, encode
from tests.model_ids import EMBEDDING_FAMILIES, MODEL_IDS

STATE = "Invoke Model"

# The JSONPath a state machine uses to read each family's answer.
TEXT_PATHS: dict[ModelFamily, str] = {
    ModelFamily.CLAUDE: "$.Body.content[0].text",
    ModelFamily.NOVA: "$.Body.output.message.content[0].text",
    ModelFamily.TITAN_TEXT: "$.Body.results[0].outputText",
    ModelFamily.COHERE_COMMAND: "$.Body.generations[0].text",
    ModelFamily.COHERE_COMMAND_R: "$.Body.text",
    ModelFamily.LLAMA: "$.Body.generation",
    ModelFamily.MISTRAL_TEXT: "$.Body.outputs[0].text",
    ModelFamily.MISTRAL_CHAT: "$.Body.choices[0].message.content",
    ModelFamily.AI21_JAMBA: "$.Body.choices[0].message.content",
    ModelFamily.TITAN_EMBED: "$.Body.embedding",
    ModelFamily.COHERE_EMBED: "$.Body.embeddings",
}
FAMILIES: dict[ModelFamily, tuple[str, str]] = {family: (MODEL_IDS[family], TEXT_PATHS[family]) for family in MODEL_IDS}
EMBEDDINGS = EMBEDDING_FAMILIES
EMBED_EXTRA: dict[ModelFamily, dict[str, Any]] = {
    ModelFamily.COHERE_EMBED: {"input_type": "search_document"},
}


def one_state(model_id: str, body: dict[str, Any], text_path: str) -> dict[str, Any]:
    return {
        "Comment": "One optimized bedrock:invokeModel task; the answer is extracted by ResultSelector.",
        "StartAt": STATE,
        "States": {
            STATE: {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Parameters": {"ModelId": model_id, "Body": body},
                "ResultSelector": {"answer.$": text_path},
                "End": True,
            }
        },
    }


def neutral_request(family: ModelFamily) -> NeutralRequest:
    return NeutralRequest(
        system=None if family in EMBEDDINGS else "You answer briefly.",
        messages=[Turn(role="user", content="Name three prime numbers below twenty please")],
        max_tokens=64,
        extra_body=EMBED_EXTRA.get(family, {}),
    )


def expected_answer(model_id: str, body: dict[str, Any], family: ModelFamily) -> Any:
    """What the stand-in answers for this body, read at the family's text path by hand."""
    native = BedrockStandIn().invoke_model(model_id, body, state_name=STATE, attempt=0)
    readers = {
        ModelFamily.CLAUDE: lambda b: b["content"][0]["text"],
        ModelFamily.NOVA: lambda b: b["output"]["message"]["content"][0]["text"],
        ModelFamily.TITAN_TEXT: lambda b: b["results"][0]["outputText"],
        ModelFamily.COHERE_COMMAND: lambda b: b["generations"][0]["text"],
        ModelFamily.COHERE_COMMAND_R: lambda b: b["text"],
        ModelFamily.LLAMA: lambda b: b["generation"],
        ModelFamily.MISTRAL_TEXT: lambda b: b["outputs"][0]["text"],
        ModelFamily.MISTRAL_CHAT: lambda b: b["choices"][0]["message"]["content"],
        ModelFamily.AI21_JAMBA: lambda b: b["choices"][0]["message"]["content"],
        ModelFamily.TITAN_EMBED: lambda b: b["embedding"],
        ModelFamily.COHERE_EMBED: lambda b: b["embeddings"],
    }
    return readers[family](native)


def test_every_family_has_a_case() -> None:
    assert set(FAMILIES) == set(ModelFamily)


@pytest.mark.parametrize("family", list(FAMILIES), ids=lambda family: family.value)
def test_codec_body_runs_through_the_engine_and_the_text_path_yields_the_answer(family: ModelFamily) -> None:
    # Given the codec's Body for this family and a ResultSelector on the family's answer path
    model_id, text_path = FAMILIES[family]
    body = encode(neutral_request(family), model_id)
    bedrock = BedrockStandIn()
    # When the one-state machine runs
    result = run_definition(one_state(model_id, body, text_path), {}, bedrock=bedrock, time_scale=0)
    # Then it succeeds, the body reached the model untouched, and the value is the stand-in's answer itself
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [call] = bedrock.calls
    assert (call.api, call.state_name, call.target, call.request) == ("invoke_model", STATE, model_id, body)
    answer = result.output["answer"]
    assert answer == expected_answer(model_id, body, family)
    if family in EMBEDDINGS:
        vectors = answer if family is ModelFamily.COHERE_EMBED else [answer]
        assert all(isinstance(vector, list) and vector for vector in vectors)
        assert all(isinstance(value, float) for vector in vectors for value in vector)
    else:
        # A definite path yields the string itself, never a one-element list.
        assert isinstance(answer, str)
        assert "Simulated answer" in answer


def test_malformed_claude_body_fails_with_the_models_validation_message() -> None:
    # Given a Claude body without max_tokens (Bedrock requires it)
    model_id, text_path = FAMILIES[ModelFamily.CLAUDE]
    body = encode(neutral_request(ModelFamily.CLAUDE), model_id)
    del body["max_tokens"]
    # When it runs
    result = run_definition(one_state(model_id, body, text_path), {}, bedrock=BedrockStandIn(), time_scale=0)
    # Then the task fails as Bedrock.ValidationException with the stand-in's message as the cause
    assert result.status == "FAILED"
    assert result.error == "Bedrock.ValidationException"
    assert result.cause == (
        "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again."
    )


def test_unknown_model_id_fails_with_invalid_model_identifier() -> None:
    # Given a well-formed Claude body sent to a model id no family owns
    body = encode(neutral_request(ModelFamily.CLAUDE), FAMILIES[ModelFamily.CLAUDE][0])
    definition = one_state("acme.unknown-model-v1:0", body, "$.Body.content[0].text")
    bedrock = BedrockStandIn()
    # When it runs
    result = run_definition(definition, {}, bedrock=bedrock, time_scale=0)
    # Then Bedrock's invalid-identifier error fails the execution, after exactly one call
    assert result.status == "FAILED"
    assert result.error == "Bedrock.ValidationException"
    assert result.cause == "The provided model identifier is invalid."
    assert [call.target for call in bedrock.calls] == ["acme.unknown-model-v1:0"]
