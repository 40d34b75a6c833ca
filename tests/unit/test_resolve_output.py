from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from companion.errors import (
    InputValidationError,
    OffloadedObjectNotFoundError,
    ResponseDecodingError,
    S3LocationError,
)

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
BUCKET = "companion-test-payloads"
KEY = "offload/responses/exec-1/draft.json"
URI = f"s3://{BUCKET}/{KEY}"
CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def _claude_body(text: str) -> dict[str, Any]:
    return {
        "id": "msg_bdrk_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 45},
    }


def _put(s3: Any, body: bytes, key: str = KEY) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="application/json")


def test_an_offloaded_answer_is_read_and_normalized(s3: Any, invoke: Invoke) -> None:
    # Given Bedrock's answer at the output URI the chain carried
    _put(s3, json.dumps(_claude_body("The answer.")).encode())
    # When resolved
    output = invoke("ResolveOutputFunction", {"model_id": CLAUDE, "output_s3_uri": URI})
    # Then the normalized result comes back with its usage
    assert output["text"] == "The answer."
    assert output["family"] == "claude"
    assert output["stop_reason"] == "end_turn"
    assert (output["input_tokens"], output["output_tokens"]) == (120, 45)
    assert output["source_s3_uri"] == URI
    assert output["truncated"] is False


def test_a_prefix_is_not_a_folder_to_pick_another_executions_answer_from(s3: Any, invoke: Invoke) -> None:
    # Given another execution's answer under offload/responses/, and a step handed only the prefix
    _put(s3, json.dumps(_claude_body("Someone else's answer.")).encode(), key="offload/responses/other-exec/a.json")
    _put(s3, json.dumps(_claude_body("Inside a folder.")).encode(), key=f"{KEY}/part-0001.json")
    for prefix in ("offload/responses/other-exec", "offload/responses/other-exec/", KEY):
        # When resolved
        with pytest.raises(OffloadedObjectNotFoundError) as caught:
            invoke("ResolveOutputFunction", {"model_id": CLAUDE, "output_s3_uri": f"s3://{BUCKET}/{prefix}"})
        # Then nothing under it is read: the exact object does not exist, and the error says where it looked
        assert f"no object at s3://{BUCKET}/{prefix}" in str(caught.value)


def test_only_the_responses_area_of_the_prefix_may_be_read(s3: Any, invoke: Invoke) -> None:
    # Given an offloaded request body (the function's IAM grant covers offload/responses/ only)
    _put(s3, json.dumps(_claude_body("A request.")).encode(), key="offload/requests/exec-1/draft.json")
    # When a step names it as its answer
    with pytest.raises(S3LocationError, match="outside the allowed prefix 'offload/responses/'"):
        invoke(
            "ResolveOutputFunction",
            {"model_id": CLAUDE, "output_s3_uri": f"s3://{BUCKET}/offload/requests/exec-1/draft.json"},
        )


def test_s3_refusals_are_named_errors(s3: Any) -> None:
    # Given S3 answers AccessDenied (a key outside the function's grant) and NoSuchKey
    import boto3
    from botocore.stub import Stubber

    from companion.adapters.s3 import S3ObjectStore
    from companion.errors import S3AccessDeniedError
    from companion.s3uri import S3Location

    client = boto3.client("s3", region_name="us-east-1")
    store = S3ObjectStore(client)
    location = S3Location(BUCKET, KEY)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", "AccessDenied", http_status_code=403)
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        # When the object is read, Then each is the project's named error with the location
        with pytest.raises(S3AccessDeniedError, match=URI):
            store.get_bytes(location)
        with pytest.raises(OffloadedObjectNotFoundError, match=URI):
            store.get_bytes(location)


def test_without_a_uri_the_task_result_is_scanned(s3: Any, invoke: Invoke) -> None:
    _put(s3, json.dumps(_claude_body("Found by scanning.")).encode())
    task_result = {"Body": {"Location": {"Uri": URI}}, "ContentType": "application/json"}
    output = invoke("ResolveOutputFunction", {"model_id": CLAUDE, "task_result": task_result})
    assert output["text"] == "Found by scanning."


def test_an_answer_too_large_for_the_state_comes_back_as_a_pointer_and_preview(s3: Any, invoke: Invoke) -> None:
    # Given a 400 KiB answer
    _put(s3, json.dumps(_claude_body("p" * 400 * 1024)).encode())
    # When resolved
    output = invoke("ResolveOutputFunction", {"model_id": CLAUDE, "output_s3_uri": URI, "preview_chars": 500})
    # Then it does not fail: a bounded preview and the pointer to the full answer come back
    assert output["truncated"] is True
    assert output["text"] == "p" * 500
    assert output["text_chars"] == 400 * 1024
    assert output["source_s3_uri"] == URI
    assert len(json.dumps(output)) < 4096


@pytest.mark.parametrize(
    ("event", "error", "message"),
    [
        ({"model_id": CLAUDE}, InputValidationError, "give output_s3_uri"),
        ({"model_id": CLAUDE, "task_result": {"Body": {}}}, InputValidationError, "give output_s3_uri"),
        ({"model_id": CLAUDE, "output_s3_uri": "s3://someone-elses-bucket/offload/x"}, S3LocationError, "bucket"),
        ({"model_id": CLAUDE, "output_s3_uri": f"s3://{BUCKET}/secrets/x"}, S3LocationError, "prefix"),
        ({"model_id": CLAUDE, "output_s3_uri": "/etc/passwd"}, S3LocationError, "expected an s3://"),
        (
            {"model_id": CLAUDE, "output_s3_uri": f"s3://{BUCKET}/offload/responses/missing.json"},
            OffloadedObjectNotFoundError,
            "no object at",
        ),
    ],
)
def test_bad_locations_get_named_errors(
    s3: Any, invoke: Invoke, event: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        invoke("ResolveOutputFunction", event)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe not utf-8", "UTF-8"), (b"<html>not json</html>", "JSON"), (b'{"unexpected": true}', "claude")],
)
def test_objects_that_are_not_the_familys_json_get_named_errors(
    s3: Any, invoke: Invoke, content: bytes, message: str
) -> None:
    _put(s3, content)
    with pytest.raises(ResponseDecodingError, match=message):
        invoke("ResolveOutputFunction", {"model_id": CLAUDE, "output_s3_uri": URI})
