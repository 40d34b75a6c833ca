"""The chain compiler: a chain definition -> a native Step Functions state machine (ASL with JSONata).

Public API::

    definition = compile_chain(chain)            # the ASL as a dict
    text = to_yaml(definition)                   # the same as YAML (JSONata in block scalars)
    machine_input({"topic": "SFN"})              # a compiled machine's execution input

A compiled machine takes ``{"input": {...}}`` and returns ``{chain, steps, final, usage}`` (``steps.<name>`` is
``{text, json, usage}``, plus ``ref`` and ``truncated`` when the answer was too large to keep, with ``text`` then a
preview; a map's is ``{results: [...]}``). It fails with the failing step's error and a Cause
``{step, stage, error, cause, completed_steps}``; a bad input fails as ``ChainInputError`` before any model is
called. The definition refers to ``${PreprocessPromptFunctionArn}``, ``${PostprocessResultFunctionArn}``,
``${ResolveOutputFunctionArn}`` and ``${PayloadBucketName}`` (DefinitionSubstitutions).
"""

from __future__ import annotations

from typing import Any

from companion.chains import Chain, machine_input
from companion.chains.compiler.asl import Compiler
from companion.chains.compiler.settings import CompileSettings
from companion.chains.compiler.yaml_text import to_yaml
from companion.errors import ChainDefinitionError, CompanionError

SUBSTITUTIONS = (
    "PreprocessPromptFunctionArn",
    "PostprocessResultFunctionArn",
    "ResolveOutputFunctionArn",
    "PayloadBucketName",
)
"""The DefinitionSubstitutions a compiled definition needs."""


def compile_chain(chain: Chain, *, settings: CompileSettings | None = None) -> dict[str, Any]:
    """Compile a validated chain into an ASL definition.

    Parameters
    ----------
    chain
        A chain from :func:`companion.chains.load_chain` (statically checked).
    settings
        Budgets the machine is built for (defaults: :class:`CompileSettings`).

    Returns
    -------
    dict
        The ASL definition, ``QueryLanguage: JSONata``; serialize it with :func:`to_yaml` or ``json.dumps``.

    Raises
    ------
    ChainDefinitionError
        The chain cannot be compiled; every problem is listed.
    """
    try:
        return Compiler(chain, settings or CompileSettings()).definition()
    except ChainDefinitionError:
        raise
    except CompanionError as exc:
        raise ChainDefinitionError([str(exc)], chain=chain.name) from exc


__all__ = ["SUBSTITUTIONS", "CompileSettings", "compile_chain", "machine_input", "to_yaml"]
