"""Fixtures shared by every tier: an offline environment, emulated S3, and the handlers with a local context."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sfn_offline.testing import botocore_data_read_once

from tools.local_lambda import LocalLambdaContext, load_handler

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
BUCKET = "companion-test-payloads"

# Property tests run 100 examples each in `make check`; HYPOTHESIS_PROFILE=thorough runs ten times as many.
settings.register_profile("default", max_examples=100)
settings.register_profile("thorough", max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def botocore_models_read_once() -> Iterator[None]:
    """moto starts a new boto3 session per test; one botocore loader for the run reads each service model once."""
    with botocore_data_read_once():
        yield


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


@pytest.fixture(scope="module")
def moto_account() -> Iterator[Any]:
    """moto's emulated account, started once per test module (clients are the costly part to build, not the state).

    Tests take it through fixtures such as :func:`s3`, which reset its backends first, so no state crosses tests.
    """
    from moto import mock_aws

    from companion.adapters.s3 import default_client

    mock = mock_aws()
    mock.start()
    default_client.cache_clear()
    try:
        yield mock
    finally:
        mock.stop()
        default_client.cache_clear()


@pytest.fixture(scope="module")
def s3_client(moto_account: Any) -> Any:
    import boto3

    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3(moto_account: Any, s3_client: Any) -> Any:
    """An S3 client on moto, in an account reset for this test and holding only the (empty) offload bucket."""
    moto_account.reset()
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


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
