"""Which JSON Schema the SIMULATED Bedrock's answer to a request must satisfy, for the JSON steps of given chains.

The offline stand-in (``sfn_offline.schema_answers.SchemaAnswers``) knows no chains; this module tells it. A
request belongs to a step when the invoke state is named after the step (``Invoke <step>`` or ``<step>``, as a
machine with one state per step names it) or, in the generic machine whose invoke states serve every step, when the
request holds every literal part of each of the step's prompt templates, in order (the placeholders match anything).
The most specific match wins: the step whose templates have the most literal text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sfn_offline.schema_answers import SchemaAnswers, SchemaChooser

from companion.chains import CHAIN_LIBRARY, Chain, ResolvedStep, packaged_chain

# A template's placeholders ({{ path }} and {{ path | json }}): what the rendered prompt has in their place is unknown.
_PLACEHOLDER: Final[re.Pattern[str]] = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# A JSON step without a schema accepts any JSON; an object is what such a step's prompt asks for, in practice.
_ANY_JSON: Final[dict[str, Any]] = {"type": "object"}


@dataclass(frozen=True)
class _StepAnswer:
    label: str
    schema: Any
    patterns: tuple[re.Pattern[str], ...]
    literal_chars: int


def chooser_for(chains: Iterable[Chain]) -> SchemaChooser:
    """The stand-in's chooser for every JSON step of ``chains``."""
    by_state: dict[str, _StepAnswer] = {}
    by_prompt: list[_StepAnswer] = []
    for chain in chains:
        for step in chain.resolved_steps():
            if step.output.format != "json":
                continue
            answer = _step_answer(step)
            by_state.setdefault(step.name, answer)
            by_state.setdefault(f"Invoke {step.name}", answer)
            by_prompt.append(answer)
    by_prompt.sort(key=lambda answer: -answer.literal_chars)

    def choose(state_name: str, body: Any) -> tuple[str, Any] | None:
        found = by_state.get(state_name)
        if found is None:
            text = json.dumps(body)
            found = next((answer for answer in by_prompt if all(p.search(text) for p in answer.patterns)), None)
        return None if found is None else (found.label, found.schema)

    return choose


def packaged_chains() -> list[Chain]:
    """Every chain of the runtime layer's library."""
    return [packaged_chain(path.stem) for path in sorted(CHAIN_LIBRARY.glob("*.json"))]


def packaged_chooser() -> SchemaChooser:
    """The chooser for every packaged chain: what this project's runner plugin answers JSON steps with."""
    return chooser_for(packaged_chains())


def standin_for(chains: Iterable[Chain]) -> SchemaAnswers:
    """The SIMULATED Bedrock answering the JSON steps of ``chains`` with JSON valid for each step's schema."""
    return SchemaAnswers(chooser_for(chains))


def _step_answer(step: ResolvedStep) -> _StepAnswer:
    templates = [turn.content for turn in step.prompt.messages]
    if step.prompt.system is not None:
        templates.append(step.prompt.system)
    patterns = []
    literal_chars = 0
    for template in templates:
        # The request body is JSON: each literal part appears there JSON-escaped, as json.dumps writes it.
        parts = [json.dumps(part)[1:-1] for part in _PLACEHOLDER.split(template)]
        literal_chars += sum(len(part) for part in parts)
        patterns.append(re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL))
    schema = step.output.json_schema if step.output.json_schema is not None else _ANY_JSON
    return _StepAnswer(step.name, schema, tuple(patterns), literal_chars)
