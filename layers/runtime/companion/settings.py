"""Function configuration: read from the environment once per cold start, validated, then passed to domain code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion.constants import DATASET_PREFIX, DEFAULT_PAYLOAD_BUDGET_BYTES, STATE_PAYLOAD_LIMIT_BYTES
from companion.errors import ConfigurationError

PayloadBudget = Annotated[int, Field(ge=1024, le=STATE_PAYLOAD_LIMIT_BYTES)]


class Settings(BaseModel):
    """Base of every function's settings: frozen, and blind to the environment's other variables."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class PreprocessSettings(Settings):
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]
    offload_prefix: str = "offload/"
    payload_budget_bytes: PayloadBudget = DEFAULT_PAYLOAD_BUDGET_BYTES


class ResolveSettings(Settings):
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]
    offload_prefix: str = "offload/"
    result_budget_bytes: PayloadBudget = DEFAULT_PAYLOAD_BUDGET_BYTES


class PostprocessSettings(Settings):
    result_budget_bytes: PayloadBudget = DEFAULT_PAYLOAD_BUDGET_BYTES


class ChainBatchSettings(Settings):
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]


StateMachineArn = Annotated[str, Field(pattern=r"^arn:[\w-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$")]


class ChainApiSettings(Settings):
    standard_state_machine_arn: StateMachineArn
    express_state_machine_arn: StateMachineArn
    # A packaged chain's machine is this prefix and the chain's name (tools/generate_chains.py names them so).
    chain_state_machine_arn_prefix: Annotated[
        str, Field(pattern=r"^arn:[\w-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]*$")
    ]


class ValidateDatasetSettings(Settings):
    # Reports and split outputs go here, under fine-tuning/; datasets are read from dataset_bucket (same by default).
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]
    dataset_bucket: Annotated[str | None, Field(min_length=3, max_length=63)] = None
    # Mirrors the function's read grant, so a dataset elsewhere is a named error rather than an AccessDenied.
    dataset_prefix: str = DATASET_PREFIX


class FineTuningEvaluationSettings(Settings):
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]


class FineTuneApiSettings(Settings):
    fine_tuning_state_machine_arn: StateMachineArn
    offload_bucket: Annotated[str, Field(min_length=3, max_length=63)]


SettingsT = TypeVar("SettingsT", bound=Settings)


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """Build ``model`` from environment variables named after its fields in upper case.

    Raises
    ------
    ConfigurationError
        When a required variable is missing or a value is invalid; the message names the variables.
    """
    env = os.environ if environ is None else environ
    values = {name: env[name.upper()] for name in model.model_fields if name.upper() in env}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid function configuration: {problems}") from exc
