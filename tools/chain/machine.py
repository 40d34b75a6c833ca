"""Where the chain command gets a chain's state machine: the chain compiler, and the template's values for it.

A chain file becomes its own native machine (``companion.chains.compiler.compile_chain``), exactly what ``make
generate`` writes for a packaged chain; offline, its ``${...}`` DefinitionSubstitutions take the values the template
gives the packaged chains' machines (the step functions' ARNs, the payload bucket).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from companion.chains import Chain
from companion.chains.compiler import SUBSTITUTIONS, compile_chain, machine_input

if TYPE_CHECKING:
    from sfn_offline.template import Template

__all__ = ["chain_machine", "machine_input", "substituted"]


def chain_machine(chain: Chain) -> dict[str, Any]:
    """The ASL that runs ``chain``, with the ``${...}`` placeholders its template resource substitutes."""
    return compile_chain(chain)


def substituted(definition: dict[str, Any], template: Template) -> dict[str, Any]:
    """``definition`` with the template's values for the compiled machines' DefinitionSubstitutions."""
    arns = {f"{spec.logical_id}Arn": spec.arn for spec in template.functions.values()}
    values = {name: arns[name] for name in SUBSTITUTIONS if name in arns}
    values["PayloadBucketName"] = template.buckets["PayloadBucket"]
    text = json.dumps(definition)
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", value)
    loaded: dict[str, Any] = json.loads(text)
    return loaded
