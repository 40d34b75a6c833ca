"""The simulated Bedrock keeps its own reading of model ids (it is the service side of the wire); it must agree with
the codec's on every id the project knows: the stand-in accepts what the Lambdas send, refuses what they refuse."""

from __future__ import annotations

import pytest
from sfn_offline.bedrock_models import ModelFamily as StandInFamily
from sfn_offline.bedrock_models import UnknownModelError, family_of

from companion.codec import ModelFamily, resolve_family
from companion.errors import UnknownModelFamilyError
from tests.model_ids import MODEL_IDS

KNOWN = [
    *MODEL_IDS.values(),
    "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-3b-instruct-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-lite-v1:0:4k/abc123",
    "mistral.mistral-large-2402-v1:0",
    "mistral.mistral-large-2407-v1:0",
    "mistral.pixtral-large-2502-v1:0",
    "amazon.titan-embed-g1-text-02",
    "cohere.command-light-text-v14",
]
UNKNOWN = [
    "",
    "amazon.nova-canvas-v1:0",
    "stability.sd3-large-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
    "arn:aws:s3:::bucket",
    "Anthropic.Claude",
]


@pytest.mark.parametrize("model_id", KNOWN)
def test_the_stand_in_reads_a_model_id_as_the_codec_does(model_id: str) -> None:
    assert family_of(model_id).value == resolve_family(model_id).value


@pytest.mark.parametrize("model_id", UNKNOWN)
def test_the_stand_in_refuses_what_the_codec_refuses(model_id: str) -> None:
    with pytest.raises(UnknownModelFamilyError):
        resolve_family(model_id)
    with pytest.raises(UnknownModelError):
        family_of(model_id)


def test_the_stand_in_speaks_every_family_of_the_codec() -> None:
    assert {family.value for family in StandInFamily} == {family.value for family in ModelFamily}
