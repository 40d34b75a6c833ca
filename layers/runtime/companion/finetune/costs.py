"""What a fine-tuning run costs on Bedrock besides the state machine: training, model storage, Provisioned Throughput.

Training is billed per token trained (the dataset's tokens times the epochs), a custom model's storage per month, and
a Provisioned Throughput per model unit for every hour it exists: those dwarf the run's state transitions and Lambda
calls. Prices come from an editable table (``prices.json`` beside this module, or one given) of indicative list prices
with the date and region they are for; a price the table does not know is reported as unknown, never guessed. Every
estimate carries the assumptions it rests on, as sentences to print beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion.errors import ConfigurationError
from companion.finetune.catalog import CHARS_PER_TOKEN, dataset_rules, find_base_model
from companion.finetune.options import CustomizationType
from companion.finetune.validator import validate_lines
from companion.lines import split_lines

DEFAULT_PRICES: Final[Path] = Path(__file__).with_name("prices.json")

Price = Annotated[float, Field(ge=0)] | None


class ModelPrices(BaseModel):
    """The prices of customizing one base model; ``None`` where the table does not know the price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    training_per_1k_tokens: Price
    storage_per_month: Price
    provisioned_throughput_per_model_unit_hour: Price
    default_epochs: Annotated[int, Field(ge=1, le=100)]


class FineTuningPrices(BaseModel):
    """A price table: ``models`` keyed by base model id without its context suffix (``amazon.nova-lite-v1:0``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    as_of: Annotated[str, Field(min_length=1)]
    region: Annotated[str, Field(min_length=1)]
    currency: Literal["USD"] = "USD"
    throughput_hours: Annotated[float, Field(gt=0, le=24 * 366)]
    models: dict[str, ModelPrices]

    def for_model(self, base_model_id: str) -> tuple[str, ModelPrices] | None:
        """The entry of a base model id, its ARN, or the id with a context suffix (``...:300k``): the longest match."""
        candidate = base_model_id.rsplit("/", 1)[-1]
        while candidate:
            if candidate in self.models:
                return candidate, self.models[candidate]
            candidate = candidate.rpartition(":")[0]
        return None


class CostLine(BaseModel):
    """One priced quantity: the amount (``None`` when a price is unknown) and how it was computed, in words."""

    model_config = ConfigDict(frozen=True)

    usd: float | None
    basis: str


class FineTuningCostEstimate(BaseModel):
    """What one fine-tuning run is expected to cost on Bedrock, line by line, with its assumptions."""

    model_config = ConfigDict(frozen=True)

    base_model_id: str
    priced_as: str | None
    prices_as_of: str
    region: str
    training_tokens: int
    epochs: int
    training: CostLine
    storage_per_month: CostLine
    provisioned_throughput_per_hour: CostLine | None
    provisioned_throughput: CostLine | None
    total: float | None = Field(description="Training, one month of storage and the throughput's assumed hours.")
    assumptions: list[str]


def load_fine_tuning_prices(source: str | Path | Mapping[str, Any] | None = None) -> FineTuningPrices:
    """Read a price table: the packaged ``prices.json`` by default, a file, or an already parsed mapping.

    Raises
    ------
    ConfigurationError
        The file cannot be read, is not JSON, or does not have the table's shape (each problem with its place).
    """
    if source is None:
        return _packaged_prices()
    where = "the price table"
    if not isinstance(source, Mapping):
        where = str(source)
        try:
            source = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(f"{where}: cannot read the price table: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{where}: line {exc.lineno} column {exc.colno}: not JSON: {exc.msg}") from exc
    try:
        return FineTuningPrices.model_validate(source)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"{where}: {problems}") from exc


@cache
def _packaged_prices() -> FineTuningPrices:
    return load_fine_tuning_prices(DEFAULT_PRICES)


def _money(value: float) -> str:
    return f"${value:,.6f}".rstrip("0").rstrip(".") if value < 1 else f"${value:,.2f}"


def estimate_fine_tuning_cost(
    prices: FineTuningPrices,
    *,
    base_model_id: str,
    training_tokens: int,
    hyperparameters: Mapping[str, str],
    model_units: int | None = None,
) -> FineTuningCostEstimate:
    """Estimate training (tokens x epochs x price), storage and, when ``model_units`` is given, Provisioned Throughput.

    ``training_tokens`` is the dataset check's estimate for the training file; the epochs are ``epochCount`` from the
    (normalized) hyperparameters, else the table's default for the model. The throughput is priced per hour and for
    the table's ``throughput_hours``.
    """
    found = prices.for_model(base_model_id)
    priced_as, model = found if found is not None else (None, None)
    given_epochs = hyperparameters.get("epochCount")
    epochs = int(given_epochs) if given_epochs is not None else (model.default_epochs if model else 1)
    assumptions = [
        f"Prices: {prices.currency} list prices for {prices.region} as of {prices.as_of} (edit the price table for "
        "your region and date).",
        f"Training tokens: {training_tokens:,}, estimated from the training file as characters / {CHARS_PER_TOKEN} "
        "(AWS's rule of thumb for fine-tuning data); Bedrock bills "
        "the tokens its own tokenizer counts. Validation records are not counted.",
        f"Epochs: {epochs}"
        + (
            " (epochCount)."
            if given_epochs is not None
            else f" (no epochCount given: the table's default for {priced_as or 'an unknown model'})."
        ),
    ]
    if model is None:
        assumptions.append(f"{base_model_id} is not in the price table: no cost can be given.")

    trained = training_tokens * epochs
    training_price = model.training_per_1k_tokens if model else None
    training = CostLine(
        usd=None if training_price is None else trained / 1000 * training_price,
        basis=f"{training_tokens:,} tokens x {epochs} epoch(s) x "
        + ("unknown price" if training_price is None else f"{_money(training_price)} per 1,000 tokens"),
    )
    storage_price = model.storage_per_month if model else None
    storage = CostLine(
        usd=storage_price,
        basis="one custom model, per month until it is deleted"
        + ("" if storage_price is not None else " (unknown price)"),
    )
    per_hour = throughput = None
    if model_units is not None:
        hourly = model.provisioned_throughput_per_model_unit_hour if model else None
        unit_basis = "unknown price" if hourly is None else f"{_money(hourly)} per model unit-hour"
        per_hour = CostLine(
            usd=None if hourly is None else model_units * hourly,
            basis=f"{model_units} model unit(s) x {unit_basis}, no commitment term",
        )
        throughput = CostLine(
            usd=None if per_hour.usd is None else per_hour.usd * prices.throughput_hours,
            basis=f"{model_units} model unit(s) x {prices.throughput_hours:g} h x {unit_basis}",
        )
        assumptions.append(
            f"Provisioned Throughput stays up {prices.throughput_hours:g} h (the table's throughput_hours) and is "
            "billed every hour it exists, used or not: delete it when done."
        )
    parts = [training.usd, storage.usd] + ([throughput.usd] if throughput is not None else [])
    total = None if any(part is None for part in parts) else sum(part for part in parts if part is not None)
    return FineTuningCostEstimate(
        base_model_id=base_model_id,
        priced_as=priced_as,
        prices_as_of=prices.as_of,
        region=prices.region,
        training_tokens=training_tokens,
        epochs=epochs,
        training=training,
        storage_per_month=storage,
        provisioned_throughput_per_hour=per_hour,
        provisioned_throughput=throughput,
        total=total,
        assumptions=assumptions,
    )


def training_tokens(
    chunks: Iterable[bytes],
    *,
    base_model_id: str,
    customization_type: CustomizationType | str = CustomizationType.FINE_TUNING,
    hyperparameters: Mapping[str, str] | None = None,
) -> int:
    """The estimated tokens of a training file's valid records, counted as the dataset check counts them.

    ``hyperparameters`` are Bedrock's strings (as normalized by the check). Raises what
    :func:`companion.finetune.find_base_model` and :func:`companion.finetune.dataset_rules` raise.
    """
    rules = dataset_rules(find_base_model(base_model_id), CustomizationType(customization_type), hyperparameters or {})
    return validate_lines(split_lines(chunks, rules.max_line_bytes), rules).totals.estimated_tokens


def render_estimate(estimate: FineTuningCostEstimate) -> list[str]:
    """The estimate as lines to print: each cost with its basis, the total, then the assumptions."""

    def amount(line: CostLine) -> str:
        return "unknown" if line.usd is None else _money(line.usd)

    lines = [
        f"Fine-tuning cost estimate for {estimate.base_model_id}:",
        f"  Training               {amount(estimate.training):>12}  {estimate.training.basis}",
        f"  Model storage          {amount(estimate.storage_per_month):>12}  {estimate.storage_per_month.basis}",
    ]
    if estimate.provisioned_throughput_per_hour is not None and estimate.provisioned_throughput is not None:
        lines += [
            f"  Provisioned Throughput {amount(estimate.provisioned_throughput_per_hour):>12}  per hour: "
            f"{estimate.provisioned_throughput_per_hour.basis}",
            f"                         {amount(estimate.provisioned_throughput):>12}  "
            f"{estimate.provisioned_throughput.basis}",
        ]
    total = "unknown (a price is missing)" if estimate.total is None else _money(estimate.total)
    lines.append(f"  Total                  {total:>12}  training + one month of storage + the throughput's hours")
    lines += ["  Assumptions:", *(f"  - {assumption}" for assumption in estimate.assumptions)]
    return lines
