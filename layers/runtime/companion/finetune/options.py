"""What a fine-tuning run asks for besides its datasets, with every default the pipeline has: their one home.

``POST /fine-tunes`` (``companion.finetune.api``) and the dataset validation Lambda (``companion.finetune.dataset``)
both build on :class:`FineTuneOptions`. The state machine passes these fields on as they were given (an absent one
stays absent) and reads the completed values from the validation Lambda's output, so no default is written in ASL.
Kept apart from the validator so that the API function does not import its catalog and record models at cold start.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

MAX_MODEL_UNITS = 10
"""A ceiling against typos: each model unit is billed by the hour."""

HyperparameterName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
HyperparameterValue = Annotated[StrictStr, Field(max_length=64)] | StrictInt | StrictFloat
MaxReportedErrors = Annotated[int, Field(ge=1, le=1000)]


class CustomizationType(StrEnum):
    """``CustomizationType`` of CreateModelCustomizationJob (distillation takes no dataset of this kind)."""

    FINE_TUNING = "FINE_TUNING"
    CONTINUED_PRE_TRAINING = "CONTINUED_PRE_TRAINING"


class SplitOptions(BaseModel):
    """Carve the validation set out of the training file: this share of the records, chosen by a seeded hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    validation_fraction: Annotated[float, Field(gt=0, le=0.5)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0


class ProvisionedThroughputRequest(BaseModel):
    """Provisioned Throughput for the custom model: hourly cost, so only with ``opt_in: true``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opt_in: bool
    model_units: Annotated[int, Field(ge=1, le=MAX_MODEL_UNITS)] = 1


class FineTuneOptions(BaseModel):
    """The run's options and their defaults, shared by the API's request and the dataset validation Lambda's input."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customization_type: CustomizationType = CustomizationType.FINE_TUNING
    hyperparameters: Annotated[dict[HyperparameterName, HyperparameterValue], Field(max_length=32)] = Field(
        default_factory=dict, description="Checked against the base model's ranges by the dataset validator."
    )
    split: SplitOptions | None = Field(
        default=None, description="Carve the validation set out of the training file; only without a validation file."
    )
    provisioned_throughput: ProvisionedThroughputRequest | None = None


__all__ = [
    "MAX_MODEL_UNITS",
    "CustomizationType",
    "FineTuneOptions",
    "HyperparameterName",
    "HyperparameterValue",
    "MaxReportedErrors",
    "ProvisionedThroughputRequest",
    "SplitOptions",
]
