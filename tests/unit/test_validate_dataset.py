"""The ValidateDataset Lambda: S3 emulated by moto (Stubber where exact requests matter), the real handler."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import errors
from companion.adapters.s3 import S3LineUpload, S3ObjectStore
from companion.finetune.dataset import ValidateDatasetInput, validate_dataset
from companion.s3uri import S3Location
from companion.settings import ValidateDatasetSettings
from tools.local_lambda import LocalLambdaContext

BUCKET = "companion-test-payloads"
NOVA = "amazon.nova-lite-v1:0:300k"
TITAN = "amazon.titan-text-express-v1:0:8k"
TRAIN_KEY = "fine-tuning/datasets/support/train.jsonl"
REPORT_KEY = "fine-tuning/reports/exec-1/dataset-report.json"
SPLIT_KEYS = ("fine-tuning/splits/exec-1/training.jsonl", "fine-tuning/splits/exec-1/validation.jsonl")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def handler() -> Handler:
    from validate_dataset.app import lambda_handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, LocalLambdaContext(function_name="ValidateDatasetFunction"))

    return call


def _record(i: int, answer: str = "Open Settings, then Security.") -> bytes:
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You answer support questions."}],
        "messages": [
            {"role": "user", "content": [{"text": f"Question {i}: how do I reset my password?"}]},
            {"role": "assistant", "content": [{"text": answer}]},
        ],
    }
    return json.dumps(record).encode()


def _dataset(count: int, bad: dict[int, bytes] | None = None) -> bytes:
    lines = [_record(i) for i in range(count)]
    for number, line in (bad or {}).items():
        lines[number - 1] = line
    return b"\n".join(lines) + b"\n"


def _event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "execution_name": "exec-1",
        "base_model_id": NOVA,
        "training_data_s3_uri": f"s3://{BUCKET}/{TRAIN_KEY}",
        "hyperparameters": {"epochCount": 2, "learningRate": 0.00001},
    }
    return event | overrides


def _bucket(s3: Any) -> dict[str, bytes]:
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def _report(s3: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(s3.get_object(Bucket=BUCKET, Key=REPORT_KEY)["Body"].read())
    return report


# -------------------------------------------------------------------------------------------------- happy paths


def test_a_valid_dataset_with_a_validation_file_is_handed_on(s3: Any, handler: Handler) -> None:
    # Given a training and a validation file
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(100))
    s3.put_object(Bucket=BUCKET, Key="fine-tuning/datasets/support/valid.jsonl", Body=_dataset(10))
    event = _event(validation_data_s3_uri=f"s3://{BUCKET}/fine-tuning/datasets/support/valid.jsonl")
    # When validated
    output = handler(event)
    # Then the job gets both URIs unchanged, string hyperparameters, and the totals
    assert output["valid"] is True
    assert output["base_model_id"] == NOVA
    assert output["customization_type"] == "FINE_TUNING"
    assert output["record_format"] == "bedrock-conversation-2024"
    assert output["training_data_s3_uri"] == event["training_data_s3_uri"]
    assert output["validation_data_s3_uri"] == event["validation_data_s3_uri"]
    assert output["hyperparameters"] == {"epochCount": "2", "learningRate": "0.00001"}
    assert output["report_s3_uri"] == f"s3://{BUCKET}/{REPORT_KEY}"
    assert output["totals"]["training"]["records"] == 100
    assert output["totals"]["training"]["bytes"] == len(_dataset(100))
    assert output["totals"]["validation"]["records"] == 10
    # And the report is in S3, valid, and the output stays small for the state payload
    report = _report(s3)
    assert report["valid"] is True
    assert report["validation"]["result"]["totals"]["records"] == 10
    assert len(json.dumps(output)) < 4096


def test_absent_options_are_completed_with_the_one_set_of_defaults(s3: Any, handler: Handler) -> None:
    # Given a request as the retraining schedule sends it: no customization type, hyperparameters or model units
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(100))
    event = _event(provisioned_throughput={"opt_in": True})
    del event["hyperparameters"]

    # When validated
    output = handler(event)

    # Then the output the state machine reads on carries the completed options
    assert output["customization_type"] == "FINE_TUNING"
    assert output["hyperparameters"] == {}
    assert output["provisioned_throughput"] == {"opt_in": True, "model_units": 1}
    # And without a throughput request there is none to buy
    assert handler(_event())["provisioned_throughput"] is None


def test_a_split_hands_on_its_two_objects(s3: Any, handler: Handler) -> None:
    # Given 1,000 valid records and a 10% split
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(1000))
    # When validated with a split, twice (a retry)
    first = handler(_event(split={"validation_fraction": 0.1, "seed": 7}))
    training = s3.get_object(Bucket=BUCKET, Key=SPLIT_KEYS[0])["Body"].read()
    validation = s3.get_object(Bucket=BUCKET, Key=SPLIT_KEYS[1])["Body"].read()
    second = handler(_event(split={"validation_fraction": 0.1, "seed": 7}))
    # Then the job gets the split objects, which hold every record once, and a retry writes the same split
    assert first["training_data_s3_uri"] == f"s3://{BUCKET}/{SPLIT_KEYS[0]}"
    assert first["validation_data_s3_uri"] == f"s3://{BUCKET}/{SPLIT_KEYS[1]}"
    assert sorted(training.splitlines() + validation.splitlines()) == sorted(_dataset(1000).splitlines())
    assert first["totals"]["validation"]["records"] == len(validation.splitlines())
    assert 60 <= len(validation.splitlines()) <= 140
    assert first == second
    assert s3.get_object(Bucket=BUCKET, Key=SPLIT_KEYS[1])["Body"].read() == validation
    assert _report(s3)["split"]["training_s3_uri"] == first["training_data_s3_uri"]


def _metrics(output: str) -> dict[str, Any]:
    """The metric values of the EMF lines Powertools printed (one flush per invocation)."""
    found: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            emf = json.loads(line)
            for metric in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                found[metric["Name"]] = emf[metric["Name"]]
    return found


def test_records_and_invalid_lines_are_metrics_on_both_outcomes(
    s3: Any, handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a valid dataset, then one with two bad lines
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(50))
    handler(_event())
    assert _metrics(capsys.readouterr().out) == {"DatasetRecords": [50.0], "DatasetInvalidLines": [0.0]}
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(50, bad={1: b"{", 2: b"[]"}))
    with pytest.raises(errors.DatasetValidationError):
        handler(_event())
    # Then the failing invocation still reports how many lines were invalid
    assert _metrics(capsys.readouterr().out) == {"DatasetInvalidLines": [2.0]}


# --------------------------------------------------------------------------------------------------- bad datasets


def test_the_report_is_written_before_the_error_and_nothing_else_is_touched(s3: Any, handler: Handler) -> None:
    # Given a dataset with three bad lines, and objects already in the bucket (another run's report and split)
    dataset = _dataset(200, bad={3: b"{not json", 57: _record(1, answer=" "), 120: b"\xff\xfe"})
    existing = {
        TRAIN_KEY: dataset,
        "fine-tuning/reports/exec-0/dataset-report.json": b'{"valid": true}',
        "fine-tuning/splits/exec-0/training.jsonl": b"{}\n",
        "offload/requests/other/step.json": b"{}",
    }
    for key, body in existing.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    # When validated with a split requested
    with pytest.raises(errors.DatasetValidationError) as caught:
        handler(_event(split={"validation_fraction": 0.2}))
    # Then the error names the report, the count and the first lines with their reasons
    message = str(caught.value)
    assert "training dataset s3://companion-test-payloads/fine-tuning/datasets/support/train.jsonl" in message
    assert "3 invalid of 200 lines (line 3: not valid JSON" in message
    assert "line 57: messages[1].content[0].text: is empty or only whitespace" in message
    assert "line 120: not valid UTF-8 (byte 0xff at byte 1 of the line)" in message
    assert message.endswith(f"full report: s3://{BUCKET}/{REPORT_KEY}")
    assert caught.value.invalid_lines == 3
    # And the report exists and says the same, with no split claimed
    report = _report(s3)
    assert report["valid"] is False
    assert [p["line"] for p in report["training"]["result"]["first_invalid_lines"]] == [3, 57, 120]
    assert report["split"] == {
        "validation_fraction": 0.2,
        "seed": 0,
        "training_s3_uri": None,
        "validation_s3_uri": None,
    }
    # And the bucket holds what it held plus this run's report: no split object, nothing overwritten
    assert _bucket(s3) == {**existing, REPORT_KEY: s3.get_object(Bucket=BUCKET, Key=REPORT_KEY)["Body"].read()}
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_too_few_records_name_the_minimum(s3: Any, handler: Handler) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(5))
    with pytest.raises(errors.DatasetValidationError, match=r"has 5 valid records; Amazon Nova .* needs at least 32"):
        handler(_event())
    assert _report(s3)["training"]["result"]["problems"]


def test_a_bad_validation_file_fails_the_dataset(s3: Any, handler: Handler) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(50))
    key = "fine-tuning/datasets/support/v.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body=_dataset(5, bad={2: b'{"prompt": "a", "completion": "b"}'}))
    with pytest.raises(errors.DatasetValidationError, match=r"validation dataset s3://\S+/v.jsonl: 1 invalid of 5"):
        handler(_event(validation_data_s3_uri=f"s3://{BUCKET}/{key}"))


@pytest.mark.parametrize("field", ["training_data_s3_uri", "validation_data_s3_uri"])
def test_a_missing_object_is_the_not_found_error(s3: Any, handler: Handler, field: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(50))
    missing = f"s3://{BUCKET}/fine-tuning/datasets/missing.jsonl"
    with pytest.raises(errors.OffloadedObjectNotFoundError, match=f"no object at {missing}"):
        handler(_event(**{field: missing}))
    assert _bucket(s3) == {TRAIN_KEY: _dataset(50)}


def test_bad_hyperparameters_fail_before_any_s3_request(handler: Handler) -> None:
    # No s3 fixture: any request would leave moto-less boto3 trying the network, which the unit tier refuses
    with pytest.raises(errors.HyperparameterValidationError, match="epochCount: 9 is out of range: allowed from 1"):
        handler(_event(hyperparameters={"epochCount": 9}))
    with pytest.raises(errors.UnsupportedBaseModelError):
        handler(_event(base_model_id="openai.gpt-9"))


class OversizedObject:
    """What the GET of a file over the documented limits answers: its size, and a body that must not be read."""

    size = 1_000_000_001

    def __init__(self) -> None:
        self.closed = False

    def chunks(self) -> Iterator[bytes]:
        raise AssertionError("a file over the size limit must not be read")

    def close(self) -> None:
        self.closed = True


class SizedStore(S3ObjectStore):
    """Every dataset object it opens is over the documented limits (the objects themselves would not fit a test)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.opened: list[OversizedObject] = []

    def open_object(self, location: S3Location) -> Any:
        self.opened.append(OversizedObject())
        return self.opened[-1]


def test_a_file_over_the_size_limit_is_refused_unread(s3: Any) -> None:
    task = ValidateDatasetInput.model_validate(_event(validation_data_s3_uri=f"s3://{BUCKET}/fine-tuning/datasets/v"))
    store = SizedStore(s3)
    with pytest.raises(errors.DatasetValidationError) as caught:
        validate_dataset(task, ValidateDatasetSettings(offload_bucket=BUCKET), store)
    # (each refused unread, its connection released)
    assert [opened.closed for opened in store.opened] == [True, True]
    assert "takes validation files of at most 100,000,000 (not read)" in str(caught.value)
    assert (
        "the file is 1,000,000,001 bytes; Amazon Nova Micro, Lite, Pro takes training files of at most 1,000,000,000"
        in str(caught.value)
    )


# ---------------------------------------------------------------------------------------------------- bad inputs

HOSTILE_CASES = [
    (
        "split and a validation file",
        {"split": {"validation_fraction": 0.1}, "validation_data_s3_uri": "s3://b/v"},
        "not both",
    ),
    ("fraction over half", {"split": {"validation_fraction": 0.6}}, "split.validation_fraction"),
    ("fraction zero", {"split": {"validation_fraction": 0}}, "split.validation_fraction"),
    ("distillation", {"customization_type": "DISTILLATION"}, "customization_type"),
    ("a boolean hyperparameter", {"hyperparameters": {"epochCount": True}}, "hyperparameters.epochCount"),
    ("a nested hyperparameter", {"hyperparameters": {"epochCount": {"v": 1}}}, "hyperparameters.epochCount"),
    ("not a URI", {"training_data_s3_uri": "train.jsonl"}, "training_data_s3_uri"),
    ("unknown field", {"dataset": "x"}, "dataset: Extra inputs"),
    ("no execution name", {"execution_name": ""}, "execution_name"),
    ("too many reported", {"max_reported_errors": 5000}, "max_reported_errors"),
]


@pytest.mark.parametrize(("name", "change", "where"), HOSTILE_CASES, ids=[case[0] for case in HOSTILE_CASES])
def test_bad_input_fields_are_input_validation_errors(
    handler: Handler, name: str, change: dict[str, Any], where: str
) -> None:
    with pytest.raises(errors.InputValidationError, match=where):
        handler(_event(**change))


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://attacker-bucket/fine-tuning/datasets/train.jsonl", "outside the configured bucket"),
        (f"s3://{BUCKET}/offload/train.jsonl", "outside the allowed prefix 'fine-tuning/datasets/'"),
        (f"s3://{BUCKET}/fine-tuning/datasets/../reports/x.jsonl", "outside the allowed prefix"),
    ],
)
def test_dataset_uris_outside_the_dataset_prefix_are_refused(s3: Any, handler: Handler, uri: str, message: str) -> None:
    with pytest.raises(errors.S3LocationError, match=message):
        handler(_event(training_data_s3_uri=uri))
    assert _bucket(s3) == {}


def test_datasets_can_live_in_their_own_bucket(s3: Any) -> None:
    # Given a deployment reading datasets from another bucket
    s3.create_bucket(Bucket="companion-test-datasets")
    s3.put_object(Bucket="companion-test-datasets", Key=TRAIN_KEY, Body=_dataset(40))
    settings = ValidateDatasetSettings(offload_bucket=BUCKET, dataset_bucket="companion-test-datasets")
    task = ValidateDatasetInput.model_validate(_event(training_data_s3_uri=f"s3://companion-test-datasets/{TRAIN_KEY}"))
    # When validated
    output = validate_dataset(task, settings, S3ObjectStore(s3))
    # Then the dataset is read there and the report still goes to the function's own bucket
    assert output.training_data_s3_uri == f"s3://companion-test-datasets/{TRAIN_KEY}"
    assert output.report_s3_uri == f"s3://{BUCKET}/{REPORT_KEY}"
    # ... while the offload bucket is now outside what the function reads
    with pytest.raises(errors.S3LocationError, match="outside the configured bucket 'companion-test-datasets'"):
        validate_dataset(ValidateDatasetInput.model_validate(_event()), settings, S3ObjectStore(s3))


@pytest.mark.parametrize(
    ("key", "split"), [(REPORT_KEY, None), (SPLIT_KEYS[0], {"validation_fraction": 0.1})], ids=["report", "split"]
)
def test_a_dataset_cannot_be_an_output_of_the_same_execution(s3: Any, key: str, split: Any) -> None:
    # Given a deployment that lets datasets live anywhere in the bucket
    settings = ValidateDatasetSettings(offload_bucket=BUCKET, dataset_prefix="")
    s3.put_object(Bucket=BUCKET, Key=key, Body=_dataset(40))
    task = ValidateDatasetInput.model_validate(_event(training_data_s3_uri=f"s3://{BUCKET}/{key}", split=split))
    # Then reading a file this run would overwrite is refused before anything is read or written
    with pytest.raises(errors.S3LocationError, match="is where this execution writes its own output"):
        validate_dataset(task, settings, S3ObjectStore(s3))
    assert _bucket(s3) == {key: _dataset(40)}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(min_value=0, max_value=9), value=JSON_VALUES, drop=st.booleans())
def test_any_one_field_replaced_by_any_json_raises_only_named_errors(
    s3: Any, handler: Handler, load_event: Callable[[str], dict[str, Any]], pick: int, value: Any, drop: bool
) -> None:
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=_dataset(40))
    event = load_event("lambda/validate_dataset.json")
    event["training_data_s3_uri"] = f"s3://{BUCKET}/{TRAIN_KEY}"
    keys = sorted(event)
    target = keys[pick % len(keys)]
    mutated = copy.deepcopy(event)
    if drop:
        del mutated[target]
    else:
        mutated[target] = value
    with contextlib.suppress(errors.CompanionError):
        handler(mutated)


# ------------------------------------------------------------------------------------------------------ streaming


class ChunkSpy:
    """Wraps an S3 client so that every chunk read from a GetObject body is measured."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.reads: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **kwargs: Any) -> Any:
        response = self._client.get_object(**kwargs)
        body = response["Body"]
        spy = self

        class Body:
            def iter_chunks(self, chunk_bytes: int) -> Iterator[bytes]:
                for chunk in body.iter_chunks(chunk_bytes):
                    spy.reads.append(len(chunk))
                    yield chunk

            def close(self) -> None:
                body.close()

        return {**response, "Body": Body()}


def test_a_dataset_larger_than_any_read_is_streamed_and_split_in_parts(s3: Any) -> None:
    # Given ~11 MB of records: many 1 MiB reads, records across read boundaries, and a training side over one
    # 8 MiB upload part
    dataset = b"".join(_record(i, answer="Open Settings, then Security. " * 20) + b"\n" for i in range(14_000))
    s3.put_object(Bucket=BUCKET, Key=TRAIN_KEY, Body=dataset)
    spy = ChunkSpy(s3)
    task = ValidateDatasetInput.model_validate(_event(split={"validation_fraction": 0.05, "seed": 3}))
    # When validated through the real adapter
    output = validate_dataset(task, ValidateDatasetSettings(offload_bucket=BUCKET), S3ObjectStore(spy))
    # Then no read was larger than 1 MiB, yet every record counted, and the split objects hold them all
    assert len(dataset) > 10 * 1024 * 1024
    assert max(spy.reads) <= 1024 * 1024
    assert sum(spy.reads) == len(dataset)
    assert (
        output.totals.training.records + (output.totals.validation.records if output.totals.validation else 0) == 14_000
    )
    training = s3.get_object(Bucket=BUCKET, Key=SPLIT_KEYS[0])
    assert training["ContentLength"] == output.totals.training.bytes > 8 * 1024 * 1024
    assert "-" in training["ETag"]  # a multipart object: the ETag of a single PutObject has no part count
    assert training["ContentType"] == "application/jsonl"


def test_a_line_upload_that_is_aborted_leaves_nothing(s3: Any) -> None:
    # Given an upload that has sent a part already
    upload = S3ObjectStore(s3).open_line_upload(S3Location(BUCKET, "out.jsonl"), part_bytes=5 * 1024 * 1024)
    for _ in range(60_000):
        upload.write(b"x" * 100)
    assert s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    # When aborted (twice: aborting is idempotent)
    upload.abort()
    upload.abort()
    # Then neither an object nor an unfinished upload remains, and the upload takes no more lines
    assert _bucket(s3) == {}
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    with pytest.raises(RuntimeError, match="already committed or aborted"):
        upload.write(b"late")


def test_a_small_line_upload_is_one_put(s3: Any) -> None:
    client = S3ObjectStore(s3)._client
    with Stubber(client) as stubber:
        expected = {"Bucket": BUCKET, "Key": "out.jsonl", "Body": b"a\nb\n", "ContentType": "application/jsonl"}
        stubber.add_response("put_object", {}, expected)
        upload = S3LineUpload(client, S3Location(BUCKET, "out.jsonl"))
        upload.write(b"a")
        upload.write(b"b")
        upload.commit()
        stubber.assert_no_pending_responses()


def test_parts_smaller_than_s3_allows_are_refused(s3: Any) -> None:
    with pytest.raises(ValueError, match="at least 5242880"):
        S3LineUpload(s3, S3Location(BUCKET, "out.jsonl"), part_bytes=1024)


class GeneratedStream(io.RawIOBase):
    """A readable stream whose bytes are produced on demand: a dataset that never exists in memory as a whole."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                self._pending = next(self._lines, b"")
                if not self._pending:
                    break
            size = min(len(view) - filled, len(self._pending))
            view[filled : filled + size] = self._pending[:size]
            self._pending = self._pending[size:]
            filled += size
        return filled


def _documents(count: int) -> Iterator[bytes]:
    # One encoded record with its number swapped in: the stream costs next to nothing beside the validation.
    line = json.dumps({"input": "Document 0. " + "Step Functions calls Bedrock directly. " * 10}).encode() + b"\n"
    return (line.replace(b"Document 0.", b"Document %d." % i) for i in range(count))


def test_a_100000_record_dataset_from_s3_is_validated_in_bounded_memory() -> None:
    # Given a 100,000-record object (~45 MB, continued pre-training for Titan, whose quota is 100,000 records) served
    # by a stubbed S3 client from a generator: the dataset never exists in memory as a whole
    size = sum(len(line) for line in _documents(100_000))
    client = boto3.client("s3", region_name="us-east-1")
    body = StreamingBody(io.BufferedReader(GeneratedStream(_documents(100_000)), 64 * 1024), size)
    key = {"Bucket": BUCKET, "Key": TRAIN_KEY}
    task = ValidateDatasetInput.model_validate(
        _event(base_model_id=TITAN, customization_type="CONTINUED_PRE_TRAINING", hyperparameters={})
    )
    with Stubber(client) as stubber:
        stubber.add_response("get_object", {"Body": body, "ContentLength": size}, key)
        stubber.add_response(
            "put_object", {}, {"Bucket": BUCKET, "Key": REPORT_KEY, "Body": ANY, "ContentType": "application/json"}
        )
        # When validated through the task and the real adapter while tracing every Python allocation
        tracemalloc.start()
        try:
            output = validate_dataset(task, ValidateDatasetSettings(offload_bucket=BUCKET), S3ObjectStore(client))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        stubber.assert_no_pending_responses()
    # Then every record counted, and the peak stayed at a few 1 MiB read buffers, not the dataset
    assert output.totals.training.records == 100_000
    assert output.totals.training.bytes == size
    assert size > 40_000_000
    assert peak < size / 8
