"""Fixtures for the runner's tests: fake credentials, sockets off, emulated S3, and a deterministic Bedrock stand-in
that records what reached it."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.testing import ScriptedBedrock, botocore_data_read_once


@pytest.fixture
def bedrock() -> ScriptedBedrock:
    return ScriptedBedrock()


BUCKET = "runner-test-payloads"


@pytest.fixture(scope="session", autouse=True)
def botocore_models_read_once() -> Iterator[None]:
    """moto starts a new boto3 session per test; one botocore loader for the run reads each service model once."""
    with botocore_data_read_once():
        yield


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


@pytest.fixture
def serve_api() -> Callable[[Path], contextlib.AbstractContextManager[str]]:
    """``with serve_api(template) as url``: the template's API on 127.0.0.1, on a free port, served from a thread."""
    from sfn_offline import api_server
    from sfn_offline.session import offline_environment
    from sfn_offline.template import load_template

    @contextlib.contextmanager
    def serve(template: Path) -> Iterator[str]:
        loaded = load_template(template)
        with offline_environment(), api_server.serving(loaded, "127.0.0.1", 0, log=io.StringIO()) as httpd:
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{httpd.server_address[1]}"
            finally:
                httpd.shutdown()
                thread.join(5)

    return serve
