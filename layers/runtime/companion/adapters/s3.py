"""S3 access for offloaded request and response bodies."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from companion.errors import OffloadedObjectNotFoundError, PayloadTooLargeError
from companion.s3uri import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Streamed reads: large enough to keep request overhead low, small enough to bound a function's memory.
STREAM_CHUNK_BYTES = 1024 * 1024
# Bedrock answers are at most a few MiB; anything far larger is not an answer and must not exhaust the function.
MAX_OBJECT_BYTES = 64 * 1024 * 1024


@cache
def default_client() -> S3Client:
    """The process-wide S3 client, created on first use so importing a handler costs no client set-up."""
    import boto3  # noqa: PLC0415  (deferred: keeps cold init of functions that never touch S3 free of boto3)

    return boto3.client("s3")


class S3ObjectStore:
    """Reads and writes JSON bodies in S3. ``client`` is injectable for tests (moto, Stubber)."""

    def __init__(self, client: S3Client | None = None) -> None:
        self._given_client = client

    @property
    def _client(self) -> S3Client:
        # Resolved on first use: a pre-process step that stays inline never loads boto3 at all.
        return self._given_client or default_client()

    def put_json(self, location: S3Location, body: bytes) -> None:
        """Write ``body`` at ``location`` with ``ContentType: application/json``, as Bedrock's Input.S3Uri needs."""
        self._client.put_object(Bucket=location.bucket, Key=location.key, Body=body, ContentType="application/json")

    def get_bytes(self, location: S3Location) -> bytes:
        """Read the object at ``location``, or the newest object under ``location.key + '/'``.

        The second form covers a service that treats an output URI as a folder and names the object itself (the
        shape of Step Functions' ``Output.S3Uri`` result is not documented).

        Raises
        ------
        OffloadedObjectNotFoundError
            Neither the object nor anything under it exists.
        PayloadTooLargeError
            The object exceeds ``MAX_OBJECT_BYTES``.
        """
        client_errors = self._client.exceptions
        try:
            return self._read(location)
        except client_errors.NoSuchKey:
            pass
        listing = self._client.list_objects_v2(Bucket=location.bucket, Prefix=location.key.rstrip("/") + "/")
        contents = listing.get("Contents", [])
        if not contents:
            raise OffloadedObjectNotFoundError(f"no object at {location.uri} (nor under it)")
        newest = max(contents, key=lambda obj: obj["LastModified"])
        return self._read(S3Location(location.bucket, newest["Key"]))

    def iter_chunks(self, location: S3Location, chunk_bytes: int = STREAM_CHUNK_BYTES) -> Iterator[bytes]:
        """Stream the object at ``location`` in chunks of at most ``chunk_bytes``: objects of any size, bounded memory.

        Raises
        ------
        OffloadedObjectNotFoundError
            No object at ``location`` (raised on the first iteration).
        """
        try:
            response: Any = self._client.get_object(Bucket=location.bucket, Key=location.key)
        except self._client.exceptions.NoSuchKey as exc:
            raise OffloadedObjectNotFoundError(f"no object at {location.uri}") from exc
        body = response["Body"]
        try:
            yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    def iter_lines(self, location: S3Location) -> Iterator[bytes]:
        """Stream the object at ``location`` line by line (``\\n``, ``\\r\\n``; line ends removed).

        Raises
        ------
        OffloadedObjectNotFoundError
            No object at ``location`` (raised on the first iteration).
        """
        rest = b""
        for chunk in self.iter_chunks(location):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line.removesuffix(b"\r")
        if rest:
            yield rest.removesuffix(b"\r")

    def _read(self, location: S3Location) -> bytes:
        response: Any = self._client.get_object(Bucket=location.bucket, Key=location.key)
        size = int(response.get("ContentLength", 0))
        if size > MAX_OBJECT_BYTES:
            response["Body"].close()
            raise PayloadTooLargeError(f"{location.uri} is {size} bytes; the limit is {MAX_OBJECT_BYTES}")
        data: bytes = response["Body"].read()
        return data
