"""Fixtures for the runner's tests: fake credentials, sockets off, emulated S3, and a deterministic Bedrock stand-in
that records what reached it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sfn_offline.testing import ScriptedBedrock


@pytest.fixture
def bedrock() -> ScriptedBedrock:
    return ScriptedBedrock()


BUCKET = "runner-test-payloads"


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; no test may reach a real AWS endpoint."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets off: moto intercepts boto3 before any connection is made (the api tests allow loopback themselves)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def s3() -> Iterator[Any]:
    """An S3 client on moto's in-process S3 with a payload bucket created."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
