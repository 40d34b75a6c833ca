"""The template's resources exist in moto when a run may use them, and only then (creating them is start-up time)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from sfn_offline.cli import main
from sfn_offline.stack import OfflineStack, reaches_the_account
from sfn_offline.template import load_template

HELLO = Path(__file__).parent / "fixtures" / "hello-project" / "template.yaml"


def _machine(states: dict[str, object]) -> dict[str, object]:
    return {"StartAt": next(iter(states)), "States": states}


def test_only_tasks_and_s3_reading_maps_reach_the_account() -> None:
    # Given machines of Pass, Choice and Wait states, a Task nested in a Parallel branch, and a Map reading S3
    quiet = _machine({"P": {"Type": "Pass", "Next": "W"}, "W": {"Type": "Wait", "Seconds": 1, "End": True}})
    nested_task = _machine(
        {"Fan": {"Type": "Parallel", "End": True, "Branches": [_machine({"T": {"Type": "Task", "End": True}})]}}
    )
    reader = _machine({"M": {"Type": "Map", "End": True, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}}})

    # Then only the quiet machine cannot reach the emulated account
    assert not reaches_the_account([quiet])
    assert reaches_the_account([quiet, nested_task])
    assert reaches_the_account([reader])


def test_a_stack_without_stores_creates_no_bucket() -> None:
    # Given the hello project, whose template declares a bucket
    template = load_template(HELLO)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        # When a stack opens without stores, Then no bucket exists; by default, the template's bucket does
        with OfflineStack(template, machines=["PassStateMachine"], stores=False):
            assert s3.list_buckets()["Buckets"] == []
        with OfflineStack(template, machines=["PassStateMachine"]):
            assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["offline-notesbucket"]


def test_a_run_that_writes_buckets_out_still_has_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a Pass-only machine run with --s3-out (the buckets are written out, so they must exist)
    code = main(["run", "PassStateMachine", "--template", str(HELLO), "--json", "--s3-out", str(tmp_path)])

    # Then it succeeds and the template's bucket is written out, empty
    assert code == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "SUCCEEDED"
    assert "0 object(s) of the emulated bucket offline-notesbucket" in captured.err
