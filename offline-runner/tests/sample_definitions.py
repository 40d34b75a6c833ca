"""The AWS-sample-style definitions under fixtures/samples/, loaded with their placeholders filled in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def load_sample(name: str, **placeholders: str) -> dict[str, Any]:
    text = (SAMPLES / name).read_text()
    for key, value in placeholders.items():
        text = text.replace("${" + key + "}", value)
    assert "${" not in text, f"unsubstituted placeholder in {name}"
    definition: dict[str, Any] = json.loads(text)
    return definition
