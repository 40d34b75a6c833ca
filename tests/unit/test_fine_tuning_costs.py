"""The fine-tuning cost estimate: training, storage and Provisioned Throughput priced from the editable table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from companion.errors import ConfigurationError
from companion.finetune import find_base_model
from companion.finetune.costs import (
    DEFAULT_PRICES,
    estimate_fine_tuning_cost,
    load_fine_tuning_prices,
    render_estimate,
)
from companion.finetune.dataset import ValidateDatasetInput
from tools.local_lambda import LocalLambdaContext

TABLE: dict[str, Any] = {
    "as_of": "2030-01-01",
    "region": "eu-west-9",
    "throughput_hours": 10,
    "models": {
        "vendor.model-v1:0": {
            "training_per_1k_tokens": 0.5,
            "storage_per_month": 2.0,
            "provisioned_throughput_per_model_unit_hour": 30.0,
            "default_epochs": 3,
        },
        "vendor.unpriced-v1:0": {
            "training_per_1k_tokens": None,
            "storage_per_month": 2.0,
            "provisioned_throughput_per_model_unit_hour": None,
            "default_epochs": 1,
        },
    },
}


def test_training_and_throughput_are_priced_from_the_table_with_their_assumptions() -> None:
    # Given a price table and a run of 4,000 training tokens, 2 epochs, 2 model units of throughput
    prices = load_fine_tuning_prices(TABLE)
    # When estimated (the model id carries a context suffix, as fine-tunable ids do)
    estimate = estimate_fine_tuning_cost(
        prices,
        base_model_id="vendor.model-v1:0:128k",
        training_tokens=4000,
        hyperparameters={"epochCount": "2"},
        model_units=2,
    )
    # Then training is tokens x epochs x price, the throughput units x price per hour and x the table's hours
    assert estimate.priced_as == "vendor.model-v1:0"
    assert estimate.training.usd == pytest.approx(4000 * 2 / 1000 * 0.5)
    assert estimate.provisioned_throughput_per_hour is not None
    assert estimate.provisioned_throughput_per_hour.usd == pytest.approx(60.0)
    assert estimate.provisioned_throughput is not None
    assert estimate.provisioned_throughput.usd == pytest.approx(600.0)
    assert estimate.total == pytest.approx(4.0 + 2.0 + 600.0)
    # And the assumptions name the table's date and region, the token estimate, the epochs and the hours
    text = "\n".join(render_estimate(estimate))
    for expected in ("eu-west-9 as of 2030-01-01", "characters / 6", "Epochs: 2 (epochCount)", "stays up 10 h"):
        assert expected in text
    assert "$600.00" in text


def test_without_epoch_count_the_tables_default_is_used_and_said() -> None:
    estimate = estimate_fine_tuning_cost(
        load_fine_tuning_prices(TABLE),
        base_model_id="arn:aws:bedrock:us-east-1::foundation-model/vendor.model-v1:0",
        training_tokens=1000,
        hyperparameters={},
    )
    assert estimate.epochs == 3
    assert estimate.training.usd == pytest.approx(1.5)
    # And without a throughput nothing is priced for it, and the total is training plus a month of storage
    assert estimate.provisioned_throughput is None
    assert estimate.total == pytest.approx(3.5)
    assert any("table's default" in assumption for assumption in estimate.assumptions)


@pytest.mark.parametrize("model", ["vendor.unpriced-v1:0", "other.model-v9"])
def test_an_unknown_price_is_unknown_never_guessed(model: str) -> None:
    estimate = estimate_fine_tuning_cost(
        load_fine_tuning_prices(TABLE), base_model_id=model, training_tokens=1000, hyperparameters={}, model_units=1
    )
    assert estimate.training.usd is None
    assert estimate.provisioned_throughput is not None
    assert estimate.provisioned_throughput.usd is None
    assert estimate.total is None
    assert "unknown" in "\n".join(render_estimate(estimate))


def test_the_packaged_table_prices_training_for_every_model_it_lists() -> None:
    # Given the table the layer ships
    prices = load_fine_tuning_prices()
    # Then every entry is a base model the dataset check knows, and its training and storage are priced
    for model_id, entry in prices.models.items():
        find_base_model(model_id)
        assert entry.training_per_1k_tokens is not None, model_id
        assert entry.storage_per_month is not None, model_id
    # And the template's default base model is in it
    default = json.loads(DEFAULT_PRICES.read_text(encoding="utf-8"))
    assert prices.for_model("amazon.nova-lite-v1:0:300k") is not None
    assert default["as_of"] == prices.as_of


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "line 1 column 2: not JSON"),
        (json.dumps(TABLE | {"throughput_hours": -1}), "throughput_hours"),
        (
            json.dumps({**TABLE, "models": {"m": {"training_per_1k_tokens": "cheap"}}}),
            "models.m.training_per_1k_tokens",
        ),
    ],
)
def test_a_broken_table_is_a_named_error_saying_where(tmp_path: Path, content: str, problem: str) -> None:
    table = tmp_path / "prices.json"
    table.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=problem):
        load_fine_tuning_prices(table)


def test_the_dataset_check_hands_on_the_estimate(s3: Any) -> None:
    from validate_dataset.app import lambda_handler

    # Given a valid Nova dataset in the bucket and a run that will buy 2 model units of throughput
    record = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "How do I reset my password?"}]},
            {"role": "assistant", "content": [{"text": "Open Settings, then Security."}]},
        ],
    }
    body = b"\n".join(json.dumps(record).encode() for _ in range(100)) + b"\n"
    s3.put_object(Bucket="companion-test-payloads", Key="fine-tuning/datasets/t/train.jsonl", Body=body)
    event = ValidateDatasetInput(
        execution_name="exec-cost",
        base_model_id="amazon.nova-lite-v1:0:300k",
        training_data_s3_uri="s3://companion-test-payloads/fine-tuning/datasets/t/train.jsonl",
        hyperparameters={"epochCount": 3},
        provisioned_throughput={"opt_in": True, "model_units": 2},
    ).model_dump(mode="json", exclude_none=True)
    # When the ValidateDataset function checks it
    output = lambda_handler(event, LocalLambdaContext(function_name="ValidateDatasetFunction"))
    # Then its output carries the estimate: the checked token count x 3 epochs at the packaged table's price
    estimate = output["cost_estimate"]
    tokens = output["totals"]["training"]["estimated_tokens"]
    price = load_fine_tuning_prices().models["amazon.nova-lite-v1:0"].training_per_1k_tokens
    assert price is not None
    assert (estimate["training_tokens"], estimate["epochs"]) == (tokens, 3)
    assert estimate["training"]["usd"] == pytest.approx(tokens * 3 / 1000 * price)
    assert estimate["provisioned_throughput_per_hour"]["basis"].startswith("2 model unit(s)")
