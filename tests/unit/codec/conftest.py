"""Fixtures shared by the codec tests: sample Bedrock answers from events/bedrock and a multi-turn request."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from botocore.response import StreamingBody

from companion.codec import ModelFamily, NeutralRequest, Turn
from tests.model_ids import MODEL_IDS

EVENTS_DIR = Path(__file__).resolve().parents[3] / "events" / "bedrock"


@cache
def _event_text(name: str) -> str:
    return (EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8")


@pytest.fixture
def model_ids() -> dict[ModelFamily, str]:
    return dict(MODEL_IDS)


@pytest.fixture
def bedrock_event() -> Callable[[str], dict[str, Any]]:
    """Load events/bedrock/<name>.json afresh (a test may mutate its copy)."""

    def load(name: str) -> dict[str, Any]:
        return copy.deepcopy(json.loads(_event_text(name)))

    return load


@pytest.fixture
def boto3_response() -> Callable[[bytes], dict[str, Any]]:
    """Wrap a serialized Body the way boto3's ``bedrock-runtime.invoke_model`` returns it."""

    def wrap(raw: bytes) -> dict[str, Any]:
        return {
            "ResponseMetadata": {
                "RequestId": "5e0c7a3b-1f2d-4c6e-9a8b-7d6c5b4a3f2e",
                "HTTPStatusCode": 200,
                "HTTPHeaders": {
                    "content-type": "application/json",
                    "content-length": str(len(raw)),
                    "x-amzn-bedrock-invocation-latency": "1873",
                },
                "RetryAttempts": 0,
            },
            "contentType": "application/json",
            "body": StreamingBody(io.BytesIO(raw), len(raw)),
        }

    return wrap


@pytest.fixture
def conversation() -> NeutralRequest:
    """A multi-turn request with a system prompt and every sampling parameter set."""
    return NeutralRequest(
        system="You are an SRE assistant. Answer in plain English.",
        messages=[
            Turn(role="user", content="What broke checkout on March 14?"),
            Turn(role="assistant", content="An expired TLS certificate on the payments gateway."),
            Turn(role="user", content="Summarize the impact in one sentence."),
        ],
        max_tokens=400,
        temperature=0.2,
        top_p=0.9,
        stop_sequences=["###"],
    )
