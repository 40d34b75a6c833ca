"""Test doubles for projects testing their state machines with the runner."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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


@contextlib.contextmanager
def botocore_data_read_once() -> Iterator[None]:
    """Within it, every botocore session shares one data loader, so each service model file is read once.

    A test suite that starts moto per test builds a new boto3 session each time (moto's ``mock_aws`` resets the
    default one), and each session reads and decodes the large JSON models of the services it makes clients for
    again: most of the cost of a client. The files do not change within a process; the loader caches what it read.
    """
    import botocore.loaders  # noqa: PLC0415
    import botocore.session  # noqa: PLC0415

    shared = functools.cache(botocore.loaders.create_loader)
    original = botocore.session.create_loader
    botocore.session.create_loader = shared
    try:
        yield
    finally:
        botocore.session.create_loader = original


__all__ = ["ScriptedBedrock", "botocore_data_read_once"]
