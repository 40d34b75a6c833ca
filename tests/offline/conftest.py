"""Fixtures for the offline engine: a deterministic Bedrock stand-in that records what reached it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tools.offline.bedrock_api import BedrockServiceError
from tools.offline.cli import main


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


# --- execution graphs (test_graph.py, test_html_report_browser.py) ---

PICTURES = Path(__file__).parent / "fixtures" / "pictures"


@dataclass(frozen=True)
class PicturesRun:
    """One run of the pictures fixture's ReviewStateMachine with ``--report``: its exit status and the files."""

    status: int
    mermaid: Path
    html: Path


@pytest.fixture(scope="session")
def pictures_run(tmp_path_factory: pytest.TempPathFactory) -> PicturesRun:
    """The review of three answers (one rejected and caught), then a nested execution: drawn once per session."""
    folder = tmp_path_factory.mktemp("pictures")
    status = main(
        [
            "run",
            "ReviewStateMachine",
            "--template",
            str(PICTURES / "template.yaml"),
            "--input",
            str(PICTURES / "answers.json"),
            "--report",
            str(folder),
        ]
    )
    return PicturesRun(status, folder / "graph.mmd", folder / "graph.html")
