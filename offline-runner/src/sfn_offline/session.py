"""What one offline session sets up around the handlers: fake credentials, the template's stores in moto, and where
the handlers' own stdout goes."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from typing import IO, Any, Final
from unittest import mock

REGION: Final[str] = "us-east-1"
_OFFLINE_ENVIRONMENT: Final[dict[str, str]] = {
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_SESSION_TOKEN": "offline",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# Variables that could point boto3 at a real account or endpoint; removed for the duration of a command.
_REMOVED_ENVIRONMENT: Final[tuple[str, ...]] = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextlib.contextmanager
def offline_environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Fake credentials and region (set before boto3 is used), restored afterwards."""
    with mock.patch.dict(os.environ, {**_OFFLINE_ENVIRONMENT, **(extra or {})}):
        for name in _REMOVED_ENVIRONMENT:
            os.environ.pop(name, None)
        yield


def create_stores(template: Any) -> None:
    """Create the template's resources in the emulated account (call inside ``mock_aws``; see
    :mod:`sfn_offline.resources`)."""
    from sfn_offline.resources import create_resources  # noqa: PLC0415

    create_resources(template)


class HandlerOutput(io.TextIOBase):
    """Where the handlers' stdout (Powertools logs, EMF metrics) goes: stderr, or nowhere."""

    def __init__(self, target: IO[str] | None) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._target is not None:
            self._target.write(text)
        return len(text)


__all__ = ["REGION", "HandlerOutput", "create_stores", "offline_environment"]
