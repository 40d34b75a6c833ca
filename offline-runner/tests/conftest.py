"""Fixtures for the runner's tests: fake credentials, sockets off, emulated S3, and a deterministic Bedrock stand-in
that records what reached it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sfn_offline.bedrock_api import BedrockServiceError


@dataclass
class ScriptedBedrock:
    """Answers every model with a Claude-shaped echo of the last user turn; fails the first ``throttle`` attempts."""

    throttle: int = 0
    answer: str | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _record(self, kind: str, state_name: str, attempt: int, **details: Any) -> None:
        self.calls.append({"kind": kind, "state_name": state_name, "attempt": attempt, **details})
        if attempt < self.throttle:
            raise BedrockServiceError("ThrottlingException", f"Rate exceeded (attempt {attempt})")

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        self._record("invoke_model", state_name, attempt, model_id=model_id, body=body)
        text = self.answer if self.answer is not None else _last_user_text(body)
        return {
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 5},
        }

    def converse(self, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        self._record("converse", state_name, attempt, request=request)
        return {
            "Output": {"Message": {"Role": "assistant", "Content": [{"Text": self.answer or "conversed"}]}},
            "StopReason": "end_turn",
            "Usage": {"InputTokens": 3, "OutputTokens": 5, "TotalTokens": 8},
        }

    def control_plane(self, action: str, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        self._record("control_plane", state_name, attempt, action=action, request=request)
        if action == "CreateModelCustomizationJob":
            return {"JobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{request['JobName']}"}
        if action == "GetModelCustomizationJob":
            polls = sum(1 for call in self.calls if call.get("action") == action)
            return {"JobArn": request["JobIdentifier"], "Status": "Completed" if polls >= 2 else "InProgress"}
        raise BedrockServiceError("ValidationException", f"{action} is not scripted")


def _last_user_text(body: Any) -> str:
    try:
        content = body["messages"][-1]["content"]
    except (KeyError, IndexError, TypeError):
        return "echo"
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content)
    return str(content)


@pytest.fixture
def bedrock() -> ScriptedBedrock:
    return ScriptedBedrock()


BUCKET = "companion-test-payloads"


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
