"""The streaming dataset validator: one pass over the lines, constant memory, a report, and an optional split."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ValidationError, computed_field

from companion.finetune.catalog import CHARS_PER_TOKEN, DatasetRules
from companion.finetune.records import describe_problem, parse_record
from companion.lines import OversizedLine

DEFAULT_MAX_REPORTED_LINES = 20
_HASH_SPACE = 2**64


class DatasetRole(StrEnum):
    """Which dataset a file is to the job: the record-count limits differ."""

    TRAINING = "training"
    VALIDATION = "validation"


class Distribution(BaseModel):
    """Smallest, largest and mean of a per-record measure."""

    min: int
    max: int
    mean: float


class Totals(BaseModel):
    """The valid records of a dataset (or of one side of a split): what the customization job will train on."""

    records: int = 0
    bytes: int = 0
    characters: int = 0
    estimated_tokens: int = 0
    characters_per_record: Distribution | None = None
    tokens_per_record: Distribution | None = None


class LineProblem(BaseModel):
    line: int
    reason: str


class SplitTotals(BaseModel):
    training: Totals
    validation: Totals
    written: bool


class DatasetReport(BaseModel):
    """Everything one pass over a dataset found. Line numbers are 1-based and count blank lines."""

    lines: int = 0
    blank_lines: int = 0
    invalid_lines: int = 0
    first_invalid_lines: list[LineProblem] = []
    problems: list[str] = []
    totals: Totals = Totals()
    split: SplitTotals | None = None

    # Pydantic's documented form for a computed field; mypy does not model decorators on top of @property.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid(self) -> bool:
        return self.invalid_lines == 0 and not self.problems


class LineSink(Protocol):
    """Where one side of a split goes: written line by line, visible only once committed."""

    def write(self, line: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Split:
    """A deterministic train/validation split written while the dataset streams past."""

    validation_fraction: float
    seed: int
    training: LineSink
    validation: LineSink


def goes_to_validation(line_number: int, seed: int, validation_fraction: float) -> bool:
    """Whether line ``line_number`` belongs to the validation side.

    A hash of (seed, line number) rather than a random generator: the decision for a line depends on nothing else,
    so the split streams, is the same on every run and retry, and moves no line when other lines are edited.
    """
    digest = hashlib.blake2b(f"{seed}:{line_number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < validation_fraction * _HASH_SPACE


class _Tally:
    """Running totals of records, with per-record extremes; constant memory whatever the record count."""

    def __init__(self) -> None:
        self.records = self.bytes = self.characters = self.tokens = 0
        self.min_chars = self.max_chars = self.min_tokens = self.max_tokens = 0

    def add(self, line_bytes: int, characters: int, tokens: int) -> None:
        if self.records == 0:
            self.min_chars = self.max_chars = characters
            self.min_tokens = self.max_tokens = tokens
        else:
            self.min_chars, self.max_chars = min(self.min_chars, characters), max(self.max_chars, characters)
            self.min_tokens, self.max_tokens = min(self.min_tokens, tokens), max(self.max_tokens, tokens)
        self.records += 1
        self.bytes += line_bytes + 1  # the line as written to JSONL, with its \n
        self.characters += characters
        self.tokens += tokens

    def totals(self) -> Totals:
        if self.records == 0:
            return Totals()
        return Totals(
            records=self.records,
            bytes=self.bytes,
            characters=self.characters,
            estimated_tokens=self.tokens,
            characters_per_record=Distribution(
                min=self.min_chars, max=self.max_chars, mean=round(self.characters / self.records, 1)
            ),
            tokens_per_record=Distribution(
                min=self.min_tokens, max=self.max_tokens, mean=round(self.tokens / self.records, 1)
            ),
        )


def validate_lines(
    lines: Iterable[bytes | OversizedLine],
    rules: DatasetRules,
    *,
    role: DatasetRole = DatasetRole.TRAINING,
    max_reported: int = DEFAULT_MAX_REPORTED_LINES,
    split: Split | None = None,
) -> DatasetReport:
    """Check every line of a JSONL dataset in one streaming pass.

    Each non-blank line must be UTF-8, one JSON object of ``rules.record_format``, within the per-record character
    (and so estimated token) limit; then the record counts must fit the limits for ``role``. Memory stays constant:
    nothing is kept but counters and the first ``max_reported`` problems.

    Parameters
    ----------
    lines
        The raw lines without their ``\\n``, as :func:`companion.lines.split_lines` yields them.
    rules
        From :func:`companion.finetune.catalog.dataset_rules`.
    role
        Training files are held to ``min_records``/``max_records``, validation files to ``max_validation_records``.
    max_reported
        How many invalid lines to describe; all of them are counted.
    split
        Send each valid record to ``split.training`` or ``split.validation`` (see :func:`goes_to_validation`) and
        commit both only if the whole dataset, split included, passes; on the first problem both are aborted, so no
        output of an unusable dataset ever becomes visible.

    Returns
    -------
    DatasetReport
        ``valid`` is true only when no line and no total broke a rule.
    """
    run = _Run(rules, max_reported, split)
    try:
        for line_number, line in enumerate(lines, start=1):
            run.check(line_number, line)
    except BaseException:
        run.stop_writing()
        raise
    return run.finish(role)


class _Run:
    """The state of one pass: the report so far, running totals, and whether the split is still being written."""

    def __init__(self, rules: DatasetRules, max_reported: int, split: Split | None) -> None:
        self.rules = rules
        self.max_reported = max_reported
        self.split = split
        self.writing = split is not None
        self.report = DatasetReport()
        self.everything, self.training_side, self.validation_side = _Tally(), _Tally(), _Tally()

    def check(self, line_number: int, line: bytes | OversizedLine) -> None:
        rules, limits = self.rules, self.rules.limits
        self.report.lines = line_number
        if isinstance(line, OversizedLine):
            self.refuse(
                line_number,
                f"the line is {line.size:,} bytes, more than any record within {rules.model}'s limit of "
                f"{limits.max_record_chars:,} characters could take",
            )
            return
        if not line.strip():
            self.report.blank_lines += 1
            return
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.refuse(
                line_number, f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line)"
            )
            return
        if text.startswith("\ufeff"):
            self.refuse(line_number, "starts with a byte order mark (BOM); save the file as UTF-8 without BOM")
            return
        try:
            record = parse_record(text, rules.record_format, rules.reserved_words)
        except ValidationError as exc:
            # Describing costs a second parse (for the format hint): only for lines the report will show.
            shown = len(self.report.first_invalid_lines) < self.max_reported
            self.refuse(line_number, describe_problem(exc, text, rules.record_format) if shown else "")
            return
        characters = record.characters()
        tokens = math.ceil(characters / CHARS_PER_TOKEN)
        if characters > limits.max_record_chars:
            self.refuse(
                line_number,
                f"the record has {characters:,} characters (~{tokens:,} tokens); {rules.model} takes at most "
                f"{limits.max_record_chars:,} (~{limits.max_record_tokens:,} tokens)",
            )
            return
        self.everything.add(len(line), characters, tokens)
        if self.split is not None:
            to_validation = goes_to_validation(line_number, self.split.seed, self.split.validation_fraction)
            (self.validation_side if to_validation else self.training_side).add(len(line), characters, tokens)
            if self.writing:
                (self.split.validation if to_validation else self.split.training).write(line)

    def refuse(self, line_number: int, reason: str) -> None:
        self.report.invalid_lines += 1
        if len(self.report.first_invalid_lines) < self.max_reported:
            self.report.first_invalid_lines.append(LineProblem(line=line_number, reason=reason))
        # The dataset is unusable already: stop uploading parts nobody will use.
        self.stop_writing()

    def stop_writing(self) -> None:
        if self.writing and self.split is not None:
            self.split.training.abort()
            self.split.validation.abort()
        self.writing = False

    def finish(self, role: DatasetRole) -> DatasetReport:
        report = self.report
        report.totals = self.everything.totals()
        if self.split is None:
            report.problems = _count_problems(report.totals.records, self.rules, role)
            return report
        report.problems = [
            *_count_problems(self.training_side.records, self.rules, DatasetRole.TRAINING, "the training side"),
            *_count_problems(self.validation_side.records, self.rules, DatasetRole.VALIDATION, "the validation side"),
        ]
        if self.writing and report.valid:
            self.split.training.commit()
            self.split.validation.commit()
        else:
            self.stop_writing()
        report.split = SplitTotals(
            training=self.training_side.totals(), validation=self.validation_side.totals(), written=self.writing
        )
        return report


def _count_problems(records: int, rules: DatasetRules, role: DatasetRole, subject: str = "the dataset") -> list[str]:
    limits = rules.limits
    if records == 0:
        return [f"{subject} has no valid records"]
    if role is DatasetRole.VALIDATION:
        if records > limits.max_validation_records:
            return [
                f"{subject} has {records:,} records; {rules.model} takes at most "
                f"{limits.max_validation_records:,} validation records"
            ]
        return []
    if records < limits.min_records:
        return [f"{subject} has {records:,} valid records; {rules.model} needs at least {limits.min_records:,}"]
    if records > limits.max_records:
        return [f"{subject} has {records:,} records; {rules.model} takes at most {limits.max_records:,}"]
    return []
