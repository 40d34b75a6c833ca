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
        capsys, "ChainBatchStateMachine", "--event", event, "--s3-dir", SEED, "--json-answers", ANSWERS
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
    code, document = run_json(capsys, "ChainBatchStateMachine", "--event", event)
    assert (code, document["error"]) == (1, "PromptSetNotFoundError")
    assert "prompt-sets/scheduled.jsonl" in str(document["cause"])


def test_s3_dir_must_be_a_directory_and_needs_a_template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    assert main(["run", "ChainBatchStateMachine", "--template", TEMPLATE, "--s3-dir", missing]) == 2
    assert "must name a directory" in capsys.readouterr().err
    definition = tmp_path / "d.json"
    definition.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    assert main(["run", "--definition", str(definition), "--s3-dir", str(tmp_path)]) == 2
    assert "--s3-dir: only with a template" in capsys.readouterr().err


def test_the_summary_counts_the_transitions_of_the_chains_the_batch_started(capsys: pytest.CaptureFixture[str]) -> None:
    event = str(ROOT / "events" / "schedule" / "chain_batch.json")
    arguments = ["ChainBatchStateMachine", "--template", TEMPLATE, "--event", event, "--s3-dir", SEED]
    code = main(["run", *arguments, "--json-answers", ANSWERS])
    summary = capsys.readouterr().out.split("== Summary\n")[1]
    # Then the three chain executions it started are counted and priced beside its own transitions
    assert code == 0
    assert " in 3 nested execution(s) it started" in summary
    assert "  Nested runs " in summary
    assert "child workflows of 1 Distributed Map run(s)" in summary
