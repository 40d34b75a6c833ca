"""The offline stack: every machine of template.yaml in moto under its template ARN, and executions started by the
caller, by the chain API's handler through boto3, by nested ``states:startExecution`` tasks and by
``StartSyncExecution`` (which moto lacks) all run there with the real handlers and the simulated Bedrock."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_offline.chain_standin import JsonAnswers
from sfn_offline.stack import OfflineStack, UnknownStateMachineError
from sfn_offline.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
STANDARD = "PromptChainStateMachine"
STANDARD_NAME = "offline-PromptChain"  # its Name in template.yaml, ${AWS::StackName}-PromptChain
PACKAGED = "OutlineDraftCritiqueChainStateMachine"  # the sample event's chain, on its own compiled machine
EXPRESS = "PromptChainExpressStateMachine"
ANSWERS = {
    "Write an outline": {"title": "Chains offline", "sections": ["Why", "How", "Limits"]},
    "Critique this draft": {"score": 7, "strengths": ["clear"], "issues": ["short"]},
}
# A plan whose only step has no prompt: the step's Lambda rejects it and the execution fails.
BROKEN_INPUT = {"chain": "broken", "input": {}, "plan": [{"kind": "step", "name": "x", "steps": [{"name": "x"}]}]}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture
def chain_input() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / "statemachine" / "prompt_chain.json").read_text())
    return loaded


@pytest.fixture
def api_event() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / "api" / "start_chain.json").read_text())
    return loaded


@pytest.fixture
def stack(template: Template) -> Iterator[OfflineStack]:
    with mock_aws(), OfflineStack(template, bedrock=JsonAnswers(ANSWERS)) as opened:
        yield opened


def _critique(output: dict[str, Any]) -> Any:
    return output["steps"]["critique"]["json"]


def test_every_template_machine_exists_under_its_template_arn_and_type(stack: OfflineStack, template: Template) -> None:
    machines = boto3.client("stepfunctions", region_name="us-east-1").list_state_machines()["stateMachines"]

    found = {(machine["stateMachineArn"], machine["type"]) for machine in machines}
    assert found == {(spec.arn, spec.type) for spec in template.state_machines.values()}
    # A machine without a Name is named after its logical id; a named one after its Name, the stack's being "offline"
    assert (f"arn:aws:states:us-east-1:123456789012:stateMachine:{EXPRESS}", "EXPRESS") in found
    assert (f"arn:aws:states:us-east-1:123456789012:stateMachine:{STANDARD_NAME}", "STANDARD") in found


def test_run_executes_a_template_machine_by_logical_id(stack: OfflineStack, chain_input: dict[str, Any]) -> None:
    events: list[dict[str, Any]] = []

    result = stack.run(STANDARD, chain_input, name="run-by-id", on_event=events.append)

    assert result.status == "SUCCEEDED", result.cause
    assert _critique(result.output) == ANSWERS["Critique this draft"]
    assert result.execution_arn.endswith(f":execution:{STANDARD_NAME}:run-by-id")
    assert [event["type"] for event in events] == [event["type"] for event in result.history]
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_an_unknown_machine_is_a_named_error(stack: OfflineStack) -> None:
    with pytest.raises(UnknownStateMachineError, match="NoSuchMachine"):
        stack.start("NoSuchMachine", {})


def test_the_chain_api_handler_starts_an_execution_the_caller_can_wait_for(
    stack: OfflineStack, api_event: dict[str, Any]
) -> None:
    # Given the real ChainApiFunction handler and the sample API Gateway event (POST /chains, async)
    handler = stack.functions["ChainApiFunction"]

    # When it handles the event twice (a client retry: same Idempotency-Key, same body)
    first = handler(api_event, None)
    second = handler(copy.deepcopy(api_event), None)

    # Then both answers name one execution, on the packaged chain's own machine, which runs to its end
    assert first["statusCode"] == second["statusCode"] == 202
    started = json.loads(first["body"])
    assert json.loads(second["body"])["executionId"] == started["executionId"]
    assert [item["executionArn"] for item in stack.executions(PACKAGED)] == [started["executionArn"]]
    result = stack.wait(started["executionArn"], timeout=60)
    assert result.status == "SUCCEEDED", result.cause
    assert _critique(result.output) == ANSWERS["Critique this draft"]

    # And GET /chains/{id} then reads the result through DescribeExecution
    got = handler(_get_event(started["executionId"]), None)
    assert got["statusCode"] == 200
    assert json.loads(got["body"])["output"] == result.output


def test_the_same_key_with_another_body_is_refused_by_step_functions_rules(
    stack: OfflineStack, api_event: dict[str, Any]
) -> None:
    handler = stack.functions["ChainApiFunction"]
    assert handler(api_event, None)["statusCode"] == 202
    changed = copy.deepcopy(api_event)
    body = json.loads(changed["body"])
    body["variables"]["audience"] = "someone else"
    changed["body"] = json.dumps(body)

    answer = handler(changed, None)

    assert answer["statusCode"] == 409
    assert len(stack.executions(PACKAGED)) == 1


def test_sync_mode_runs_on_the_express_machine_through_start_sync_execution(
    stack: OfflineStack, api_event: dict[str, Any]
) -> None:
    sync_event = copy.deepcopy(api_event)
    sync_event["body"] = json.dumps(json.loads(sync_event["body"]) | {"mode": "sync"})

    answer = stack.functions["ChainApiFunction"](sync_event, None)

    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["status"] == "SUCCEEDED"
    assert f":execution:{EXPRESS}:" in body["executionArn"]
    assert _critique(body["output"]) == ANSWERS["Critique this draft"]
    assert stack.executions(STANDARD) == []


def test_start_sync_execution_answers_in_the_api_shape_and_runs_a_name_again(
    stack: OfflineStack, chain_input: dict[str, Any]
) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    arn = stack.machine(EXPRESS).arn

    first = client.start_sync_execution(stateMachineArn=arn, name="same", input=json.dumps(chain_input))
    again = client.start_sync_execution(stateMachineArn=arn, name="same", input=json.dumps(chain_input))

    assert first["status"] == again["status"] == "SUCCEEDED"
    assert first["name"] == "same"
    assert first["stateMachineArn"] == arn
    assert first["stopDate"] >= first["startDate"]
    assert _critique(json.loads(first["output"])) == ANSWERS["Critique this draft"]
    assert json.loads(first["input"]) == chain_input
    assert first["billingDetails"]["billedDurationInMilliseconds"] % 100 == 0
    # Express names are not de-duplicated: the second call ran the chain again instead of failing.
    assert again["startDate"] > first["startDate"]


def test_start_sync_execution_errors_are_the_apis(stack: OfflineStack) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")

    with pytest.raises(client.exceptions.StateMachineTypeNotSupported):
        client.start_sync_execution(stateMachineArn=stack.machine(STANDARD).arn, input="{}")
    with pytest.raises(client.exceptions.StateMachineDoesNotExist):
        client.start_sync_execution(stateMachineArn=stack.machine(EXPRESS).arn + "Missing", input="{}")


def test_a_failed_sync_execution_reports_error_and_cause(stack: OfflineStack) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")

    answer = client.start_sync_execution(stateMachineArn=stack.machine(EXPRESS).arn, input=json.dumps(BROKEN_INPUT))

    assert answer["status"] == "FAILED"
    assert answer["error"]
    assert "output" not in answer


def _distributed_map_over_chains(chain_arn: str, resource: str) -> dict[str, Any]:
    """A parent machine starting one prompt chain per item, as a scheduled batch does."""
    return {
        "StartAt": "Each Item",
        "States": {
            "Each Item": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Run Chain",
                    "States": {
                        "Run Chain": {
                            "Type": "Task",
                            "Resource": resource,
                            "Parameters": {"StateMachineArn": chain_arn, "Input.$": "$"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }


def test_a_distributed_map_runs_the_chain_per_item_with_start_execution_sync_2(
    stack: OfflineStack, chain_input: dict[str, Any]
) -> None:
    # Given a parent machine whose Distributed Map starts the template's chain machine per item (.sync:2)
    definition = _distributed_map_over_chains(
        stack.machine(STANDARD).arn, "arn:aws:states:::states:startExecution.sync:2"
    )
    parent = stack.engine.create_machine("NightlyChains", definition)
    other = copy.deepcopy(chain_input)
    other["input"]["topic"] = "a second topic"

    # When it runs over two items
    result = stack.wait(stack.engine.start(parent, {"items": [chain_input, other]}), timeout=120)

    # Then each item ran as its own execution of the chain machine, and .sync:2 returned the output as JSON
    assert result.status == "SUCCEEDED", result.cause
    outputs = [item["Output"] for item in result.output]
    assert [output["steps"]["critique"]["json"] for output in outputs] == [ANSWERS["Critique this draft"]] * 2
    children = stack.executions(STANDARD)
    assert len(children) == 2
    assert {item["status"] for item in children} == {"SUCCEEDED"}


def test_sync_returns_the_child_output_as_json_text(stack: OfflineStack, chain_input: dict[str, Any]) -> None:
    definition = _distributed_map_over_chains(
        stack.machine(STANDARD).arn, "arn:aws:states:::states:startExecution.sync"
    )
    parent = stack.engine.create_machine("NightlyChainsText", definition)

    result = stack.wait(stack.engine.start(parent, {"items": [chain_input]}), timeout=120)

    assert result.status == "SUCCEEDED", result.cause
    assert _critique(json.loads(result.output[0]["Output"])) == ANSWERS["Critique this draft"]


def test_a_failing_child_fails_the_sync_2_task(stack: OfflineStack) -> None:
    definition = _distributed_map_over_chains(
        stack.machine(STANDARD).arn, "arn:aws:states:::states:startExecution.sync:2"
    )
    parent = stack.engine.create_machine("NightlyChainsBroken", definition)

    result = stack.wait(stack.engine.start(parent, {"items": [BROKEN_INPUT]}), timeout=60)

    assert result.status == "FAILED"
    assert [item["status"] for item in stack.executions(STANDARD)] == ["FAILED"]


def test_stop_execution_through_boto3_aborts_a_running_execution(template: Template) -> None:
    waiting = {"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 30, "End": True}}}
    with mock_aws(), OfflineStack(template, time_scale=1.0) as stack:
        arn = stack.engine.start(stack.engine.create_machine("Waiting", waiting), {})
        client = boto3.client("stepfunctions", region_name="us-east-1")
        # Stop it while it waits (a stop racing the start could land before the execution's first events)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            event["type"] == "WaitStateEntered" for event in client.get_execution_history(executionArn=arn)["events"]
        ):
            time.sleep(0.01)

        client.stop_execution(executionArn=arn, error="Operator.Stop", cause="stopped by the test")
        result = stack.wait(arn, timeout=10)

    assert result.status == "ABORTED"
    assert result.history[-1]["type"] == "ExecutionAborted"


def _get_event(execution_id: str) -> dict[str, Any]:
    return {
        "resource": "/chains/{id}",
        "path": f"/chains/{execution_id}",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"id": execution_id},
        "stageVariables": None,
        "requestContext": {"stage": "v1", "resourcePath": "/chains/{id}", "httpMethod": "GET", "requestId": "get-1"},
        "body": None,
        "isBase64Encoded": False,
    }
