"""Where the chain command gets a chain's state machine: the one seam between it and how chains become ASL.

Today a chain's machine is the generic prompt-chain machine (``statemachines/prompt_chain.asl.json``, which runs any
chain's plan from its input) with this chain's plan written into its first state, so the machine runs this chain
and nothing else and takes only the chain's input variables. When the chain compiler lands, :func:`chain_machine`
returns ``compile_chain(chain)`` and :func:`machine_input` what that machine takes; nothing else here changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from companion.chains import Chain, execution_input

GENERIC_MACHINE: Final[Path] = Path(__file__).resolve().parents[2] / "statemachines" / "prompt_chain.asl.json"
_START_STATE: Final[str] = "Start Chain"
# Where the generic machine's first state reads the chain's name and plan from the execution input (once each).
_FROM_INPUT: Final[tuple[str, ...]] = ("$states.input.chain", "$states.input.plan")


class MachineShapeError(Exception):
    """The generic machine no longer has the shape this module writes a plan into."""


def chain_machine(chain: Chain, generic: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ASL that runs ``chain``, with the ``${...}`` placeholders its template resource substitutes.

    Parameters
    ----------
    chain
        A chain from ``load_chain``.
    generic
        The generic machine to start from (e.g. the template's, already substituted); the committed file when None.
    """
    machine: dict[str, Any] = (
        json.loads(json.dumps(generic))
        if generic is not None
        else json.loads(GENERIC_MACHINE.read_text(encoding="utf-8"))
    )
    start = machine.get("States", {}).get(_START_STATE, {})
    output = start.get("Output")
    if not isinstance(output, str) or not all(output.count(place) == 1 for place in _FROM_INPUT):
        raise MachineShapeError(f"{_START_STATE!r} does not read the chain and its plan from the input once each")
    plan = execution_input(chain)["plan"]
    # JSON is a JSONata literal, so the plan goes in as it is; the state's input check then sees a valid plan and
    # checks only what the machine still takes: {"input": {...}}.
    for place, literal in zip(_FROM_INPUT, (json.dumps(chain.name), json.dumps(plan, ensure_ascii=False)), strict=True):
        output = output.replace(place, literal)
    start["Output"] = output
    start["Comment"] = f"Sets up the loop for chain {chain.name!r}: its plan is part of this machine."
    machine["Comment"] = f"Runs the prompt chain {chain.name!r}. " + str(machine.get("Comment", ""))
    return machine


def machine_input(_chain: Chain, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The execution input of :func:`chain_machine`'s machine for one run with ``variables`` as ``input``."""
    return {"input": dict(variables)}
