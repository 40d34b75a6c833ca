"""Validate dataset: the first step of fine-tuning, refusing bad datasets and hyperparameters before a job is billed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field, model_validator

from companion.errors import DatasetValidationError, S3LocationError
from companion.finetune import (
    DEFAULT_MAX_REPORTED_LINES,
    CustomizationType,
    DatasetLimits,
    DatasetReport,
    DatasetRole,
    DatasetRules,
    LineSink,
    RecordFormat,
    Split,
    Totals,
    dataset_rules,
    find_base_model,
    validate_hyperparameters,
    validate_lines,
)
from companion.finetune.costs import FineTuningCostEstimate, estimate_fine_tuning_cost, load_fine_tuning_prices
from companion.finetune.options import FineTuneOptions, MaxReportedErrors, ProvisionedThroughputRequest
from companion.lines import split_lines
from companion.s3uri import S3Location, key_segment, parse_s3_uri
from companion.settings import ValidateDatasetSettings
from companion.task_io import json_bytes

REPORT_KEY = "fine-tuning/reports/{execution}/dataset-report.json"
SPLIT_KEY = "fine-tuning/splits/{execution}/{side}.jsonl"
# How many invalid lines per dataset the error message itself quotes; the report has up to max_reported_errors.
_LINES_IN_MESSAGE = 3
_REASON_IN_MESSAGE = 200

S3Uri = Annotated[str, Field(min_length=6, max_length=1100, pattern=r"^s3://")]


class ValidateDatasetInput(FineTuneOptions):
    """The run's request as given (absent options take their defaults here) and what the state machine adds."""

    execution_name: Annotated[str, Field(min_length=1, max_length=256)]
    base_model_id: Annotated[str, Field(min_length=1, max_length=2048)]
    training_data_s3_uri: S3Uri
    validation_data_s3_uri: S3Uri | None = None
    max_reported_errors: MaxReportedErrors = DEFAULT_MAX_REPORTED_LINES

    @model_validator(mode="after")
    def _one_source_of_validation_data(self) -> ValidateDatasetInput:
        if self.split is not None and self.validation_data_s3_uri is not None:
            raise ValueError("give either split or validation_data_s3_uri, not both")
        return self


class DatasetTotals(BaseModel):
    training: Totals
    validation: Totals | None


class ValidateDatasetOutput(BaseModel):
    """What the customization job and the throughput need, every value checked and completed; the dataset URIs are the
    split's when split."""

    valid: Literal[True] = True
    base_model_id: str
    customization_type: CustomizationType
    record_format: RecordFormat
    training_data_s3_uri: str
    validation_data_s3_uri: str | None
    hyperparameters: dict[str, str]
    report_s3_uri: str
    totals: DatasetTotals
    provisioned_throughput: ProvisionedThroughputRequest | None
    cost_estimate: FineTuningCostEstimate


class DatasetFileReport(BaseModel):
    s3_uri: str
    object_bytes: int
    result: DatasetReport


class SplitReport(BaseModel):
    validation_fraction: float
    seed: int
    # Only a usable dataset's split is written; otherwise both URIs are null and nothing was left in S3.
    training_s3_uri: str | None
    validation_s3_uri: str | None


class StoredDatasetReport(BaseModel):
    """The JSON report written to ``fine-tuning/reports/<execution>/dataset-report.json`` on every run."""

    valid: bool
    execution_name: str
    base_model_id: str
    base_model: str
    customization_type: CustomizationType
    record_format: RecordFormat
    limits: DatasetLimits
    hyperparameters: dict[str, str]
    training: DatasetFileReport
    validation: DatasetFileReport | None
    split: SplitReport | None


class DatasetObject(Protocol):
    """An opened dataset object (adapter: ``companion.adapters.s3.ObjectStream``): size known, bytes not yet read."""

    size: int

    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class DatasetStore(Protocol):
    def open_object(self, location: S3Location) -> DatasetObject: ...

    def open_line_upload(self, location: S3Location) -> LineSink: ...

    def put_json(self, location: S3Location, body: bytes) -> None: ...


def validate_dataset(
    task: ValidateDatasetInput, settings: ValidateDatasetSettings, store: DatasetStore
) -> ValidateDatasetOutput:
    """Check the base model, hyperparameters and every record of the datasets; write the report; split on request.

    Model and hyperparameters are checked first, before anything is read. Each dataset is then streamed once (the
    validation file first: it is the smaller). The report is written on every run that reads a dataset, then an
    unusable dataset raises.

    Raises
    ------
    UnsupportedBaseModelError, HyperparameterValidationError
        Before any S3 request.
    S3LocationError
        A dataset URI is malformed, outside the dataset bucket, or one of this execution's own outputs.
    OffloadedObjectNotFoundError
        A dataset object does not exist.
    DatasetValidationError
        After the report is written: its message names the report, the count of invalid lines and the first few.
    """
    model = find_base_model(task.base_model_id)
    hyperparameters = validate_hyperparameters(model, task.hyperparameters)
    rules = dataset_rules(model, task.customization_type, hyperparameters)

    folder = key_segment(task.execution_name)
    report_location = S3Location(settings.offload_bucket, REPORT_KEY.format(execution=folder))
    split_locations = None
    if task.split is not None:
        split_locations = tuple(
            S3Location(settings.offload_bucket, SPLIT_KEY.format(execution=folder, side=side))
            for side in ("training", "validation")
        )
    outputs = {report_location, *(split_locations or ())}
    training_location = _dataset_location(task.training_data_s3_uri, "training_data_s3_uri", settings, outputs)
    validation_location = None
    if task.validation_data_s3_uri is not None:
        validation_location = _dataset_location(
            task.validation_data_s3_uri, "validation_data_s3_uri", settings, outputs
        )

    # Both objects opened (one GET each) before any streaming: a missing one fails fast, and a file over the limit is
    # refused on the size the GET reports, its body never read.
    training_object = store.open_object(training_location)
    validation = None
    if validation_location is not None:
        validation_object = store.open_object(validation_location)
        validation = DatasetFileReport(
            s3_uri=validation_location.uri,
            object_bytes=validation_object.size,
            result=_check_file(
                validation_object,
                rules,
                role=DatasetRole.VALIDATION,
                max_reported=task.max_reported_errors,
            ),
        )
    split = None
    if task.split is not None and split_locations is not None:
        split = Split(
            validation_fraction=task.split.validation_fraction,
            seed=task.split.seed,
            training=store.open_line_upload(split_locations[0]),
            validation=store.open_line_upload(split_locations[1]),
        )
    training_result = _check_file(
        training_object,
        rules,
        role=DatasetRole.TRAINING,
        max_reported=task.max_reported_errors,
        split=split,
    )
    training = DatasetFileReport(
        s3_uri=training_location.uri, object_bytes=training_object.size, result=training_result
    )

    split_report = None
    if task.split is not None and split_locations is not None:
        written = training_result.split is not None and training_result.split.written
        split_report = SplitReport(
            validation_fraction=task.split.validation_fraction,
            seed=task.split.seed,
            training_s3_uri=split_locations[0].uri if written else None,
            validation_s3_uri=split_locations[1].uri if written else None,
        )
    report = StoredDatasetReport(
        valid=training_result.valid and (validation is None or validation.result.valid),
        execution_name=task.execution_name,
        base_model_id=task.base_model_id,
        base_model=model.name,
        customization_type=task.customization_type,
        record_format=rules.record_format,
        limits=rules.limits,
        hyperparameters=hyperparameters,
        training=training,
        validation=validation,
        split=split_report,
    )
    store.put_json(report_location, json_bytes(report.model_dump(mode="json"), where="dataset report"))
    if not report.valid:
        raise DatasetValidationError(
            _findings(report),
            report_uri=report_location.uri,
            invalid_lines=training_result.invalid_lines + (validation.result.invalid_lines if validation else 0),
        )
    return _output(task, report, report_location, split_locations)


def _dataset_location(uri: str, where: str, settings: ValidateDatasetSettings, outputs: set[S3Location]) -> S3Location:
    location = parse_s3_uri(
        uri, where=where, bucket=settings.dataset_bucket or settings.offload_bucket, prefix=settings.dataset_prefix
    )
    # Reading a file this run is about to replace would destroy the user's data (possible when DATASET_PREFIX is
    # configured to cover fine-tuning/ itself): refuse before any request.
    if location in outputs:
        raise S3LocationError(f"{where}: {location.uri} is where this execution writes its own output")
    return location


def _check_file(
    opened: DatasetObject,
    rules: DatasetRules,
    *,
    role: DatasetRole,
    max_reported: int,
    split: Split | None = None,
) -> DatasetReport:
    limit = rules.limits.max_validation_bytes if role is DatasetRole.VALIDATION else rules.limits.max_training_bytes
    if opened.size > limit:
        opened.close()
        if split is not None:
            split.training.abort()
            split.validation.abort()
        problem = f"the file is {opened.size:,} bytes; {rules.model} takes {role} files of at most {limit:,} (not read)"
        return DatasetReport(problems=[problem])
    lines = split_lines(opened.chunks(), rules.max_line_bytes)
    return validate_lines(lines, rules, role=role, max_reported=max_reported, split=split)


def _findings(report: StoredDatasetReport) -> list[str]:
    findings = []
    for name, section in (("training", report.training), ("validation", report.validation)):
        if section is None or section.result.valid:
            continue
        result = section.result
        parts = []
        if result.invalid_lines:
            quoted = "; ".join(
                f"line {problem.line}: {problem.reason[:_REASON_IN_MESSAGE]}"
                for problem in result.first_invalid_lines[:_LINES_IN_MESSAGE]
            )
            more = ", ..." if result.invalid_lines > _LINES_IN_MESSAGE else ""
            parts.append(f"{result.invalid_lines:,} invalid of {result.lines:,} lines ({quoted}{more})")
        parts += result.problems
        findings.append(f"{name} dataset {section.s3_uri}: " + "; ".join(parts))
    return findings


def _output(
    task: ValidateDatasetInput,
    report: StoredDatasetReport,
    report_location: S3Location,
    split_locations: tuple[S3Location, ...] | None,
) -> ValidateDatasetOutput:
    training = report.training.result
    validation_uri: str | None
    if split_locations is not None and training.split is not None:
        training_uri, validation_uri = split_locations[0].uri, split_locations[1].uri
        totals = DatasetTotals(training=training.split.training, validation=training.split.validation)
    else:
        training_uri = report.training.s3_uri
        validation_uri = report.validation.s3_uri if report.validation else None
        totals = DatasetTotals(
            training=training.totals, validation=report.validation.result.totals if report.validation else None
        )
    estimate = estimate_fine_tuning_cost(
        load_fine_tuning_prices(),
        base_model_id=task.base_model_id,
        training_tokens=totals.training.estimated_tokens,
        hyperparameters=report.hyperparameters,
        model_units=_throughput_units(task.provisioned_throughput),
    )
    return ValidateDatasetOutput(
        base_model_id=task.base_model_id,
        customization_type=task.customization_type,
        record_format=report.record_format,
        training_data_s3_uri=training_uri,
        validation_data_s3_uri=validation_uri,
        hyperparameters=report.hyperparameters,
        report_s3_uri=report_location.uri,
        totals=totals,
        provisioned_throughput=task.provisioned_throughput,
        cost_estimate=estimate,
    )


def _throughput_units(throughput: ProvisionedThroughputRequest | None) -> int | None:
    # Only an opted-in run buys Provisioned Throughput, so only then is it priced.
    return throughput.model_units if throughput is not None and throughput.opt_in else None
