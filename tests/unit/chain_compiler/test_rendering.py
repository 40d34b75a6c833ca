"""A compiled step renders its prompt in JSONata exactly as companion.steps.templating (and pre-process) renders it: the
Body the invoke state builds equals the Body pre-process would send, for every kind of placeholder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonata
import pytest

from companion.codec import NeutralRequest, Turn, encode
from companion.steps.templating import render
from tests.unit.chain_compiler.conftest import CLAUDE, Evaluate

# ASCII values only: jsonata-python's $string writes non-ASCII as \u escapes where AWS's JSONata (and Python here)
# keep the characters, a difference of the offline evaluator, not of the compiled definition.
INPUT = {
    "topic": "Step Functions",
    "nested": {"list": ["zero", {"deep": "one"}], "count": 3, "flag": True, "none": None},
    "quote": 'say "hi"\nnow',
    "numbers": [1, 2, 3],
    "single": [7],
}
TEMPLATES = [
    "About {{ input.topic }}.",
    "{{input.nested.list.0}} and {{ input.nested.list.1.deep }}",
    "Count {{ input.nested.count }}, flag {{ input.nested.flag }}, none {{ input.nested.none }}",
    "As JSON: {{ input.topic | json }} {{ input.nested | json }} {{ input.numbers }}",
    "Escapes: {{ input.quote }} / {{ input.quote | json }}",
    'Braces: {{ "{{" }}not a placeholder{{ "}}" }} {{ input.single }} {{ input.single.0 }}',
    "Whole input: {{ input | json }}",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_invoke_state_renders_like_the_templating_module(
    template: str, one_step: Callable[..., dict[str, Any]], evaluate: Evaluate
) -> None:
    # Given a one-step chain with the template, compiled
    definition = one_step(prompt=template, inference={"max_tokens": 100})
    body = definition["States"]["answer"]["Arguments"]["Body"]
    # When its Body expression is evaluated with the chain input bound
    built = evaluate(body, {"input": INPUT, "states": {"input": {}}})
    # Then it is the Body of the template rendered by companion.steps.templating
    rendered = render(template, {"input": INPUT}, where="prompt")
    assert built == encode(NeutralRequest(max_tokens=100, messages=[Turn(role="user", content=rendered)]), CLAUDE)


def test_a_missing_variable_fails_the_evaluation_naming_the_path(
    one_step: Callable[..., dict[str, Any]], evaluate: Evaluate
) -> None:
    # Given a step using a path into an earlier answer that the answer does not have
    definition = one_step(prompt="{{ input.topic }} {{ input.nested.absent }}")
    body = definition["States"]["answer"]["Arguments"]["Body"]
    # Then evaluating the Body fails, naming the path, as rendering would (MissingTemplateVariablesError)
    with pytest.raises(jsonata.JException) as raised:
        evaluate(body, {"input": INPUT, "states": {"input": {}}})
    assert "input.nested.absent" in str(raised.value.current)
