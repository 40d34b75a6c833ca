"""A Bedrock stand-in that answers chosen prompts with fixed JSON, for offline runs of chains with JSON steps.

The plain stand-in answers every prompt with placeholder prose, which a JSON step rejects. :class:`JsonAnswers`
answers a request whose text contains one of the given markers with that marker's JSON value instead, in the
family's native response format (the placeholder text is replaced; tokens, stop reason and shape stay the
stand-in's), and can refuse requests that contain a ``rejected`` marker with Bedrock's ValidationException (one
failing member of a parallel group, one failing line of a batch). Still no model is called: the JSON is whatever the
caller scripted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sfn_offline.bedrock_api import BedrockServiceError
from sfn_offline.bedrock_standin import BedrockStandIn

_PLACEHOLDER = "Simulated answer "


def replace_placeholder(value: Any, text: str) -> Any:
    """``value`` (a native answer) with the stand-in's placeholder text replaced by ``text``; other strings stay."""
    if isinstance(value, str):
        return text if value.startswith(_PLACEHOLDER) else value
    if isinstance(value, list):
        return [replace_placeholder(item, text) for item in value]
    if isinstance(value, dict):
        return {key: replace_placeholder(item, text) for key, item in value.items()}
    return value


class JsonAnswers(BedrockStandIn):
    """The stand-in, answering requests that contain a marker with the marker's JSON (the first marker found), and
    refusing those that contain a ``rejected`` marker."""

    def __init__(self, answers: Mapping[str, Any], *, rejected: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers = dict(answers)
        self.rejected = tuple(rejected)

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        answer = super().invoke_model(model_id, body, state_name=state_name, attempt=attempt)
        request = json.dumps(body)
        if any(marker in request for marker in self.rejected):
            raise BedrockServiceError("ValidationException", "The provided model identifier is invalid.")
        for marker, value in self.answers.items():
            if marker in request:
                return dict(replace_placeholder(answer, json.dumps(value)))
        return answer
