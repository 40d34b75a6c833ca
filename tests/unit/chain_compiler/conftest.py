"""Fixtures of the chain compiler's unit tests: compile a chain and evaluate one of its JSONata expressions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonata
import pytest

from companion.chains import load_chain
from companion.chains.compiler import compile_chain

CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

Evaluate = Callable[[str, dict[str, Any]], Any]


def _evaluate(template: str, bindings: dict[str, Any]) -> Any:
    """Evaluate a ``{% ... %}`` field of a definition with workflow variables (and ``$states``) bound."""
    expression = template.strip().removeprefix("{%").removesuffix("%}")
    program = jsonata.Jsonata(expression)
    frame = program.create_frame()
    for name, value in bindings.items():
        frame.bind(name, value)
    return program.evaluate(None, frame)


@pytest.fixture
def evaluate() -> Evaluate:
    return _evaluate


@pytest.fixture
def one_step() -> Callable[..., dict[str, Any]]:
    """The compiled definition of a chain with one Claude step named ``answer``."""

    def build(**step: Any) -> dict[str, Any]:
        chain = load_chain({"name": "one-step", "steps": [{"name": "answer", "model_id": CLAUDE, **step}]})
        return compile_chain(chain)

    return build
