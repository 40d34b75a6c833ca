"""Throughput and memory of the chain-batch summary over one large Distributed Map result file.

Figures, no assertions. Run as ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/batch_summary.py``.

``companion.chains.batch.summarize_batch`` reads the ResultWriter's files through its store port in 1 MiB
chunks and decodes one child record at a time; here the store serves an in-memory file (no S3, no moto), so the
figures are the function's own parsing and counting. Each record carries a chain output of about 1 KB, as a
three-step chain's ``{final, usage}`` does. Peak memory is tracemalloc's, measured in a second, separate pass, and
excludes the file itself (held by the store, as S3 would hold it).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RECORDS = 100_000
BUCKET = "benchmark-bucket"
RESULTS = "batches/results/run/SUCCEEDED_0.json"
MANIFEST = "batches/results/run/manifest.json"
CHUNK_BYTES = 1024 * 1024


class _Store:
    """The summary's store port over bytes in memory, served in 1 MiB chunks like the S3 adapter."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def iter_chunks(self, location: Any) -> Iterator[bytes]:
        data = self.objects[location.key]
        for start in range(0, len(data), CHUNK_BYTES):
            yield data[start : start + CHUNK_BYTES]

    def put_json(self, location: Any, body: bytes) -> None:
        self.objects[location.key] = body


def _objects() -> dict[str, bytes]:
    usage = {"input_tokens": 500, "output_tokens": 300, "steps_without_usage": 0}
    output = json.dumps({"final": {"text": "x" * 800, "json": None, "usage": usage}, "usage": usage})
    records = [
        {"Name": f"child-{index}", "Status": "SUCCEEDED", "Input": json.dumps({"topic": index}), "Output": output}
        for index in range(RECORDS)
    ]
    manifest = {"ResultFiles": {"SUCCEEDED": [{"Key": RESULTS}]}}
    return {RESULTS: json.dumps(records).encode(), MANIFEST: json.dumps(manifest).encode()}


def _summarize(store: _Store) -> Any:
    from companion.chains.batch import SummarizeBatchInput, summarize_batch  # noqa: PLC0415

    task = SummarizeBatchInput(
        execution_name="benchmark",
        chain="benchmark",
        prompt_set={"bucket": BUCKET, "key": "prompt-sets/benchmark.jsonl"},
        items=RECORDS,
        tolerated_failure_percentage=0,
        map={"ResultWriterDetails": {"Bucket": BUCKET, "Key": MANIFEST}},
    )
    return summarize_batch(task, bucket=BUCKET, store=store)


def main() -> None:
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))
    objects = _objects()
    size_mb = len(objects[RESULTS]) / 1e6
    started = time.perf_counter()
    output = _summarize(_Store(objects))
    seconds = time.perf_counter() - started
    tracemalloc.start()
    _summarize(_Store(objects))
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    if output.items.succeeded != RECORDS:
        raise SystemExit(f"the summary counted {output.items.succeeded} of {RECORDS} records")
    sys.stdout.write(
        f"batch summary: {RECORDS:,} records ({size_mb:.0f} MB) in {seconds:.2f} s: "
        f"{RECORDS / seconds:,.0f} records/s, {size_mb / seconds:.1f} MB/s, peak {peak_mb:.1f} MB (tracemalloc)\n"
    )


if __name__ == "__main__":
    main()
