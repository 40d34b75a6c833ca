"""Throughput and memory of the fine-tuning dataset validator, through ``validate_dataset`` (ValidateDatasetFunction).

Figures, no assertions. Every case runs in a fresh interpreter, so that one case's memory cannot hide another's:

- *moto*: the dataset is an object in moto's S3, as asked of the offline tier. moto answers GetObject with the
  whole body in memory, which real S3 never does (it streams from the socket): the memory figures of these cases
  include that copy of the dataset.
- *stream*: the same bytes from a local file behind a stubbed S3 client (``botocore.stub.Stubber``), read through
  botocore's ``StreamingBody`` as a Lambda reads the socket: the function's own memory.

Per case: one timed pass (records/s, MB/s, and the growth of the peak RSS, ``ru_maxrss``, over the RSS before the
pass), then one pass under ``tracemalloc`` for the peak of Python allocations (tracemalloc slows the pass several
times over, so that pass is not timed). The peak RSS is reset before the timed pass through ``/proc/self/clear_refs``
where Linux allows it; elsewhere the figure is the growth of the process's lifetime peak.

Datasets: Titan Text Express continued pre-training (``{"input"}`` records, valid up to its 100,000-record quota)
and Nova Lite fine-tuning (``bedrock-conversation-2024`` records; 100,000 is over Nova's 20,000-record quota, so that
dataset is refused, after the same full pass). Two cases also write a 0.5% split: into moto (whose copies of the
uploaded parts count in its figures), and on the stream to a client that keeps nothing (the upload path's own
memory: about one 8 MiB part per side, and a copy of the part being sent).

Run with ``make bench``, or ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/dataset_validation.py``;
``--records N`` changes the size, ``--large`` adds 1,000,000-record cases.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lambda_overhead import HANDLER_ENV, table

BUCKET = HANDLER_ENV["OFFLOAD_BUCKET"]
KEY = "fine-tuning/datasets/bench/train.jsonl"
DATASETS: dict[str, dict[str, Any]] = {
    "titan-cpt": {"base_model_id": "amazon.titan-text-express-v1:0:8k", "customization_type": "CONTINUED_PRE_TRAINING"},
    "nova-ft": {"base_model_id": "amazon.nova-lite-v1:0:300k", "customization_type": "FINE_TUNING"},
}


def _records(dataset: str, count: int) -> Iterator[bytes]:
    """``count`` JSONL lines of ~400 bytes; one encoded record with its number swapped in keeps generation cheap."""
    if dataset == "titan-cpt":
        record: dict[str, Any] = {"input": "Document 0. " + "Step Functions calls Bedrock directly. " * 10}
    else:
        record = {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You answer support questions for a cloud product."}],
            "messages": [
                {"role": "user", "content": [{"text": "Document 0. How do I reset my password?"}]},
                {"role": "assistant", "content": [{"text": "Open Settings, then Security, then Reset. " * 5}]},
            ],
        }
    line = json.dumps(record).encode() + b"\n"
    return (line.replace(b"Document 0.", b"Document %d." % i) for i in range(count))


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _current_rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return _peak_rss_bytes()
    return pages * os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------------------------------------------ one case


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """Generate the dataset, validate it twice (timed, then traced) and return the figures. Runs in the child."""
    os.environ.update(HANDLER_ENV)
    import boto3  # noqa: PLC0415  (imported after the environment is set, as in Lambda)

    from companion.adapters.s3 import S3ObjectStore  # noqa: PLC0415
    from companion.errors import DatasetValidationError  # noqa: PLC0415
    from companion.finetune.dataset import ValidateDatasetInput, validate_dataset  # noqa: PLC0415
    from companion.settings import ValidateDatasetSettings  # noqa: PLC0415

    event: dict[str, Any] = {
        "execution_name": f"bench-{case['dataset']}",
        "training_data_s3_uri": f"s3://{BUCKET}/{KEY}",
        **DATASETS[case["dataset"]],
    }
    if case["split"]:
        event["split"] = {"validation_fraction": case["split"], "seed": 1}
    task = ValidateDatasetInput.model_validate(event)
    settings = ValidateDatasetSettings(offload_bucket=BUCKET)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.jsonl"
        with path.open("wb") as file:
            for line in _records(case["dataset"], case["records"]):
                file.write(line)
        size = path.stat().st_size

        def validate(store: Any) -> str:
            try:
                output = validate_dataset(task, settings, store)
            except DatasetValidationError as exc:
                return "refused: " + "; ".join(exc.findings)[:140]
            return f"valid: {output.totals.training.records:,} training records"

        if case["source"] == "moto":
            from moto import mock_aws  # noqa: PLC0415

            with mock_aws():
                client = boto3.client("s3")
                client.create_bucket(Bucket=BUCKET)
                client.upload_file(str(path), BUCKET, KEY)
                return _measure(lambda: S3ObjectStore(client), validate, size, case)
        return _measure(lambda: _streaming_store(path, size, task), validate, size, case)


def _streaming_store(path: Path, size: int, task: Any) -> Any:
    """A store on a fresh S3 client stubbed to serve ``path`` as a streamed GetObject body, for one validation.

    Split outputs go through the real :class:`S3LineUpload` to a client that keeps nothing: what the upload path
    itself holds, without a backend's copy of what it receives.
    """
    import boto3  # noqa: PLC0415
    from botocore.response import StreamingBody  # noqa: PLC0415
    from botocore.stub import ANY, Stubber  # noqa: PLC0415

    from companion.adapters.s3 import S3LineUpload, S3ObjectStore  # noqa: PLC0415
    from companion.finetune.dataset import REPORT_KEY  # noqa: PLC0415

    class Store(S3ObjectStore):
        def open_line_upload(self, location: Any, **_: Any) -> S3LineUpload:
            return S3LineUpload(_DiscardingClient(), location)  # type: ignore[arg-type]

    client = boto3.client("s3")
    stubber = Stubber(client)
    key = {"Bucket": BUCKET, "Key": KEY}
    body = StreamingBody(io.BufferedReader(io.FileIO(path), 64 * 1024), size)
    stubber.add_response("get_object", {"Body": body, "ContentLength": size}, key)
    report = {"Bucket": BUCKET, "Key": REPORT_KEY.format(execution=task.execution_name), "Body": ANY}
    stubber.add_response("put_object", {}, {**report, "ContentType": "application/json"})
    stubber.activate()
    return Store(client)


class _DiscardingClient:
    """The S3 calls of a line upload, answered without keeping any body."""

    def create_multipart_upload(self, **_: Any) -> dict[str, Any]:
        return {"UploadId": "bench"}

    def upload_part(self, **kwargs: Any) -> dict[str, Any]:
        return {"ETag": f'"{kwargs["PartNumber"]}"', "ChecksumCRC32": "AAAAAA=="}

    def complete_multipart_upload(self, **_: Any) -> dict[str, Any]:
        return {}

    def abort_multipart_upload(self, **_: Any) -> dict[str, Any]:
        return {}

    def put_object(self, **_: Any) -> dict[str, Any]:
        return {}


def _measure(
    prepare: Callable[[], Any], validate: Callable[[Any], str], size: int, case: dict[str, Any]
) -> dict[str, Any]:
    store = prepare()
    reset = _reset_peak_rss()
    rss_before = _current_rss_bytes() if reset else _peak_rss_bytes()
    started = time.perf_counter()
    outcome = validate(store)
    elapsed = time.perf_counter() - started
    rss_growth = max(0, _peak_rss_bytes() - rss_before)
    store = prepare()
    tracemalloc.start()
    validate(store)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        **case,
        "bytes": size,
        "seconds": elapsed,
        "records_per_s": case["records"] / elapsed,
        "bytes_per_s": size / elapsed,
        "tracemalloc_peak": traced_peak,
        "rss_growth": rss_growth,
        "rss_reset": reset,
        "outcome": outcome,
    }


# ---------------------------------------------------------------------------------------------------------- main


def _in_child(case: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(case)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mb(value: float) -> str:
    return f"{value / 1_000_000:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="records per dataset (default 100,000)")
    parser.add_argument("--large", action="store_true", help="add 1,000,000-record cases (about 420 MB each)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(json.loads(args.child))))
        return

    cases = [
        {"dataset": "titan-cpt", "source": "stream", "records": args.records, "split": None},
        {"dataset": "titan-cpt", "source": "moto", "records": args.records, "split": None},
        {"dataset": "titan-cpt", "source": "stream", "records": args.records, "split": 0.005},
        {"dataset": "titan-cpt", "source": "moto", "records": args.records, "split": 0.005},
        {"dataset": "nova-ft", "source": "stream", "records": args.records, "split": None},
        {"dataset": "nova-ft", "source": "moto", "records": args.records, "split": None},
    ]
    if args.large:
        cases += [
            {"dataset": "titan-cpt", "source": "stream", "records": 1_000_000, "split": None},
            {"dataset": "titan-cpt", "source": "moto", "records": 1_000_000, "split": None},
        ]
    started = time.perf_counter()
    results = []
    for case in cases:
        print(f"[{time.perf_counter() - started:5.0f}s] {case}", file=sys.stderr, flush=True)
        results.append(_in_child(case))
    rows = [
        [
            result["dataset"],
            result["source"] + (f" + {result['split']:.1%} split" if result["split"] else ""),
            f"{result['records']:,}",
            _mb(result["bytes"]),
            f"{result['seconds']:.2f}",
            f"{result['records_per_s']:,.0f}",
            _mb(result["bytes_per_s"]),
            _mb(result["tracemalloc_peak"]),
            _mb(result["rss_growth"]),
        ]
        for result in results
    ]
    print(
        f"Dataset validation benchmark: Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s. One timed pass per case, in its own process."
    )
    print()
    print(
        table(
            ["dataset", "source", "records", "MB", "seconds", "records/s", "MB/s", "tracemalloc MB", "peak RSS +MB"],
            rows,
            right=(2, 3, 4, 5, 6, 7, 8),
        )
    )
    print()
    for result in results:
        print(f"  {result['dataset']} / {result['source']} / {result['records']:,}: {result['outcome']}")
    if not all(result["rss_reset"] for result in results):
        print("  (peak RSS could not be reset here: 'peak RSS +MB' is the growth of the process's lifetime peak)")
    print("  moto holds a whole object in memory to answer GetObject: its rows include that copy; real S3 streams.")


if __name__ == "__main__":
    main()
