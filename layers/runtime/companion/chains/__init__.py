"""Prompt chains as data: the model, loading and checks, the packaged library, the API and scheduled batches.

The public surface of chain definitions is re-exported here; the API (:mod:`companion.chains.api`) and batch
(:mod:`companion.chains.batch`) modules are imported by their handlers directly.
"""

from companion.chains.checks import ChainProblem, check_chain, input_problems, located_problems
from companion.chains.library import CHAIN_LIBRARY, packaged_chain, resolve_chain
from companion.chains.load import load_chain
from companion.chains.model import (
    MAX_PARALLEL_STEPS,
    MAX_PROMPT_CHARS,
    MAX_STEPS,
    SCHEMA_KEY,
    Chain,
    ChainDefaults,
    ChainName,
    MapGroup,
    MapStage,
    MapSteps,
    ParallelGroup,
    ParallelStage,
    ParallelSteps,
    PlanStage,
    ResolvedStep,
    SingleStep,
    StepDefinition,
    StepOutput,
    execution_input,
    machine_input,
)

__all__ = [
    "CHAIN_LIBRARY",
    "MAX_PARALLEL_STEPS",
    "MAX_PROMPT_CHARS",
    "MAX_STEPS",
    "SCHEMA_KEY",
    "Chain",
    "ChainDefaults",
    "ChainName",
    "ChainProblem",
    "MapGroup",
    "MapStage",
    "MapSteps",
    "ParallelGroup",
    "ParallelStage",
    "ParallelSteps",
    "PlanStage",
    "ResolvedStep",
    "SingleStep",
    "StepDefinition",
    "StepOutput",
    "check_chain",
    "execution_input",
    "input_problems",
    "load_chain",
    "located_problems",
    "machine_input",
    "packaged_chain",
    "resolve_chain",
]
