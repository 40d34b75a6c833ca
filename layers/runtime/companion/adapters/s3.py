"""S3 access for offloaded request and response bodies."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from companion.errors import (
    OffloadedObjectNotFoundError,
    PayloadTooLargeError,
    S3AccessDeniedError,
    S3LocationError,
)
from companion.s3uri import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

# Streamed reads: large enough to keep request overhead low, small enough to bound a function's memory.
STREAM_CHUNK_BYTES = 1024 * 1024
# Bedrock answers are at most a few MiB; anything far larger is not an answer and must not exhaust the function.
MAX_OBJECT_BYTES = 64 * 1024 * 1024
# Line uploads (fine-tuning splits): S3 refuses multipart parts below 5 MiB, except the last one.
MIN_PART_BYTES = 5 * 1024 * 1024
LINE_UPLOAD_PART_BYTES = 8 * 1024 * 1024
_JSONL = "application/jsonl"


@cache
def default_client() -> S3Client:
    """The process-wide S3 client, created on first use so importing a handler costs no client set-up."""
    import boto3  # noqa: PLC0415  (deferred: keeps cold init of functions that never touch S3 free of boto3)

    return boto3.client("s3")


class ObjectStream:
    """An object opened by one GET: ``size`` from the response, the body read only by :meth:`chunks`."""

    def __init__(self, size: int, body: Any) -> None:
        self.size = size
        self._body = body

    def chunks(self) -> Iterator[bytes]:
        """The body in chunks of at most ``STREAM_CHUNK_BYTES``; the connection is released at the end."""
        try:
            yield from self._body.iter_chunks(STREAM_CHUNK_BYTES)
        finally:
            self._body.close()

    def close(self) -> None:
        """Release the connection without reading (an object refused on its size)."""
        self._body.close()


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
        """Read exactly the object at ``location``.

        Never the newest object under it as a folder: under a shared prefix that would be another execution's
        answer.

        Raises
        ------
        OffloadedObjectNotFoundError
            No object at ``location``.
        S3AccessDeniedError
            S3 refused the read.
        PayloadTooLargeError
            The object exceeds ``MAX_OBJECT_BYTES``.
        """
        return self._read(location)

    def open_object(self, location: S3Location) -> ObjectStream:
        """GET the object at ``location``: its size at once (from the response), its bytes when streamed.

        Raises
        ------
        OffloadedObjectNotFoundError
            No object at ``location``.
        S3AccessDeniedError
            S3 refused the read (outside the function's grant, or a bucket or key policy).
        S3LocationError
            S3 refused the key itself (400).
        """
        from botocore.exceptions import ClientError  # noqa: PLC0415  (boto3 is loaded with the client anyway)

        try:
            response: Any = self._client.get_object(Bucket=location.bucket, Key=location.key)
        except ClientError as exc:
            raise _named(exc, location) from exc
        return ObjectStream(int(response.get("ContentLength", 0)), response["Body"])

    def iter_chunks(self, location: S3Location) -> Iterator[bytes]:
        """Stream the object at ``location`` in chunks: objects of any size, bounded memory.

        Raises
        ------
        OffloadedObjectNotFoundError
            No object at ``location`` (raised on the first iteration).
        """
        yield from self.open_object(location).chunks()

    def _read(self, location: S3Location) -> bytes:
        opened = self.open_object(location)
        if opened.size > MAX_OBJECT_BYTES:
            opened.close()
            raise PayloadTooLargeError(f"{location.uri} is {opened.size} bytes; the limit is {MAX_OBJECT_BYTES}")
        return b"".join(opened.chunks())

    def open_line_upload(self, location: S3Location, *, part_bytes: int = LINE_UPLOAD_PART_BYTES) -> S3LineUpload:
        """Start writing a JSONL object at ``location`` line by line; see :class:`S3LineUpload`."""
        return S3LineUpload(self._client, location, part_bytes=part_bytes)


def _named(exc: Exception, location: S3Location) -> Exception:
    """The project's error for an S3 refusal that names the caller's location; other failures (throttling, 5xx)
    stay as they are, for the state machine's Lambda retry."""
    response: Any = getattr(exc, "response", {})
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in {"NoSuchKey", "NotFound", "404"} or status == 404:
        return OffloadedObjectNotFoundError(f"no object at {location.uri}")
    if code in {"AccessDenied", "403", "Forbidden"} or status == 403:
        return S3AccessDeniedError(f"S3 denied access to {location.uri}")
    if status == 400:
        return S3LocationError(f"S3 refused the location {location.uri} ({code})")
    return exc


class S3LineUpload:
    """A JSONL object written one line at a time, in bounded memory, that appears at its location only on commit.

    A multipart upload rather than a temporary file in /tmp: /tmp is 512 MB by default and shared with everything
    else the function does, while parts go to S3 as they fill, so memory stays at about one part whatever the
    dataset's size. And S3 shows nothing at the key until the upload is completed: an aborted upload (an unusable
    dataset, or an error mid-stream) leaves neither a half-written object nor a stale one overwritten. Output that
    fits in one part is written with a single PutObject on commit.
    """

    def __init__(self, client: S3Client, location: S3Location, *, part_bytes: int = LINE_UPLOAD_PART_BYTES) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES} (S3's minimum part size)")
        self._client = client
        self._location = location
        self._part_bytes = part_bytes
        self._buffer = bytearray()
        self._parts: list[CompletedPartTypeDef] = []
        self._upload_id: str | None = None
        self._finished = False

    def write(self, line: bytes) -> None:
        """Append ``line`` and a ``\\n``; uploads a part whenever the buffer holds ``part_bytes``."""
        if self._finished:
            raise RuntimeError(f"the upload to {self._location.uri} is already committed or aborted")
        self._buffer += line
        self._buffer += b"\n"
        if len(self._buffer) >= self._part_bytes:
            self._upload_part()

    def commit(self) -> None:
        """Make the object visible with everything written so far."""
        if self._finished:
            raise RuntimeError(f"the upload to {self._location.uri} is already committed or aborted")
        bucket, key = self._location.bucket, self._location.key
        if self._upload_id is None:
            self._client.put_object(Bucket=bucket, Key=key, Body=bytes(self._buffer), ContentType=_JSONL)
        else:
            if self._buffer:
                self._upload_part()
            self._client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        self._finish()

    def abort(self) -> None:
        """Drop everything written; nothing appears at the location. Safe to call more than once."""
        if self._finished:
            return
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._location.bucket, Key=self._location.key, UploadId=self._upload_id
            )
        self._finish()

    def _upload_part(self) -> None:
        bucket, key = self._location.bucket, self._location.key
        if self._upload_id is None:
            # CRC32 named up front: S3 then checks every part, and the completion must list each part's checksum.
            created = self._client.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType=_JSONL, ChecksumAlgorithm="CRC32"
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        uploaded = self._client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
            ChecksumAlgorithm="CRC32",
        )
        self._parts.append({"PartNumber": number, "ETag": uploaded["ETag"], "ChecksumCRC32": uploaded["ChecksumCRC32"]})
        self._buffer.clear()

    def _finish(self) -> None:
        self._buffer = bytearray()
        self._finished = True
