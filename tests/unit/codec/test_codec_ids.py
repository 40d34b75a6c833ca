"""resolve_family: every form of ModelId a step may pass, and the errors that tell a user how to fix a bad one."""

from __future__ import annotations

import pytest

from companion.codec import ModelFamily, resolve_family
from companion.errors import UnknownModelFamilyError

F = ModelFamily
ACCOUNT = "123456789012"

RESOLVABLE = [
    # plain base model ids
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", F.CLAUDE),
    ("anthropic.claude-3-haiku-20240307-v1:0", F.CLAUDE),
    ("amazon.nova-micro-v1:0", F.NOVA),
    ("amazon.nova-lite-v1:0", F.NOVA),
    ("amazon.nova-pro-v1:0", F.NOVA),
    ("amazon.nova-premier-v1:0", F.NOVA),
    ("amazon.nova-2-lite-v1:0", F.NOVA),
    ("amazon.titan-text-express-v1", F.TITAN_TEXT),
    ("amazon.titan-text-premier-v1:0", F.TITAN_TEXT),
    ("amazon.titan-tg1-large", F.TITAN_TEXT),
    ("amazon.titan-embed-text-v2:0", F.TITAN_EMBED),
    ("amazon.titan-embed-text-v1", F.TITAN_EMBED),
    ("cohere.command-r-v1:0", F.COHERE_COMMAND_R),
    ("cohere.command-r-plus-v1:0", F.COHERE_COMMAND_R),
    ("cohere.command-text-v14", F.COHERE_COMMAND),
    ("cohere.command-light-text-v14", F.COHERE_COMMAND),
    ("cohere.embed-english-v3", F.COHERE_EMBED),
    ("cohere.embed-multilingual-v3", F.COHERE_EMBED),
    ("meta.llama2-13b-chat-v1", F.LLAMA),
    ("meta.llama3-1-70b-instruct-v1:0", F.LLAMA),
    ("meta.llama4-scout-17b-instruct-v1:0", F.LLAMA),
    ("mistral.mistral-7b-instruct-v0:2", F.MISTRAL_TEXT),
    ("mistral.mixtral-8x7b-instruct-v0:1", F.MISTRAL_TEXT),
    ("mistral.mistral-small-2402-v1:0", F.MISTRAL_TEXT),
    ("mistral.mistral-large-2402-v1:0", F.MISTRAL_TEXT),
    ("mistral.mistral-large-2407-v1:0", F.MISTRAL_CHAT),
    ("mistral.mistral-large-2411-v1:0", F.MISTRAL_CHAT),
    ("mistral.pixtral-large-2502-v1:0", F.MISTRAL_CHAT),
    ("ai21.jamba-instruct-v1:0", F.AI21_JAMBA),
    ("ai21.jamba-1-5-large-v1:0", F.AI21_JAMBA),
    # inference-profile ids, one per geo prefix
    ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", F.CLAUDE),
    ("eu.amazon.nova-pro-v1:0", F.NOVA),
    ("apac.anthropic.claude-3-5-sonnet-20240620-v1:0", F.CLAUDE),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", F.CLAUDE),
    ("us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0", F.CLAUDE),
    ("ca.amazon.nova-lite-v1:0", F.NOVA),
    ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", F.CLAUDE),
    ("au.anthropic.claude-sonnet-4-5-20250929-v1:0", F.CLAUDE),
    ("us.meta.llama3-2-11b-instruct-v1:0", F.LLAMA),
    # ARNs
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", F.CLAUDE),
    ("arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/meta.llama3-8b-instruct-v1:0", F.LLAMA),
    ("arn:aws-cn:bedrock:cn-north-1::foundation-model/amazon.titan-text-express-v1", F.TITAN_TEXT),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-pro-v1:0", F.NOVA),
    (f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0", F.CLAUDE),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova-lite-v1:0:300k/abc123xyz", F.NOVA),
    (f"arn:aws:bedrock:us-west-2:{ACCOUNT}:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/q9w8e7r6", F.LLAMA),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/anthropic.claude-3-haiku-20240307-v1:0:200k/z1x2", F.CLAUDE),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/cohere.command-light-text-v14:7:4k/k5l6", F.COHERE_COMMAND),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.titan-text-express-v1:0:8k/m3n4", F.TITAN_TEXT),
]

OPAQUE_ARNS = [
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/w3e4r5t6y7u8",
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6",
    f"arn:aws-us-gov:bedrock:us-gov-west-1:{ACCOUNT}:provisioned-model/w3e4r5t6y7u8",
]

UNRESOLVABLE = [
    "",
    "   ",
    "\n",
    "amazon.nova-canvas-v1:0",
    "amazon.nova-reel-v1:0",
    "amazon.nova-sonic-v1:0",
    "stability.sd3-large-v1:0",
    "openai.gpt-oss-120b-1:0",
    "anthropic.",
    "mistral.",
    "xx.anthropic.claude-3-haiku-20240307-v1:0",
    "ANTHROPIC.CLAUDE-3-HAIKU-20240307-V1:0",
    " anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0\nX-Injected: 1",
    "../../etc/passwd",
    "'; DROP TABLE models; --",
    "arn:aws:s3:::my-bucket/anthropic.claude-3-haiku-20240307-v1:0",
    "arn:aws:bedrock:us-east-1:123:foundation-model/anthropic.claude",
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:knowledge-base/anthropic.claude-3-haiku-20240307-v1:0",
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/stability.sd3-large-v1:0/abc",
    "a" * 5000,
]


@pytest.mark.parametrize(("model_id", "expected"), RESOLVABLE)
def test_resolves_family_from_model_id(model_id: str, expected: ModelFamily) -> None:
    # Given a model id, inference-profile id or ARN that embeds a base model id
    # When the family is resolved without an explicit family
    family = resolve_family(model_id)
    # Then it names the family whose body format that model speaks
    assert family is expected


@pytest.mark.parametrize("model_id", UNRESOLVABLE)
def test_unresolvable_id_raises_error_quoting_the_id_and_the_fix(model_id: str) -> None:
    # Given an id no family can be read from
    # When the family is resolved
    with pytest.raises(UnknownModelFamilyError) as caught:
        resolve_family(model_id)
    # Then the message quotes the (possibly truncated) id and says how to fix it, without flooding the error cause
    message = str(caught.value)
    assert repr(model_id[:80]) in message
    assert "pass the family explicitly" in message
    assert "claude" in message
    assert len(message) < 800
    assert "\n" not in message


@pytest.mark.parametrize("model_id", OPAQUE_ARNS)
def test_opaque_arn_needs_explicit_family(model_id: str) -> None:
    # Given a provisioned-model or application-inference-profile ARN, which does not say which model it serves
    # When the family is resolved without an explicit family
    with pytest.raises(UnknownModelFamilyError) as caught:
        resolve_family(model_id)
    # Then the error says the ARN kind is opaque and asks for the family
    assert "does not say which model it serves" in str(caught.value)
    assert "pass the family explicitly" in str(caught.value)


@pytest.mark.parametrize("model_id", OPAQUE_ARNS)
@pytest.mark.parametrize("family", [ModelFamily.NOVA, "nova", " NOVA "])
def test_opaque_arn_with_explicit_family_resolves(model_id: str, family: ModelFamily | str) -> None:
    # Given an opaque ARN and the family named explicitly (enum, value, or value in another case)
    # When the family is resolved
    resolved = resolve_family(model_id, family)
    # Then the explicit family is used
    assert resolved is ModelFamily.NOVA


def test_explicit_family_overrides_detection() -> None:
    # Given an id that looks like Claude but a family that says otherwise (e.g. a custom import)
    # When the family is resolved
    resolved = resolve_family("anthropic.claude-3-haiku-20240307-v1:0", ModelFamily.LLAMA)
    # Then the explicit family wins
    assert resolved is ModelFamily.LLAMA


@pytest.mark.parametrize("family", ["gpt", "", "claude-3", 3])
def test_invalid_explicit_family_lists_valid_values(family: object) -> None:
    # Given a family value that names no family
    # When the family is resolved
    with pytest.raises(UnknownModelFamilyError) as caught:
        resolve_family("anthropic.claude-3-haiku-20240307-v1:0", family)  # type: ignore[arg-type]
    # Then the message lists every valid value
    message = str(caught.value)
    assert all(member.value in message for member in ModelFamily)


def test_non_string_model_id_raises_unknown_family() -> None:
    # Given a model id that is not a string (e.g. a missing field turned into None)
    # When the family is resolved
    # Then the named error is raised, not a TypeError
    with pytest.raises(UnknownModelFamilyError, match="must be a string"):
        resolve_family(None)  # type: ignore[arg-type]


def test_long_hostile_id_is_truncated_in_message() -> None:
    # Given a megabyte-long id with control characters
    model_id = "\x1b[31m" + "z" * 1_000_000
    # When the family is resolved
    with pytest.raises(UnknownModelFamilyError) as caught:
        resolve_family(model_id)
    # Then the message stays short and escapes the control characters
    message = str(caught.value)
    assert len(message) < 800
    assert "\x1b" not in message
    assert "1000005 chars" in message
