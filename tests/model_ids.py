"""One real model id per family, as a step would pass it to Bedrock: shared by the codec, stand-in and engine tests."""

from __future__ import annotations

from companion.codec import ModelFamily

MODEL_IDS: dict[ModelFamily, str] = {
    ModelFamily.CLAUDE: "anthropic.claude-3-5-sonnet-20240620-v1:0",
    ModelFamily.NOVA: "us.amazon.nova-lite-v1:0",
    ModelFamily.TITAN_TEXT: "amazon.titan-text-express-v1",
    ModelFamily.COHERE_COMMAND: "cohere.command-text-v14",
    ModelFamily.COHERE_COMMAND_R: "cohere.command-r-plus-v1:0",
    ModelFamily.LLAMA: "meta.llama3-1-70b-instruct-v1:0",
    ModelFamily.MISTRAL_TEXT: "mistral.mistral-7b-instruct-v0:2",
    ModelFamily.MISTRAL_CHAT: "mistral.mistral-large-2407-v1:0",
    ModelFamily.AI21_JAMBA: "ai21.jamba-1-5-large-v1:0",
    ModelFamily.TITAN_EMBED: "amazon.titan-embed-text-v2:0",
    ModelFamily.COHERE_EMBED: "cohere.embed-english-v3",
}
EMBEDDING_FAMILIES = frozenset({ModelFamily.TITAN_EMBED, ModelFamily.COHERE_EMBED})
