"""What an execution started by an Api, Schedule, ScheduleV2 or EventBridgeRule event receives as input."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.template import StateMachineSpec, TemplateError, load_template

CHAIN = Path(__file__).resolve().parent / "fixtures" / "chain" / "template.yaml"


@pytest.fixture(scope="module")
def chain() -> StateMachineSpec:
    return load_template(CHAIN).state_machines["ChainStateMachine"]


def _proxy_event(body: str | None, *, encoded: bool = False) -> dict[str, Any]:
    return {
        "resource": "/chains",
        "path": "/chains",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "requestContext": {"stage": "Prod", "httpMethod": "POST"},
        "body": body,
        "isBase64Encoded": encoded,
    }


def test_the_state_machine_keeps_its_events(chain: StateMachineSpec) -> None:
    assert {name: event["Type"] for name, event in chain.events.items()} == {
        "StartApi": "Api",
        "Nightly": "Schedule",
        "Hourly": "ScheduleV2",
        "OnUpload": "EventBridgeRule",
    }
    assert chain.events["StartApi"]["Properties"] == {"Path": "/chains", "Method": "post"}


def test_an_api_event_passes_the_json_request_body(chain: StateMachineSpec) -> None:
    # Given an API Gateway proxy event whose body is JSON
    event = _proxy_event(json.dumps({"topic": "offline runs", "audience": "engineers"}))

    # Then the execution input is the body, as SAM's default request template passes it
    assert chain.input_from_event("StartApi", event) == {"topic": "offline runs", "audience": "engineers"}


def test_an_api_event_decodes_base64_bodies_and_treats_empty_ones_as_an_empty_object(chain: StateMachineSpec) -> None:
    encoded = base64.b64encode(b'{"topic": "b64"}').decode()
    assert chain.input_from_event("StartApi", _proxy_event(encoded, encoded=True)) == {"topic": "b64"}
    assert chain.input_from_event("StartApi", _proxy_event(None)) == {}


def test_an_api_body_that_is_not_json_is_refused(chain: StateMachineSpec) -> None:
    with pytest.raises(TemplateError, match=r"Events\.StartApi: the request body is not JSON"):
        chain.input_from_event("StartApi", _proxy_event("topic=x"))


def test_a_schedule_with_input_passes_that_input(chain: StateMachineSpec) -> None:
    # Given the scheduled event EventBridge delivers
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}

    # Then the target's Input wins over the event
    assert chain.input_from_event("Nightly", scheduled) == {"topic": "nightly digest"}


def test_a_schedule_without_input_passes_the_event(chain: StateMachineSpec) -> None:
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}
    assert chain.input_from_event("Hourly", scheduled) == scheduled


def test_an_eventbridge_rule_applies_its_input_path(chain: StateMachineSpec) -> None:
    event = {"source": "aws.s3", "detail": {"object": {"key": "in/a.json", "size": 3}}}
    assert chain.input_from_event("OnUpload", event) == {"key": "in/a.json", "size": 3}


def test_the_event_name_may_be_omitted_only_when_there_is_one_event(chain: StateMachineSpec) -> None:
    with pytest.raises(TemplateError, match="name the event source \\(choices: Hourly, Nightly, OnUpload, StartApi\\)"):
        chain.input_from_event(None, {})
    with pytest.raises(TemplateError, match="no event 'Weekly'"):
        chain.input_from_event("Weekly", {})


def test_the_only_event_is_used_when_no_name_is_given() -> None:
    machine = load_template(CHAIN).state_machines["YamlStateMachine"]
    assert machine.input_from_event(None, {"source": "aws.scheduler"}) == {"week": True}
