"""Task tokens and nested executions ("Wait for a Callback with Task Token", "Run a Job (.sync)", "Start workflow
executions from a task state"), with their retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sfn_offline.stack import OfflineStack
from sfn_offline.template import load_template

from tests.conformance.paths import SAMPLES

CliRun = Callable[..., tuple[int, str, str]]
APPROVAL = SAMPLES / "approval"


def test_send_task_success_resumes_the_waiting_task(cli: CliRun) -> None:
    """ "Pass the token to SendTaskSuccess ... the task's output is the output you pass"; SendTaskHeartbeat keeps
    a task with HeartbeatSeconds alive."""
    # Given the approval sample: the request goes to the template's queue, the reviewer answers through aws-sdk:sfn
    status, out, err = cli(
        "run",
        "ApprovalStateMachine",
        "--template",
        APPROVAL / "template.yaml",
        "--input",
        APPROVAL / "input.json",
        "--json",
    )
    # Then the waiting task resumed with the reviewer's output
    assert status == 0, out + err
    assert json.loads(out)["output"] == {"approved": "o-7"}


def _approval_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    definition = json.loads((APPROVAL / "approval.asl.json").read_text())
    edit(definition)
    (tmp_path / "approval.asl.json").write_text(json.dumps(definition))
    (tmp_path / "template.yaml").write_text((APPROVAL / "template.yaml").read_text())
    return tmp_path / "template.yaml"


def test_send_task_failure_fails_the_task_with_its_error(tmp_path: Path, cli: CliRun) -> None:
    """ "SendTaskFailure ... the task fails with the error and cause you pass", which Catch matches by name."""

    # Given the reviewer rejecting with SendTaskFailure, and the Parallel catching Review.Rejected
    def reject(definition: dict[str, Any]) -> None:
        review = definition["States"]["Request And Review"]
        review["Branches"][1]["States"]["Approve"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskFailure",
            "Parameters": {"TaskToken.$": "$.request.token", "Error": "Review.Rejected", "Cause": "too expensive"},
            "End": True,
        }
        review["Catch"] = [{"ErrorEquals": ["Review.Rejected"], "Next": "Rejected"}]
        definition["States"]["Rejected"] = {"Type": "Pass", "End": True}

    template = _approval_with(tmp_path, reject)
    # When it runs
    status, out, err = cli(
        "run", "ApprovalStateMachine", "--template", template, "--input", APPROVAL / "input.json", "--json"
    )
    # Then the waiting task failed with the reviewer's error, and the Catch took it
    assert status == 0, out + err
    assert json.loads(out)["output"] == {"Error": "Review.Rejected", "Cause": "too expensive"}


def test_a_missed_heartbeat_is_states_heartbeat_timeout(tmp_path: Path, cli: CliRun) -> None:
    """ "States.HeartbeatTimeout: A Task state failed to send a heartbeat for a period longer than the
    HeartbeatSeconds value" (error names); it can be caught."""

    # Given a task waiting with HeartbeatSeconds 1 that nobody answers, catching States.HeartbeatTimeout
    def silent(definition: dict[str, Any]) -> None:
        waiting = definition["States"]["Request And Review"]["Branches"][0]
        waiting["States"]["Request Approval"]["HeartbeatSeconds"] = 1
        definition["States"] = {
            "Request Approval": {
                **waiting["States"]["Request Approval"],
                "End": False,
                "Next": "Approved",
                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Timed Out"}],
            },
            "Approved": {"Type": "Succeed"},
            "Timed Out": {"Type": "Pass", "End": True},
        }
        definition["StartAt"] = "Request Approval"
        del definition["States"]["Request Approval"]["End"]

    template = _approval_with(tmp_path, silent)
    # When it runs
    status, out, err = cli(
        "run", "ApprovalStateMachine", "--template", template, "--input", APPROVAL / "input.json", "--json"
    )
    # Then the heartbeat timeout was caught by its own name
    assert status == 0, out + err
    assert json.loads(out)["output"]["Error"] == "States.HeartbeatTimeout"


NESTED = """\
Resources:
  Child:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Boom
        States:
          Boom: {Type: Fail, Error: Child.Failed, Cause: asked to fail}
  Parent:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionSubstitutions: {ChildArn: !Ref Child}
      Definition:
        StartAt: Run Child
        States:
          Run Child:
            Type: Task
            Resource: arn:aws:states:::states:startExecution.sync:2
            Parameters: {StateMachineArn: '${ChildArn}', Input: {}}
            Retry: [{ErrorEquals: [States.TaskFailed], MaxAttempts: 2, IntervalSeconds: 1}]
            End: true
"""


def test_a_retried_sync_task_runs_the_child_again_each_attempt(tmp_path: Path) -> None:
    """Retry re-runs the task ("Retry ... the state is run again"): a .sync:2 child that fails is started once per
    attempt, and the task fails with States.TaskFailed after the last, never a States.Timeout."""
    # Given a parent retrying a failing child twice
    (tmp_path / "template.yaml").write_text(NESTED)
    template = load_template(tmp_path / "template.yaml")
    # When the parent runs
    with OfflineStack(template) as stack:
        result = stack.run("Parent", {}, timeout=120)
        children = stack.executions("Child")
    # Then three children ran and the parent failed with the child's failure
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert len(children) == 3
    assert {child["status"] for child in children} == {"FAILED"}
