"""The project's data-driven machines from the command line: `run --s3-dir events/s3` puts the sample prompt set and
fine-tuning datasets in the emulated bucket, so the scheduled batch and the fine-tuning pipeline run as a user runs
them, with the template's SNS topic created like its bucket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sfn_offline.cli import main

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = str(ROOT / "template.yaml")
SEED = str(ROOT / "events" / "s3")
ANSWERS = str(ROOT / "tools" / "json_answers" / "outline-draft-critique.json")


def run_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, object]]:
    code = main(["run", *arguments, "--template", TEMPLATE, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_schedule_event_runs_the_batch_over_the_sample_prompt_set(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the schedule's event and the sample data folder
    event = str(ROOT / "events" / "schedule" / "chain_batch.json")
    # When the batch machine runs from it
    code, document = run_json(
        capsys, "PackagedChainBatchStateMachine", "--event", event, "--s3-dir", SEED, "--json-answers", ANSWERS
    )
    # Then every line of the sample set ran the chain
    lines = (ROOT / "events" / "s3" / "prompt-sets" / "scheduled.jsonl").read_text().splitlines()
    assert (code, document["status"]) == (0, "SUCCEEDED"), document
    output = document["output"]
    assert isinstance(output, dict)
    assert output["items"]["total"] == output["items"]["succeeded"] == len(lines)


def test_the_sample_fine_tuning_input_runs_to_a_published_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, document = run_json(
        capsys,
        "FineTuningStateMachine",
        "--input",
        str(ROOT / "events" / "statemachine" / "fine_tuning.json"),
        "--s3-dir",
        SEED,
    )
    assert (code, document["status"]) == (0, "SUCCEEDED"), document
    output = document["output"]
    assert isinstance(output, dict)
    assert output["custom_model_arn"]
    assert output["evaluation"]["prompt_count"] == 2


def test_without_the_data_the_batch_fails_naming_the_missing_prompt_set(capsys: pytest.CaptureFixture[str]) -> None:
    event = str(ROOT / "events" / "schedule" / "chain_batch.json")
    code, document = run_json(capsys, "PackagedChainBatchStateMachine", "--event", event)
    assert (code, document["error"]) == (1, "PromptSetNotFoundError")
    assert "prompt-sets/scheduled.jsonl" in str(document["cause"])


def test_s3_dir_must_be_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    assert main(["run", "ChainBatchStateMachine", "--template", TEMPLATE, "--s3-dir", missing]) == 2
    assert "must name a directory" in capsys.readouterr().err


def test_the_summary_counts_the_transitions_of_the_chains_the_batch_started(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given the generic batch machine (Standard chain executions per prompt) over the sample prompt set
    batch_input = tmp_path / "batch.json"
    batch_input.write_text(json.dumps({"chain": "outline-draft-critique", "prompt_set": "prompt-sets/scheduled.jsonl"}))
    arguments = ["ChainBatchStateMachine", "--template", TEMPLATE, "--input", str(batch_input), "--s3-dir", SEED]
    code = main(["run", *arguments, "--json-answers", ANSWERS])
    summary = capsys.readouterr().out.split("== Summary\n")[1]
    # Then the three chain executions it started are counted and priced beside its own transitions
    assert code == 0
    assert " in 3 nested execution(s) it started" in summary
    assert "  Nested runs " in summary
    assert "child workflows of 1 Distributed Map run(s)" in summary


def test_the_runners_estimate_prices_training_and_throughput(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from companion.finetune.costs import training_tokens

    # Given a price table whose fine_tuning section prices the sample's base model, throughput included
    prices = json.loads((ROOT / "offline-runner" / "src" / "sfn_offline" / "prices.json").read_text(encoding="utf-8"))
    prices["fine_tuning"] = {
        "as_of": "2030-01-01",
        "region": "test-region-1",
        "throughput_hours": 5,
        "models": {
            "amazon.nova-lite-v1:0": {
                "training_per_1k_tokens": 1.0,
                "storage_per_month": 2.0,
                "provisioned_throughput_per_model_unit_hour": 10.0,
                "default_epochs": 1,
            }
        },
    }
    table = tmp_path / "prices.json"
    table.write_text(json.dumps(prices), encoding="utf-8")
    execution_input = str(ROOT / "events" / "statemachine" / "fine_tuning.json")
    given = json.loads(Path(execution_input).read_text(encoding="utf-8"))

    # When the sample fine-tuning input runs with it (2 epochs, 1 model unit of throughput)
    code = main(
        ["run", "FineTuningStateMachine", "--template", TEMPLATE, "--input", execution_input, "--s3-dir", SEED,
         "--prices", str(table)]
    )  # fmt: skip
    printed = capsys.readouterr().out

    # Then the summary prices training (the sample's tokens x 2 epochs), a month of storage and 5 h of throughput
    dataset = ROOT / "events" / "s3" / "fine-tuning" / "datasets" / "support" / "train.jsonl"
    tokens = training_tokens([dataset.read_bytes()], base_model_id="amazon.nova-lite-v1:0:300k")
    epochs = int(given["hyperparameters"]["epochCount"])
    expected = tokens * epochs / 1000 * 1.0 + 2.0 + given["provisioned_throughput"]["model_units"] * 5 * 10.0
    assert code == 0, printed
    fine_tuning_row = next(line for line in printed.splitlines() if line.strip().startswith("Fine-tuning  "))
    assert float(fine_tuning_row.split()[1].removeprefix("$")) == pytest.approx(expected)
    # And the assumptions are printed with it
    assert f"Training tokens: {tokens:,}" in printed
    assert "test-region-1 as of 2030-01-01" in printed
    assert "stays up 5 h" in printed
