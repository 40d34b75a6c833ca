"""`Invoke Model` (statemachines/prompt_chain.asl.yaml) reads a text step's answer without the post-processing
Lambda: its JSONata must agree with companion.codec on every family's real-shaped sample response, or text steps
would silently diverge from JSON steps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock
from sfn_offline.engine import run_definition

from companion.codec import decode
from companion.codec.models import ModelFamily

ROOT = Path(__file__).resolve().parents[2]
STATE = "Invoke Model"
# The families whose text steps the invoke state reads itself (embeddings and Converse have no text step here).
TEXT_FAMILIES = sorted(
    family.value for family in ModelFamily if family not in {ModelFamily.TITAN_EMBED, ModelFamily.COHERE_EMBED}
)


def text_state() -> dict[str, Any]:
    """The invoke state alone, ending where its answer goes next."""
    definition = yaml.safe_load((ROOT / "statemachines" / "prompt_chain.asl.yaml").read_text())
    state: dict[str, Any] = copy.deepcopy(definition["States"]["Run Stage Steps"]["ItemProcessor"]["States"][STATE])
    state["Catch"] = [{**state["Catch"][0], "Next": "Done"}]
    state["Next"] = "Done"
    return {
        "QueryLanguage": "JSONata",
        "StartAt": STATE,
        "States": {STATE: state, "Done": {"Type": "Pass", "End": True}},
    }


class SampleBedrock:
    """Answers InvokeModel with one fixed response body (the family's sample)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        return copy.deepcopy(self.body)

    def converse(self, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        raise NotImplementedError

    def control_plane(self, action: str, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        raise NotImplementedError


def step_input(family: str) -> dict[str, Any]:
    """A text step's run as the stage's Map hands it over, its request prepared."""
    request = {"ModelId": "model", "ContentType": "application/json", "Accept": "application/json", "Body": {}}
    step = {"step": {"step": "answer", "model_family": family}, "output": {"format": "text", "on_truncation": "report"}}
    return {"run": {"at": 0, "step": "answer"}, "step": step, "fixes": [], "unaccepted": [], "request": request}


@pytest.mark.parametrize("family", TEXT_FAMILIES)
def test_the_text_state_reads_what_the_codec_reads(family: str) -> None:
    # Given the family's sample Bedrock response
    sample = json.loads((ROOT / "events" / "bedrock" / f"{family}.json").read_text())["Body"]
    # When the text state reads it, and the codec decodes it
    result = run_definition(text_state(), step_input(family), bedrock=SampleBedrock(sample))
    expected = decode(sample, "model", family)
    # Then both give the same text and token counts
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["record"] == {
        "text": expected.text,
        "json": None,
        "usage": {"input_tokens": expected.input_tokens, "output_tokens": expected.output_tokens},
    }


def test_an_answer_without_text_ends_the_run_as_a_failure_record() -> None:
    # Given a Claude response with no text block
    body = {"content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 0}}
    result = run_definition(text_state(), step_input("claude"), bedrock=SampleBedrock(body))
    # Then the run ends as a failure record, which the stage's merge turns into the chain's failure
    assert result.status == "SUCCEEDED", result.cause
    assert (result.output["failed"], result.output["Error"]) == (True, "ResponseDecodingError")
    assert json.loads(result.output["Cause"]) == {
        "step": "answer",
        "error": "ResponseDecodingError",
        "cause": "no answer text in the claude response",
    }
