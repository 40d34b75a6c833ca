"""The batch domain (companion.chains.batch) with an in-memory store: prompt-set checks, the streamed summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from companion.chains.batch import (
    PrepareBatchInput,
    SummarizeBatchInput,
    prepare_batch,
    summarize_batch,
)
from companion.errors import (
    InputValidationError,
    OffloadedObjectNotFoundError,
    PromptSetInvalidError,
    PromptSetNotFoundError,
    S3LocationError,
)
from companion.s3uri import S3Location

BUCKET = "payload-bucket"


class MemoryStore:
    """Objects in a dict, served in chunks of ``chunk`` bytes so that records and characters straddle chunks."""

    def __init__(self, chunk: int = 7) -> None:
        self.objects: dict[str, bytes] = {}
        self.chunk = chunk

    def iter_chunks(self, location: S3Location) -> Iterator[bytes]:
        if location.key not in self.objects:
            raise OffloadedObjectNotFoundError(f"no object at {location.uri}")
        data = self.objects[location.key]
        for start in range(0, len(data), self.chunk):
            yield data[start : start + self.chunk]

    def put_json(self, location: S3Location, body: bytes) -> None:
        self.objects[location.key] = body


def prepare(store: MemoryStore, prompt_set: str = "prompt-sets/p.jsonl") -> Any:
    return prepare_batch(
        PrepareBatchInput(chain="outline-draft-critique", prompt_set=prompt_set), bucket=BUCKET, store=store
    )


def test_prepare_counts_the_prompts_and_returns_the_chain_plan() -> None:
    store = MemoryStore()
    store.objects["prompt-sets/p.jsonl"] = b'{"topic": "a"}\r\n\n{"topic": "\xc3\xa9t\xc3\xa9"}\n'
    prepared = prepare(store)
    assert prepared.items == 2
    assert [stage["name"] for stage in prepared.plan] == ["outline", "draft", "critique"]
    assert (prepared.prompt_set.bucket, prepared.prompt_set.key) == (BUCKET, "prompt-sets/p.jsonl")


def test_prepare_names_every_bad_line_with_its_number() -> None:
    store = MemoryStore()
    store.objects["prompt-sets/p.jsonl"] = b'{"ok": 1}\nnope\n"text"\n\xff\xfe\n{"ok": 2}\n'
    with pytest.raises(PromptSetInvalidError) as raised:
        prepare(store)
    message = str(raised.value)
    assert "3 line(s)" in message
    assert "line 2: not JSON" in message
    assert "line 3: a JSON str" in message
    assert "line 4: not UTF-8 text" in message


def test_prepare_refuses_an_empty_set_a_missing_one_and_one_outside_the_prefix() -> None:
    store = MemoryStore()
    store.objects["prompt-sets/empty.jsonl"] = b"\n\n"
    with pytest.raises(PromptSetInvalidError, match="no lines"):
        prepare(store, "prompt-sets/empty.jsonl")
    with pytest.raises(PromptSetNotFoundError, match=r"prompt-sets/missing\.jsonl"):
        prepare(store, "prompt-sets/missing.jsonl")
    with pytest.raises(S3LocationError):
        prepare(store, "offload/requests/x.jsonl")
    with pytest.raises(S3LocationError):
        prepare(store, "s3://another-bucket/prompt-sets/p.jsonl")


def record(index: int, status: str, **fields: Any) -> dict[str, Any]:
    item = {"chain": "c", "plan": [], "input": {"topic": f"t{index}"}, "index": index}
    return {"Name": f"child-{index}", "Status": status, "Input": json.dumps(item), **fields}


def summarize(store: MemoryStore, map_result: dict[str, Any], items: int = 3) -> Any:
    task = SummarizeBatchInput(
        execution_name="nightly",
        chain="c",
        prompt_set={"bucket": BUCKET, "key": "prompt-sets/p.jsonl"},
        items=items,
        tolerated_failure_percentage=50,
        map=map_result,
    )
    return summarize_batch(task, bucket=BUCKET, store=store)


def test_summary_counts_statuses_adds_tokens_and_unwraps_the_chains_errors() -> None:
    # Given a manifest with a succeeded file (records straddling 7-byte chunks, non-ASCII text) and a failed one
    store = MemoryStore()
    usage = {"input_tokens": 10, "output_tokens": 4, "steps_without_usage": 1}
    succeeded = [
        record(0, "SUCCEEDED", Output=json.dumps({"final": {"text": "ünïcode"}, "usage": usage})),
        record(2, "SUCCEEDED", Output=json.dumps({"final": {"text": "b"}, "usage": usage})),
    ]
    described = {"Status": "FAILED", "Error": "Bedrock.ValidationException", "Cause": "bad model"}
    failed = [record(1, "FAILED", Error="States.TaskFailed", Cause=json.dumps(described))]
    store.objects["batches/results/run/SUCCEEDED_0.json"] = json.dumps(succeeded, ensure_ascii=False).encode()
    store.objects["batches/results/run/FAILED_0.json"] = json.dumps(failed).encode()
    manifest = {
        "ResultFiles": {
            "SUCCEEDED": [{"Key": "batches/results/run/SUCCEEDED_0.json"}],
            "FAILED": [{"Key": "batches/results/run/FAILED_0.json"}],
        }
    }
    store.objects["batches/results/run/manifest.json"] = json.dumps(manifest).encode()
    # When the batch is summarized
    output = summarize(store, {"ResultWriterDetails": {"Bucket": BUCKET, "Key": "batches/results/run/manifest.json"}})
    # Then the counts, the percentage and the tokens add up, and the failure is the chain's own error
    assert (output.status, output.items.succeeded, output.items.failed, output.items.not_reported) == (
        "SUCCEEDED", 2, 1, 0,
    )  # fmt: skip
    assert output.failure_percentage == pytest.approx(33.33)
    assert (output.tokens.input, output.tokens.output, output.tokens.steps_without_usage) == (20, 8, 2)
    stored = json.loads(store.objects["batches/summaries/nightly/summary.json"])
    assert stored["failures"] == [
        {"index": 1, "input": '{"topic": "t1"}', "status": "FAILED", "error": "Bedrock.ValidationException",
         "cause": "bad model"},
    ]  # fmt: skip


def test_a_failed_map_is_summarized_and_reported_under_a_name_a_fail_state_may_raise() -> None:
    store = MemoryStore()
    output = summarize(store, {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "threshold exceeded"})
    assert output.status == "FAILED"
    assert output.error == "ChainBatch.ExceedToleratedFailureThreshold"
    assert "batches/summaries/nightly/summary.json" in str(output.cause)
    stored = json.loads(store.objects["batches/summaries/nightly/summary.json"])
    assert (stored["error"], stored["items"]["not_reported"]) == ("States.ExceedToleratedFailureThreshold", 3)


@pytest.mark.parametrize(
    "body",
    [b'[{"Status": "SUCCEEDED"}', b'{"Status": "SUCCEEDED"}', b"[1, 2]", b'[{"a": 1}] trailing', b"[\xff]"],
)
def test_a_result_file_that_is_not_an_array_of_records_is_a_named_error(body: bytes) -> None:
    store = MemoryStore()
    store.objects["batches/results/run/SUCCEEDED_0.json"] = body
    manifest = {"ResultFiles": {"SUCCEEDED": [{"Key": "batches/results/run/SUCCEEDED_0.json"}]}}
    store.objects["batches/results/run/manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(InputValidationError, match=r"SUCCEEDED_0\.json"):
        summarize(store, {"ResultWriterDetails": {"Bucket": BUCKET, "Key": "batches/results/run/manifest.json"}})


def test_a_manifest_outside_the_results_prefix_is_refused() -> None:
    with pytest.raises(S3LocationError):
        summarize(MemoryStore(), {"ResultWriterDetails": {"Bucket": BUCKET, "Key": "offload/responses/manifest.json"}})


def test_a_line_that_would_not_fit_an_execution_input_beside_the_plan_is_named() -> None:
    # Given a prompt set whose second line is 255 KiB: with the chain's plan, over Step Functions' 256 KiB input
    store = MemoryStore(chunk=64 * 1024)
    big = json.dumps({"topic": "x" * (255 * 1024)}).encode()
    store.objects["prompt-sets/p.jsonl"] = b'{"topic": "a"}\n' + big + b"\n"
    # Then the set is refused before any chain runs, naming the line and its size
    with pytest.raises(PromptSetInvalidError, match=r"line 2: \d+ bytes: over the \d+ an execution input leaves it"):
        prepare(store)


def test_tokens_no_succeeded_chain_kept_are_counted_apart() -> None:
    # Given a chain that kept answers and also had one rejected by its re-prompt loop, and a chain that failed after
    # a step had received an answer (its failure cause carries that usage), whose Lambda cause holds a stack trace
    store = MemoryStore()
    kept = {"input_tokens": 10, "output_tokens": 4, "unaccepted": {"input_tokens": 7, "output_tokens": 3}}
    lambda_cause = json.dumps({"errorMessage": "cut off", "errorType": "E", "stackTrace": ['File "/var/task/a.py"']})
    chain_failure = {"step": "s", "error": "E", "cause": lambda_cause, "usage": {"input_tokens": 5, "output_tokens": 2}}
    described = {"Status": "FAILED", "Error": "E", "Cause": json.dumps(chain_failure)}
    records = [
        record(0, "SUCCEEDED", Output=json.dumps({"usage": kept})),
        record(1, "FAILED", Error="States.TaskFailed", Cause=json.dumps(described)),
    ]
    store.objects["batches/results/run/R_0.json"] = json.dumps(records).encode()
    manifest = {"ResultFiles": {"SUCCEEDED": [{"Key": "batches/results/run/R_0.json"}]}}
    store.objects["batches/results/run/manifest.json"] = json.dumps(manifest).encode()
    # When the batch is summarized
    output = summarize(store, {"ResultWriterDetails": {"Bucket": BUCKET, "Key": "batches/results/run/manifest.json"}})
    # Then the kept answers' tokens stay apart from the rest, which is counted too
    assert (output.tokens.input, output.tokens.output) == (10, 4)
    assert (output.tokens.unaccepted_input, output.tokens.unaccepted_output) == (7 + 5, 3 + 2)
    # And the stored failure keeps the error's message without the stack trace
    stored = json.loads(store.objects["batches/summaries/nightly/summary.json"])
    assert "cut off" in stored["failures"][0]["cause"]
    assert "/var/task" not in stored["failures"][0]["cause"]
