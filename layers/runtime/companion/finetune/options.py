"""The fine-tuning request's own fields, shared by ``POST /fine-tunes`` and the dataset validation Lambda.

Kept apart from ``finetune.dataset`` so that the API function does not import the dataset validator (its
catalog and record models) at cold start just to check the same request shapes.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

HyperparameterValue = Annotated[StrictStr, Field(max_length=64)] | StrictInt | StrictFloat


class SplitOptions(BaseModel):
    """Carve the validation set out of the training file: this share of the records, chosen by a seeded hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    validation_fraction: Annotated[float, Field(gt=0, le=0.5)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0


__all__ = ["HyperparameterValue", "SplitOptions"]
