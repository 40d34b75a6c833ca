"""What the chain machines' offline tests share: scripted Claude answers, a stand-in that counts re-entries, and
readers of an execution's history and failure."""

from __future__ import annotations

import json
from typing import Any

from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import ExecutionResult

from companion.steps.preprocess import read_map_results

CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
STATE_PAYLOAD_LIMIT = 256 * 1024
"""Bytes a state input or output may hold on AWS (the offline runner does not enforce it)."""


class EntryCountingStandIn(BedrockStandIn):
    """The stand-in with scripts indexed by the state's calls so far, loop re-entries included."""

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        earlier = sum(1 for call in self.calls if call.state_name == state_name)
        return super().invoke_model(model_id, body, state_name=state_name, attempt=max(attempt, earlier))


def claude_answer(text: str) -> dict[str, Any]:
    """A mock-config entry returning a Claude Messages answer with ``text`` (20 input, 10 output tokens)."""
    return {
        "Return": {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": CLAUDE,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 10},
        }
    }


def entered(result: ExecutionResult) -> list[str]:
    """The names of the states the execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"] for event in result.history if "stateEnteredEventDetails" in event
    ]


def failure(result: ExecutionResult) -> dict[str, Any]:
    """A failed chain's Cause, parsed."""
    assert result.status == "FAILED"
    assert result.cause
    cause: dict[str, Any] = json.loads(result.cause)
    return cause


def invoke_arguments(result: ExecutionResult) -> list[dict[str, Any]]:
    """The arguments of every bedrock:invokeModel task the execution scheduled, in order."""
    return [
        json.loads(event["taskScheduledEventDetails"]["parameters"])
        for event in result.history
        if event.get("taskScheduledEventDetails", {}).get("resourceType") == "bedrock"
    ]


def largest_payload(result: ExecutionResult) -> int:
    """Bytes of the largest state input or output the execution carried (Step Functions refuses over 256 KiB)."""
    sizes = [0]
    for event in result.history:
        for details in event.values():
            if isinstance(details, dict):
                sizes.extend(len(details[key].encode("utf-8")) for key in ("input", "output") if key in details)
    return max(sizes)


def stored_json(s3: Any, uri: str) -> Any:
    """The JSON object at ``uri`` (``s3://bucket/key``)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def stored_answer(s3: Any, uri: str) -> str:
    """The text of the Claude answer kept at ``uri``."""
    body = stored_json(s3, uri)
    return "".join(block["text"] for block in body["content"] if block["type"] == "text")


def map_results(s3: Any, reference: dict[str, Any]) -> list[Any]:
    """A Distributed Map's results (``{results: null, ref: <manifest>, truncated: true}``) read back in item order,
    as pre-process reads them for a later step."""

    def read(uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    bucket = reference["ref"].removeprefix("s3://").partition("/")[0]
    return read_map_results(reference["ref"], bucket, read)
