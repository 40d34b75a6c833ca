"""Fine-tuning dataset rules: which record format and limits each base model has, and a streaming validator.

Pure domain code (no boto3): the task module gives it lines from an adapter and sinks to write a split to.
"""

from companion.finetune.catalog import (
    DatasetLimits,
    DatasetRules,
    RecordFormat,
    dataset_rules,
    find_base_model,
)
from companion.finetune.hyperparameters import validate_hyperparameters
from companion.finetune.options import CustomizationType
from companion.finetune.validator import (
    DEFAULT_MAX_REPORTED_LINES,
    DatasetReport,
    DatasetRole,
    LineSink,
    Split,
    Totals,
    goes_to_validation,
    validate_lines,
)

__all__ = [
    "DEFAULT_MAX_REPORTED_LINES",
    "CustomizationType",
    "DatasetLimits",
    "DatasetReport",
    "DatasetRole",
    "DatasetRules",
    "LineSink",
    "RecordFormat",
    "Split",
    "Totals",
    "dataset_rules",
    "find_base_model",
    "goes_to_validation",
    "validate_hyperparameters",
    "validate_lines",
]
