from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from companion.errors import (
    InputValidationError,
    ModelOutputNotJsonError,
    ModelOutputSchemaError,
    ModelOutputTruncatedError,
    PayloadTooLargeError,
    ResponseDecodingError,
    SchemaDefinitionError,
)

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
SCHEMA = {"type": "object", "required": ["points"], "properties": {"points": {"type": "array", "minItems": 2}}}


def test_the_sample_event_yields_validated_json(invoke: Invoke, load_event: Callable[[str], dict[str, Any]]) -> None:
    # Given Cohere's answer narrowed by a ResultSelector, with JSON in a markdown fence
    output = invoke("PostprocessResultFunction", load_event("lambda/postprocess_result.json"))
    # Then the JSON is parsed and validated, and the answer is normalized
    assert output["json"]["title"] == "Prompt chains on Step Functions"
    assert len(output["json"]["points"]) == 5
    assert output["family"] == "cohere_command"
    assert output["stop_reason"] == "end_turn"
    assert output["truncated"] is False
    assert output["usage"] == "unknown"


def test_a_whole_task_result_is_normalized(invoke: Invoke, load_event: Callable[[str], dict[str, Any]]) -> None:
    task_result = load_event("bedrock/claude.json")
    output = invoke(
        "PostprocessResultFunction", {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "result": task_result}
    )
    assert output["text"]
    assert output["input_tokens"] == task_result["Body"]["usage"]["input_tokens"]
    assert output["json"] is None


def test_just_the_text_is_enough(invoke: Invoke) -> None:
    # Given a ResultSelector that kept only $.Body.content[0].text
    output = invoke(
        "PostprocessResultFunction", {"model_id": "us.anthropic.claude-3-5-haiku-20241022-v1:0", "result": "Hi."}
    )
    # Then the text comes back, with the stop reason and usage honestly unknown
    assert (output["text"], output["stop_reason"], output["input_tokens"]) == ("Hi.", "unknown", None)


def test_invalid_json_raises_the_re_prompt_error(invoke: Invoke) -> None:
    event = {"model_id": "meta.llama3-70b-instruct-v1:0", "result": {"generation": "I think the answer is yes."}}
    event["output"] = {"format": "json"}
    with pytest.raises(ModelOutputNotJsonError, match="Reply with only the JSON value"):
        invoke("PostprocessResultFunction", event)


def test_json_breaking_the_schema_raises_the_re_prompt_error(invoke: Invoke) -> None:
    event = {"model_id": "amazon.titan-text-express-v1", "result": '{"points": ["only one"]}'}
    event["output"] = {"format": "json", "schema": SCHEMA}
    with pytest.raises(ModelOutputSchemaError, match="points"):
        invoke("PostprocessResultFunction", event)


def test_a_broken_schema_is_reported_as_such(invoke: Invoke) -> None:
    event = {
        "model_id": "amazon.titan-text-express-v1",
        "result": "{}",
        "output": {"format": "json", "schema": {"type": 5}},
    }
    with pytest.raises(SchemaDefinitionError):
        invoke("PostprocessResultFunction", event)


def test_truncation_is_reported_or_raised_as_the_step_says(invoke: Invoke) -> None:
    result = {"generation": "The list goes on and", "stop_reason": "length", "generation_token_count": 50}
    event = {"model_id": "meta.llama3-70b-instruct-v1:0", "result": result}
    # Reported by default
    assert invoke("PostprocessResultFunction", event)["truncated"] is True
    # Raised when the step asks for it
    with pytest.raises(ModelOutputTruncatedError, match="token limit"):
        invoke("PostprocessResultFunction", event | {"output": {"on_truncation": "fail"}})


def test_json_from_an_embedding_is_refused(invoke: Invoke) -> None:
    event = {"model_id": "amazon.titan-embed-text-v2:0", "result": {"embedding": [0.1, 0.2], "inputTextTokenCount": 3}}
    assert invoke("PostprocessResultFunction", event)["embeddings"] == [[0.1, 0.2]]
    with pytest.raises(InputValidationError, match="holds no text"):
        invoke("PostprocessResultFunction", event | {"output": {"format": "json"}})


def test_a_large_json_answer_keeps_the_json_and_drops_the_duplicate_text(invoke: Invoke) -> None:
    # Given a 150 KiB JSON answer: text plus parsed JSON would be ~300 KiB, over the 256 KiB state limit
    answer = json.dumps({"points": ["p" * 1000 for _ in range(150)]})
    event = {"model_id": "meta.llama3-70b-instruct-v1:0", "result": {"generation": answer, "stop_reason": "stop"}}
    # When post-processed as JSON
    output = invoke("PostprocessResultFunction", event | {"output": {"format": "json", "schema": SCHEMA}})
    # Then the JSON is kept whole, the text is left out and said to be, and the output fits the state
    assert len(output["json"]["points"]) == 150
    assert (output["text"], output["text_omitted"]) == (None, True)
    assert len(json.dumps(output)) < 256 * 1024


def test_an_answer_too_large_for_the_state_is_a_named_error(invoke: Invoke) -> None:
    event = {"model_id": "meta.llama3-70b-instruct-v1:0", "result": {"generation": "t" * 240 * 1024}}
    with pytest.raises(PayloadTooLargeError, match=r"offload\.output_to_s3"):
        invoke("PostprocessResultFunction", event)


def test_a_result_resolve_output_returned_is_post_processed_as_it_is(invoke: Invoke) -> None:
    # Given what resolve-output returns for an answer read back from S3 (a normalized result with its own fields)
    resolved = {
        "family": "claude",
        "text": '{"points": ["a", "b"]}',
        "tool_calls": [],
        "stop_reason": "end_turn",
        "raw_stop_reason": "end_turn",
        "input_tokens": 12,
        "output_tokens": 7,
        "usage": "reported",
        "embeddings": None,
        "source_s3_uri": "s3://companion-test-payloads/offload/responses/e/s.json",
        "truncated": False,
        "text_chars": 22,
    }
    event = {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "result": {"Body": resolved}}
    # When post-processed as JSON
    output = invoke("PostprocessResultFunction", event | {"output": {"format": "json", "schema": SCHEMA}})
    # Then it is checked like an inline answer, its usage kept
    assert output["json"] == {"points": ["a", "b"]}
    assert (output["input_tokens"], output["output_tokens"]) == (12, 7)


def test_a_normalized_result_of_another_family_is_refused(invoke: Invoke) -> None:
    resolved = {"family": "nova", "text": "x", "stop_reason": "end_turn", "usage": "unknown"}
    with pytest.raises(ResponseDecodingError, match="'nova', not 'claude'"):
        invoke("PostprocessResultFunction", {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "result": resolved})


def test_json_cannot_be_checked_on_a_preview(invoke: Invoke) -> None:
    # Given a resolved answer too large for the state: resolve-output kept a preview and a pointer
    resolved = {"family": "claude", "text": "{", "stop_reason": "end_turn", "usage": "unknown", "truncated": True}
    resolved["source_s3_uri"] = "s3://companion-test-payloads/offload/responses/e/s.json"
    event = {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "result": resolved, "output": {"format": "json"}}
    # Then post-process says so, by name, instead of asking the model to fix JSON it never truncated
    with pytest.raises(PayloadTooLargeError, match="too large to check as JSON"):
        invoke("PostprocessResultFunction", event)


def _claude(text: str, stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "usage": {"input_tokens": 321, "output_tokens": 54},
    }


@pytest.mark.parametrize(
    ("answer", "output", "error"),
    [
        ("[" * 990, {"format": "json"}, ModelOutputNotJsonError),
        ('{"points": ' + "9" * 5000 + "}", {"format": "json"}, ModelOutputNotJsonError),
        ('{"points": [1]}', {"format": "json", "schema": SCHEMA}, ModelOutputSchemaError),
        ('{"points": [1, 2]}', {"format": "json", "schema": {"pattern": "(a)\\1"}}, SchemaDefinitionError),
        ("cut", {"format": "text", "on_truncation": "fail"}, ModelOutputTruncatedError),
    ],
)
def test_every_answer_a_step_rejects_or_fails_on_carries_its_tokens(
    invoke: Invoke, answer: str, output: dict[str, Any], error: type[Exception]
) -> None:
    # Given an answer Bedrock billed (321 in, 54 out) that the step rejects or fails on, a crafted one included
    from companion.usage import split_usage

    stop = "max_tokens" if error is ModelOutputTruncatedError else "end_turn"
    event = {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "result": _claude(answer, stop), "output": output}
    # When post-processed
    with pytest.raises(error) as caught:
        invoke("PostprocessResultFunction", event)
    # Then the named error (the re-prompt loop's, for a crafted answer) carries the usage after its message
    message, usage = split_usage(str(caught.value))
    assert usage == {"input_tokens": 321, "output_tokens": 54}
    assert message
    assert "[usage]" not in message
