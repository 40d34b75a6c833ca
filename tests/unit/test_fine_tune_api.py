"""The fine-tune API: validated requests, idempotent starts, status reads, clear 4xx errors.

The domain runs over an in-memory fake of the ``StandardMachine`` port with Step Functions' name rules; the handler is
called with API Gateway proxy events; the adapter is pinned with botocore's Stubber.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from companion.adapters.stepfunctions import StepFunctionsMachines, execution_arn
from companion.errors import (
    ConfigurationError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
)
from companion.executions import ExecutionRecord
from companion.finetune.api import describe_fine_tune, parse_fine_tune_request, start_fine_tune
from tests.fakes import FakeMachines
from tools.local_lambda import LocalLambdaContext

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:FineTuning"
BUCKET = "companion-payloads"
TRAINING = f"s3://{BUCKET}/fine-tuning/datasets/support/train.jsonl"
BODY = {"training_data_s3_uri": TRAINING, "hyperparameters": {"epochCount": 2}}


def test_a_valid_request_starts_the_machine_with_only_the_given_fields() -> None:
    # Given a request without optional fields
    machine = FakeMachines(MACHINE)
    request = parse_fine_tune_request(json.dumps(BODY), bucket=BUCKET)

    # When it starts
    started = start_fine_tune(request, machine, idempotency_key="k")

    # Then the execution input is the request with defaults, absent optional fields left out
    assert started.body()["status"] == "RUNNING"
    [name] = machine.starts
    assert json.loads(machine.executions[name].input or "") == {
        "customization_type": "FINE_TUNING",
        "training_data_s3_uri": TRAINING,
        "hyperparameters": {"epochCount": 2},
    }


def test_the_same_key_twice_starts_one_run_and_another_body_is_a_conflict() -> None:
    machine = FakeMachines(MACHINE)
    request = parse_fine_tune_request(json.dumps(BODY), bucket=BUCKET)
    other = parse_fine_tune_request(json.dumps({**BODY, "hyperparameters": {"epochCount": 3}}), bucket=BUCKET)

    first = start_fine_tune(request, machine, idempotency_key="k")
    machine.executions[first.execution_id or ""] = ExecutionRecord(
        first.execution_id or "",
        first.execution_arn or "",
        "SUCCEEDED",
        input=machine.executions[first.execution_id or ""].input,
    )
    again = start_fine_tune(request, machine, idempotency_key="k")

    assert again.execution_arn == first.execution_arn
    assert len(machine.starts) == 1
    with pytest.raises(IdempotencyConflictError):
        start_fine_tune(other, machine, idempotency_key="k")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({**BODY, "training_data_s3_uri": f"s3://{BUCKET}/offload/train.jsonl"}, "fine-tuning/datasets/"),
        ({**BODY, "training_data_s3_uri": "s3://another-bucket/fine-tuning/datasets/a.jsonl"}, "another-bucket"),
        ({**BODY, "hyperparameters": {"epochCount": True}}, "hyperparameters.epochCount"),
        ({**BODY, "provisioned_throughput": {"model_units": 1}}, "opt_in"),
        ({**BODY, "provisioned_throughput": {"opt_in": True, "model_units": 50}}, "model_units"),
        ({**BODY, "evaluation": {"prompts": []}}, "evaluation.prompts"),
        ({**BODY, "evaluation": {"max_tokens": 10}}, "exactly one of prompts and prompts_s3_uri"),
        ({**BODY, "customization_type": "DISTILLATION"}, "customization_type"),
        ({**BODY, "surprise": 1}, "surprise"),
        (
            {**BODY, "validation_data_s3_uri": TRAINING, "split": {"validation_fraction": 0.1}},
            "not both",
        ),
    ],
)
def test_invalid_requests_name_the_problem(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputValidationError, match=problem.replace(".", r"\.")):
        parse_fine_tune_request(json.dumps(body), bucket=BUCKET)


def test_describe_unknown_or_malformed_ids_are_not_found() -> None:
    with pytest.raises(ExecutionNotFoundError):
        describe_fine_tune("no such id!", FakeMachines(MACHINE))
    with pytest.raises(ExecutionNotFoundError):
        describe_fine_tune("unknown", FakeMachines(MACHINE))


# ---------------------------------------------------------------- handler (API Gateway proxy events)

Call = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def call(monkeypatch: pytest.MonkeyPatch) -> tuple[Call, FakeMachines]:
    monkeypatch.setenv("FINE_TUNING_STATE_MACHINE_ARN", MACHINE)
    monkeypatch.setenv("OFFLOAD_BUCKET", BUCKET)
    module = importlib.import_module("fine_tune_api.app")
    module._settings.cache_clear()
    machine = FakeMachines(MACHINE)
    monkeypatch.setattr(module, "machine", lambda: machine)

    def request(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        nested = path.count("/") > 1
        event = {
            "httpMethod": method,
            "path": path,
            "resource": "/fine-tunes/{id}" if nested else "/fine-tunes",
            "headers": headers or {},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "pathParameters": {"id": path.rsplit("/", 1)[1]} if nested else None,
            "requestContext": {"stage": "v1", "resourcePath": "/fine-tunes", "httpMethod": method},
            "body": body if body is None or isinstance(body, str) else json.dumps(body),
            "isBase64Encoded": False,
        }
        response = module.lambda_handler(event, LocalLambdaContext(function_name="FineTuneApiFunction"))
        return response["statusCode"], json.loads(response["body"])

    yield request, machine
    module._settings.cache_clear()


def test_post_answers_202_then_get_returns_the_summary(call: tuple[Call, FakeMachines]) -> None:
    request, machine = call
    status, started = request("POST", "/fine-tunes", BODY, {"Idempotency-Key": "run-1"})
    assert (status, started["status"]) == (202, "RUNNING")

    name = started["executionId"]
    old = machine.executions[name]
    machine.executions[name] = ExecutionRecord(name, old.arn, "SUCCEEDED", input=old.input, output='{"job_arn": "j"}')
    status, described = request("GET", f"/fine-tunes/{name}")

    assert (status, described["status"], described["output"]) == (200, "SUCCEEDED", {"job_arn": "j"})


def test_a_failed_run_reports_error_and_cause(call: tuple[Call, FakeMachines]) -> None:
    request, machine = call
    _, started = request("POST", "/fine-tunes", BODY)
    name = started["executionId"]
    old = machine.executions[name]
    machine.executions[name] = ExecutionRecord(
        name, old.arn, "FAILED", input=old.input, error="ModelCustomizationFailed", cause='{"failure_message": "x"}'
    )

    status, described = request("GET", f"/fine-tunes/{name}")

    assert status == 200
    assert (described["error"], json.loads(described["cause"])) == (
        "ModelCustomizationFailed",
        {"failure_message": "x"},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/fine-tunes", "{not json", 400, "InputValidationError"),
        ("POST", "/fine-tunes", {"hyperparameters": {}}, 400, "InputValidationError"),
        ("GET", "/fine-tunes/unknown-id", None, 404, "ExecutionNotFoundError"),
        ("POST", "/fine-tunes", {**BODY, "evaluation": {"system": "a" * 70_000}}, 413, "PayloadTooLargeError"),
    ],
)
def test_client_errors_are_clear_json(
    call: tuple[Call, FakeMachines], method: str, path: str, body: Any, status: int, error: str
) -> None:
    request, _ = call
    got_status, got = request(method, path, body)
    assert (got_status, got["error"]) == (status, error)
    assert got["message"]


# ---------------------------------------------------------------- adapter


def test_the_adapter_starts_and_describes_on_the_one_machine_it_was_given() -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    machine = StepFunctionsMachines(MACHINE, client=client)
    with Stubber(client) as stub:
        stub.add_response(
            "start_execution",
            {"executionArn": execution_arn(MACHINE, "n"), "startDate": "2026-01-01T00:00:00Z"},
            {"stateMachineArn": MACHINE, "name": "n", "input": "{}"},
        )
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist")

        assert machine.start_execution("n", "{}") == execution_arn(MACHINE, "n")
        with pytest.raises(ExecutionNotFoundError):
            machine.describe_execution("missing")
    with pytest.raises(ConfigurationError):
        machine.start_sync_execution("n", "{}")
