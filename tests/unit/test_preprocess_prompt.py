from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from companion.errors import (
    InputValidationError,
    MissingTemplateVariablesError,
    RequestEncodingError,
    ResponseDecodingError,
    S3LocationError,
)

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
BUCKET = "companion-test-payloads"


def _event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "execution_name": "exec-1",
        "step": "draft",
        "model_id": "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        "prompt": {"system": "Be brief.", "messages": [{"role": "user", "content": "Write about {{ topic }}."}]},
        "variables": {"topic": "queues"},
    }
    return event | overrides


def _keys(s3: Any) -> list[str]:
    return [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_small_prompt_stays_inline(s3: Any, invoke: Invoke) -> None:
    # Given a 10 KiB prompt
    event = _event(variables={"topic": "x" * 10 * 1024})
    # When pre-processed
    output = invoke("PreprocessPromptFunction", event)
    # Then the Claude Body is inline, nothing is written to S3, and the task arguments are complete
    request = output["request"]
    assert output["offloaded"] is False
    assert request["ModelId"] == event["model_id"]
    assert request["Body"]["anthropic_version"] == "bedrock-2023-05-31"
    assert request["Body"]["system"] == "Be brief."
    assert request["Body"]["messages"][0]["content"].endswith("x" * 100 + ".")
    assert "Input" not in request
    assert output["body_bytes"] == len(json.dumps(request["Body"], separators=(",", ":")).encode())
    assert _keys(s3) == []


def test_a_large_prompt_is_offloaded_to_s3(s3: Any, invoke: Invoke) -> None:
    # Given a 300 KiB prompt, over the 224 KiB default budget
    event = _event(variables={"topic": "y" * 300 * 1024})
    # When pre-processed
    output = invoke("PreprocessPromptFunction", event)
    # Then the Body is in S3 as application/json, and the arguments carry Input.S3Uri instead of Body
    request = output["request"]
    assert output["offloaded"] is True
    assert "Body" not in request
    assert request["Input"] == {"S3Uri": f"s3://{BUCKET}/offload/requests/exec-1/draft.json"}
    stored = s3.get_object(Bucket=BUCKET, Key="offload/requests/exec-1/draft.json")
    assert stored["ContentType"] == "application/json"
    body = json.loads(stored["Body"].read())
    assert body["messages"][0]["content"] == "Write about " + "y" * 300 * 1024 + "."
    assert output["body_bytes"] == stored["ContentLength"]
    # And the whole output stays far below the state payload limit
    assert len(json.dumps(output)) < 2048


def test_a_retry_overwrites_its_own_object_and_other_executions_keep_theirs(s3: Any, invoke: Invoke) -> None:
    # Given two executions offloading the same step, and a retry of the first
    big = {"topic": "z" * 300 * 1024}
    invoke("PreprocessPromptFunction", _event(execution_name="exec-1", variables=big))
    invoke("PreprocessPromptFunction", _event(execution_name="exec-2", variables=big))
    invoke("PreprocessPromptFunction", _event(execution_name="exec-1", variables={"topic": "w" * 300 * 1024}))
    # Then there is one object per execution and step, the retry's content replacing the first attempt's
    assert sorted(_keys(s3)) == ["offload/requests/exec-1/draft.json", "offload/requests/exec-2/draft.json"]
    first = json.loads(s3.get_object(Bucket=BUCKET, Key="offload/requests/exec-1/draft.json")["Body"].read())
    assert "w" * 100 in first["messages"][0]["content"]


def test_the_budget_can_be_set_per_step(s3: Any, invoke: Invoke) -> None:
    event = _event(variables={"topic": "q" * 4096}, offload={"max_inline_bytes": 2048})
    assert invoke("PreprocessPromptFunction", event)["offloaded"] is True


def test_an_output_location_is_assigned_and_passed_on(s3: Any, invoke: Invoke) -> None:
    # Given a step that expects a large answer
    output = invoke("PreprocessPromptFunction", _event(offload={"output_to_s3": True}))
    # Then the task gets Output.S3Uri and the same URI is returned for the resolve step
    uri = f"s3://{BUCKET}/offload/responses/exec-1/draft.json"
    assert output["request"]["Output"] == {"S3Uri": uri}
    assert output["output_s3_uri"] == uri


def test_names_with_unsafe_characters_get_distinct_safe_keys(s3: Any, invoke: Invoke) -> None:
    big = {"topic": "v" * 300 * 1024}
    first = invoke("PreprocessPromptFunction", _event(execution_name="a/../b", variables=big))
    second = invoke("PreprocessPromptFunction", _event(execution_name="a/__/b", variables=big))
    assert first["request"]["Input"]["S3Uri"] != second["request"]["Input"]["S3Uri"]
    assert all(".." not in key.split("/") for key in _keys(s3))


@pytest.mark.parametrize(
    ("model_id", "body_key"),
    [
        ("amazon.nova-lite-v1:0", "inferenceConfig"),
        ("amazon.titan-text-express-v1", "textGenerationConfig"),
        ("cohere.command-text-v14", "prompt"),
        ("cohere.command-r-plus-v1:0", "message"),
        ("meta.llama3-1-70b-instruct-v1:0", "max_gen_len"),
        ("mistral.mistral-7b-instruct-v0:2", "prompt"),
        ("mistral.mistral-large-2407-v1:0", "messages"),
        ("ai21.jamba-1-5-large-v1:0", "messages"),
    ],
)
def test_the_body_follows_the_models_family(s3: Any, invoke: Invoke, model_id: str, body_key: str) -> None:
    output = invoke("PreprocessPromptFunction", _event(model_id=model_id, prompt="Summarize {{ topic }}"))
    assert body_key in output["request"]["Body"]


def test_missing_variables_are_all_named(s3: Any, invoke: Invoke) -> None:
    event = _event(prompt={"system": "{{ persona }}", "messages": [{"role": "user", "content": "{{ a }} {{ b.c }}"}]})
    with pytest.raises(MissingTemplateVariablesError, match=r"a, b\.c, persona"):
        invoke("PreprocessPromptFunction", event)


def test_family_rules_are_enforced_before_bedrock_sees_the_body(s3: Any, invoke: Invoke) -> None:
    # Claude needs alternating roles, starting with the user
    prompt = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
    with pytest.raises(RequestEncodingError):
        invoke("PreprocessPromptFunction", _event(prompt=prompt))


def test_a_turn_that_renders_empty_is_refused(s3: Any, invoke: Invoke) -> None:
    with pytest.raises(InputValidationError, match="renders to empty text"):
        invoke("PreprocessPromptFunction", _event(prompt="{{ topic }}", variables={"topic": "  "}))


def test_the_budget_is_measured_exactly(s3: Any, invoke: Invoke) -> None:
    # Given the exact serialized size of a step's inline output
    variables = {"topic": "é" * 2000}  # multi-byte text: the budget counts UTF-8 bytes, not characters
    inline = invoke("PreprocessPromptFunction", _event(variables=variables))
    size = len(json.dumps(inline, ensure_ascii=False, separators=(",", ":")).encode())
    # When the budget is exactly that size, the Body stays inline; one byte less, it goes to S3
    exact = _event(variables=variables, offload={"max_inline_bytes": size})
    assert invoke("PreprocessPromptFunction", exact)["offloaded"] is False
    under = _event(variables=variables, offload={"max_inline_bytes": size - 1})
    assert invoke("PreprocessPromptFunction", under)["offloaded"] is True


def test_an_earlier_answer_kept_in_s3_is_read_back_in_full(s3: Any, invoke: Invoke) -> None:
    # Given an earlier step's answer that a compiled chain kept in S3 (its variable holds a preview and the reference)
    full = "word " * 50_000
    key = "offload/responses/exec-1/draft.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps({"content": [{"type": "text", "text": full}]}).encode())
    kept = {"text": full[:500], "json": None, "ref": f"s3://{BUCKET}/{key}", "truncated": True, "family": "claude"}
    event = _event(
        prompt={"messages": [{"role": "user", "content": "Critique: {{ steps.draft.text }}"}]},
        variables={"steps": {"draft": kept}},
    )
    # When pre-processed
    output = invoke("PreprocessPromptFunction", event)
    # Then the prompt holds the whole answer (so large that the Body went to S3 itself)
    assert output["offloaded"] is True
    body = json.loads(s3.get_object(Bucket=BUCKET, Key="offload/requests/exec-1/draft.json")["Body"].read())
    assert body["messages"][0]["content"] == f"Critique: {full}"


def test_a_reference_outside_the_offload_prefix_is_refused(s3: Any, invoke: Invoke) -> None:
    kept = {"text": "x", "ref": f"s3://{BUCKET}/prompt-sets/secret.jsonl", "truncated": True, "family": "claude"}
    event = _event(variables={"topic": "t", "steps": {"draft": kept}})
    with pytest.raises(S3LocationError, match="offload/"):
        invoke("PreprocessPromptFunction", event)


def _map_run(s3: Any, files: dict[str, list[dict[str, Any]]]) -> str:
    """A Distributed Map's ResultWriter output under offload/maps/ (manifest and result files); the manifest's URI."""
    prefix = "offload/maps/exec-1/each/run-1/"
    listed: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, records in files.items():
        key = f"{prefix}{status}_0.json"
        body = json.dumps(records).encode()
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        listed[status] = [{"Key": key, "Size": len(body)}]
    manifest = {"DestinationBucket": BUCKET, "MapRunArn": "arn:run-1", "ResultFiles": listed}
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=json.dumps(manifest).encode())
    return f"s3://{BUCKET}/{prefix}manifest.json"


def _child(index: int, output: Any = None, status: str = "SUCCEEDED") -> dict[str, Any]:
    record = {"Status": status, "Input": json.dumps({"ctx": {"item": f"i{index}", "index": index}})}
    return record | ({"Output": json.dumps(output)} if status == "SUCCEEDED" else {"Error": "E", "Cause": "c"})


def test_a_maps_results_kept_in_s3_are_read_back_in_item_order(s3: Any, invoke: Invoke) -> None:
    # Given a Distributed Map's results in S3: items 2 and 0 succeeded (listed out of order), item 1 failed
    uri = _map_run(
        s3,
        {
            "SUCCEEDED": [_child(2, {"text": "two", "json": None}), _child(0, {"text": "zero", "json": None})],
            "FAILED": [_child(1, status="FAILED")],
        },
    )
    event = _event(
        prompt={"messages": [{"role": "user", "content": "Sum up {{ steps.each.results | json }}"}]},
        variables={"steps": {"each": {"results": None, "ref": uri, "truncated": True}}},
    )
    # When pre-processed
    output = invoke("PreprocessPromptFunction", event)
    # Then the prompt holds the results in item order, the failed item null
    content = output["request"]["Body"]["messages"][0]["content"]
    results = json.loads(content.removeprefix("Sum up "))
    assert [None if item is None else item["text"] for item in results] == ["zero", None, "two"]


@pytest.mark.parametrize(
    "files",
    [
        {"SUCCEEDED": [{"Status": "SUCCEEDED", "Input": "not json", "Output": "{}"}]},
        {"SUCCEEDED": [{"Status": "SUCCEEDED", "Input": json.dumps({"ctx": {"index": -1}}), "Output": "{}"}]},
        {"SUCCEEDED": [{"Status": "SUCCEEDED", "Input": json.dumps({"ctx": {"index": 0}})}]},
    ],
)
def test_a_maps_result_file_that_is_not_step_functions_is_refused_by_name(
    s3: Any, invoke: Invoke, files: dict[str, list[dict[str, Any]]]
) -> None:
    uri = _map_run(s3, files)
    event = _event(variables={"topic": "t", "steps": {"each": {"results": None, "ref": uri, "truncated": True}}})
    with pytest.raises(ResponseDecodingError, match="map results"):
        invoke("PreprocessPromptFunction", event)
