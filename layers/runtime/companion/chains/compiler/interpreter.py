"""The generic chain interpreter (``statemachines/prompt_chain.asl.json``), generated for inline chains.

A chain sent inline to ``POST /chains`` (or to ``ChainBatchStateMachine``) has no machine of its own; this one runs any
chain's plan (``companion.chains.execution_input``) stage by stage. Its structure is ``interpreter.json`` beside this
module; what is family-specific (which families a text step's answer can be read from in the invoke state, how their
answers are read, how a rejected answer's text is found for the correction turn) is filled in from
``companion.codec.jsonata``, so no family's field path is written by hand in the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from companion.codec.jsonata import TEXT_FAMILIES, answer_expression

_SKELETON = Path(__file__).resolve().parent / "interpreter.json"
_STEP_STATES = ("States", "Run Stage Steps", "ItemProcessor", "States")


def _readers() -> str:
    members = ",\n".join(
        f"    {json.dumps(family.value)}: function($b) {{\n      {answer_expression(family)}\n    }}"
        for family in sorted(TEXT_FAMILIES)
    )
    return "{\n" + members + "\n  }"


def _text_state_output() -> str:
    return (
        "{%\n(\n"
        "  $b := $states.result.Body;\n"
        "  $family := $states.input.step.model_family;\n"
        f"  $readers := {_readers()};\n"
        "  $read := $lookup($readers, $family);\n"
        "  $answer := $read($b);\n"
        '  $not($type($answer.text) = "string") or $answer.text = ""\n'
        "    ? {\n"
        '        "failed": true,\n'
        '        "Error": "ResponseDecodingError",\n'
        '        "Cause": $string({\n'
        '          "step": $states.input.step.step,\n'
        '          "error": "ResponseDecodingError",\n'
        '          "cause": "no answer text in the " & $family & " response"\n'
        "        })\n"
        "      }\n"
        '    : {"text": $answer.text, "json": null, '
        '"usage": {"input_tokens": $answer.input_tokens, "output_tokens": $answer.output_tokens}}\n'
        ")\n%}"
    )


def _said() -> str:
    # resolve-output hands over a normalized result (it has a family); an inline answer is the family's own Body.
    return (
        f"  $readers := {_readers()};\n"
        "  $read := $lookup($readers, $input.step.model_family);\n"
        "  $text := $exists($b.family) ? $b.text : ($exists($read) ? $read($b).text);\n"
        '  $said := $type($text) = "string" and $text != "" ? $text : $string($b);'
    )


def interpreter_definition() -> dict[str, Any]:
    """The generic interpreter's ASL, family facts filled in from the codec."""
    definition: dict[str, Any] = json.loads(_SKELETON.read_text(encoding="utf-8"))
    states: Any = definition
    for key in _STEP_STATES:
        states = states[key]
    conditions = states["Choose Request Form"]["Choices"][0]["And"]
    conditions[conditions.index("@TEXT_FAMILY_CHOICE@")] = {
        "Or": [{"Variable": "$.step.model_family", "StringEquals": family.value} for family in sorted(TEXT_FAMILIES)]
    }
    states["Invoke Model For Text"]["Output"] = _text_state_output()
    correction = states["Add Correction Turns"]["Output"]
    states["Add Correction Turns"]["Output"] = correction.replace("@SAID@", _said())
    return definition
