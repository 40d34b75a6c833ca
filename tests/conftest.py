"""Fixtures shared by every tier: an offline environment, emulated S3, and the handlers with a local context."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.local_lambda import LocalLambdaContext, load_handler

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
BUCKET = "companion-test-payloads"


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and the functions' configuration; no test may reach a real AWS endpoint."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "OFFLOAD_BUCKET": BUCKET,
        "OFFLOAD_PREFIX": "offload/",
        "POWERTOOLS_SERVICE_NAME": "sfn-bedrock-companion",
        "POWERTOOLS_METRICS_NAMESPACE": "SfnBedrockCompanionTest",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests run with sockets off: moto intercepts boto3 before any connection is made."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("network access in a unit test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def s3() -> Iterator[Any]:
    """An S3 client on moto's in-process S3 with the offload bucket created; the handlers' cached client too."""
    import boto3
    from moto import mock_aws

    from companion.adapters.s3 import default_client

    with mock_aws():
        default_client.cache_clear()
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
        default_client.cache_clear()


@pytest.fixture
def invoke() -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """Call a handler by its template logical id, as the Lambda runtime would."""

    def call(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        return load_handler(logical_id)(event, LocalLambdaContext(function_name=logical_id))

    return call


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """Read a sample event from events/ (a fresh copy each call, so tests may change it)."""

    def load(relative: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((EVENTS / relative).read_text())
        return loaded

    return load
