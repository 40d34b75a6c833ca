"""S3 locations: parsing untrusted ``s3://`` URIs and deriving deterministic offload keys."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from companion.errors import S3LocationError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SAFE_SEGMENT = re.compile(r"[^A-Za-z0-9._-]")
_MAX_KEY_BYTES = 1024
# Control characters (NUL included) have no place in the keys this project writes, and S3 refuses some of them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(text: object, *, where: str, bucket: str, prefix: str = "") -> S3Location:
    """Parse ``text`` as an S3 object URI that must lie in ``bucket`` under ``prefix``.

    Parameters
    ----------
    text
        The untrusted value; anything but a well-formed ``s3://bucket/key`` string is rejected.
    where
        Field name used in error messages.
    bucket, prefix
        The only place this function may touch; a URI elsewhere is refused before any request is made.

    Raises
    ------
    S3LocationError
        Malformed URI, another bucket, a key outside ``prefix``, a key with ``..`` segments, control characters or
        lone surrogates.
    """
    if not isinstance(text, str) or not text.startswith("s3://"):
        raise S3LocationError(f"{where}: expected an s3://bucket/key URI, got {_preview(text)}")
    found_bucket, _, key = text[len("s3://") :].partition("/")
    if not _BUCKET.match(found_bucket) or not key:
        raise S3LocationError(f"{where}: malformed S3 URI {_preview(text)}")
    if found_bucket != bucket:
        raise S3LocationError(f"{where}: {_preview(text)} is outside the configured bucket {bucket!r}")
    if not key.startswith(prefix) or ".." in key.split("/") or len(key.encode("utf-8", "replace")) > _MAX_KEY_BYTES:
        raise S3LocationError(f"{where}: {_preview(text)} is outside the allowed prefix {prefix!r}")
    if _CONTROL.search(key) or not _is_utf8(key):
        raise S3LocationError(f"{where}: {_preview(text)} has control characters or text that is not Unicode")
    return S3Location(found_bucket, key)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_segment(value: str) -> str:
    """Turn an execution or step name into one safe key segment, distinct names staying distinct.

    Characters outside ``[A-Za-z0-9._-]`` are replaced, and a short hash of the original is appended whenever
    anything was replaced, so two names that differ only in such characters never share (and overwrite) a key.
    """
    safe = _SAFE_SEGMENT.sub("_", value)[:100].strip(".") or "_"
    if safe == value:
        return safe
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe}-{digest}"


def _preview(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"
