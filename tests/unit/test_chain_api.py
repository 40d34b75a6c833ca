"""The chain API: starting chains idempotently, running short ones synchronously, reading results, clear 4xx errors.

The domain runs over an in-memory fake of the ``StateMachines`` port that behaves like Step Functions (a Standard
start with an existing name returns that execution when the input is the same and it is still running, and raises
``ExecutionAlreadyExists`` otherwise); the handler is called with API Gateway proxy events; the adapter is pinned with
botocore's Stubber.
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
from companion.chains import packaged_chain
from companion.chains.api import (
    MAX_BODY_BYTES,
    ExecutionRecord,
    StartChainRequest,
    describe_chain,
    execution_name,
    parse_start_request,
    start_chain,
)
from companion.errors import (
    ChainDefinitionError,
    ExecutionAlreadyExistsError,
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InputValidationError,
    PayloadTooLargeError,
    UnknownChainError,
)
from tests.fakes import FakeMachines
from tools.local_lambda import LocalLambdaContext

STANDARD = "arn:aws:states:us-east-1:123456789012:stateMachine:PromptChain"
EXPRESS = "arn:aws:states:us-east-1:123456789012:stateMachine:PromptChainExpress"
PACKAGED_PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:stack-chain-"
ONE_STEP = {
    "name": "one-step",
    "steps": [{"name": "answer", "model_id": "amazon.nova-lite-v1:0", "prompt": "Answer: {{ input.question }}"}],
}


def _request(**fields: Any) -> StartChainRequest:
    return StartChainRequest.model_validate({"chain": ONE_STEP, "variables": {"question": "why?"}, **fields})


# ---------------------------------------------------------------- domain


def test_async_start_answers_with_the_execution_id() -> None:
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX)

    execution = start_chain(_request(), machines)

    assert execution.body() == {
        "executionId": machines.starts[0],
        "executionArn": execution_arn(STANDARD, machines.starts[0]),
        "status": "RUNNING",
    }
    document = json.loads(machines.executions[machines.starts[0]].input or "")
    assert document["chain"] == "one-step"
    assert document["input"] == {"question": "why?"}


def test_a_packaged_chain_starts_on_its_own_compiled_machine_and_is_read_back_by_its_id() -> None:
    # Given a request naming a packaged chain, started twice with the same Idempotency-Key
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX)
    request = StartChainRequest.model_validate({"chain": "outline-draft-critique", "variables": {"topic": "SFN"}})
    first = start_chain(request, machines, idempotency_key="k-1")
    again = start_chain(request, machines, idempotency_key="k-1")
    # Then one execution runs on the chain's own machine, with the compiled machine's input, and none on the generic
    chain_machine = machines.chains["outline-draft-critique"]
    [name] = chain_machine.starts
    assert json.loads(chain_machine.executions[name].input or "") == {"input": {"topic": "SFN"}}
    assert machines.starts == []
    assert first == again
    assert first.execution_id == f"outline-draft-critique.{name}"
    assert first.execution_arn == execution_arn(f"{PACKAGED_PREFIX}outline-draft-critique", name)
    # And GET with that id reads it from the chain's machine
    chain_machine.finish(name, status="SUCCEEDED", output='{"final": 1}')
    described = describe_chain(first.execution_id, machines)
    assert (described.execution_id, described.status, described.output) == (
        first.execution_id,
        "SUCCEEDED",
        {"final": 1},
    )


@pytest.mark.parametrize("execution_id", ["no-such-chain.abc", "outline-draft-critique.", "Outline.abc", "a.b.c"])
def test_ids_of_unknown_packaged_chains_are_not_found(execution_id: str) -> None:
    with pytest.raises(ExecutionNotFoundError):
        describe_chain(execution_id, FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX))


def test_the_same_idempotency_key_twice_starts_one_execution() -> None:
    # Given a request started with an Idempotency-Key
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX)
    first = start_chain(_request(), machines, idempotency_key="order-42")

    # When the client retries it, while running and after it has ended
    second = start_chain(_request(), machines, idempotency_key="order-42")
    machines.finish(first.execution_id or "", status="SUCCEEDED", output="{}")
    third = start_chain(_request(), machines, idempotency_key="order-42")

    # Then one execution was started and every answer names it
    assert len(machines.starts) == 1
    assert first.execution_id == second.execution_id == third.execution_id == execution_name("order-42")
    assert first.execution_arn == second.execution_arn == third.execution_arn


def test_the_same_key_with_a_different_body_is_a_conflict() -> None:
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX)
    start_chain(_request(), machines, idempotency_key="order-42")

    with pytest.raises(IdempotencyConflictError):
        start_chain(_request(variables={"question": "how?"}), machines, idempotency_key="order-42")
    assert len(machines.starts) == 1


def test_execution_names_are_deterministic_and_valid_for_step_functions() -> None:
    name = execution_name("order-42")

    assert name == execution_name("order-42") != execution_name("order-43")
    assert len(name) == 64
    assert name.isalnum()
    assert execution_name(None) != execution_name(None)
    with pytest.raises(InputValidationError):
        execution_name(" ")
    with pytest.raises(InputValidationError, match="not valid Unicode"):
        execution_name("key-\udfff")


def test_sync_mode_runs_on_express_and_answers_with_the_result() -> None:
    # Given an Express machine that succeeds
    record = ExecutionRecord("n", EXPRESS.replace("stateMachine", "express") + ":n", "SUCCEEDED", output='{"a": 1}')
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX, sync_result=record)

    execution = start_chain(_request(mode="sync"), machines)

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"a": 1}
    assert machines.starts == []
    assert machines.sync_runs[0][1]["input"] == {"question": "why?"}


def test_sync_mode_failure_carries_error_and_cause() -> None:
    record = ExecutionRecord("n", "arn", "FAILED", error="ModelOutputNotJsonError", cause="no JSON")
    execution = start_chain(
        _request(mode="sync"), FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX, sync_result=record)
    )

    assert execution.body() == {
        "executionId": "n",
        "executionArn": "arn",
        "status": "FAILED",
        "error": "ModelOutputNotJsonError",
        "cause": "no JSON",
    }


def test_describe_returns_status_and_output() -> None:
    machines = FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX)
    started = start_chain(_request(), machines)
    machines.finish(started.execution_id or "", status="SUCCEEDED", output='{"steps": {}}')

    described = describe_chain(started.execution_id or "", machines)

    assert (described.status, described.output) == ("SUCCEEDED", {"steps": {}})


@pytest.mark.parametrize("execution_id", ["does-not-exist", "bad id!", "x" * 81])
def test_describe_unknown_or_malformed_ids_are_not_found(execution_id: str) -> None:
    with pytest.raises(ExecutionNotFoundError):
        describe_chain(execution_id, FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX))


def test_packaged_chains_are_found_by_name() -> None:
    assert packaged_chain("outline-draft-critique").name == "outline-draft-critique"
    with pytest.raises(UnknownChainError, match="outline-draft-critique"):
        packaged_chain("no-such-chain")


def test_an_invalid_inline_chain_lists_its_problems() -> None:
    bad = {"name": "bad", "steps": [{"name": "a", "model_id": "amazon.nova-lite-v1:0", "prompt": "{{ steps.z.text }}"}]}
    with pytest.raises(ChainDefinitionError, match=r"steps\.z"):
        start_chain(_request(chain=bad), FakeMachines(STANDARD, packaged_prefix=PACKAGED_PREFIX))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"variables": {}}', "chain: Field required"),
        ('{"chain": "outline-draft-critique", "mode": "later"}', "mode"),
        ('{"chain": "Bad Name!"}', "chain"),
    ],
)
def test_bad_bodies_are_rejected_with_locations(body: str, expected: str) -> None:
    with pytest.raises(InputValidationError, match=expected):
        parse_start_request(body)


def test_oversized_bodies_are_rejected() -> None:
    with pytest.raises(PayloadTooLargeError):
        parse_start_request(json.dumps({"chain": "x", "variables": {"t": "a" * MAX_BODY_BYTES}}))


# ---------------------------------------------------------------- handler (API Gateway proxy events)

Call = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def call(monkeypatch: pytest.MonkeyPatch) -> tuple[Call, FakeMachines]:
    module = importlib.import_module("chain_api.app")
    handler = module.lambda_handler
    machines = FakeMachines(
        STANDARD, packaged_prefix=PACKAGED_PREFIX, sync_result=ExecutionRecord("n", "arn", "SUCCEEDED", output='"done"')
    )
    monkeypatch.setattr(module, "machines", lambda: machines)

    def request(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        event = {
            "httpMethod": method,
            "path": path,
            "resource": "/chains/{id}" if path.count("/") > 1 else "/chains",
            "headers": headers or {},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "pathParameters": {"id": path.rsplit("/", 1)[1]} if path.count("/") > 1 else None,
            "requestContext": {"stage": "v1", "resourcePath": "/chains", "httpMethod": method},
            "body": body if body is None or isinstance(body, str) else json.dumps(body),
            "isBase64Encoded": False,
        }
        response = handler(event, LocalLambdaContext(function_name="ChainApiFunction"))
        return response["statusCode"], json.loads(response["body"])

    return request, machines


def test_post_then_get_over_http(call: tuple[Call, FakeMachines]) -> None:
    request, machines = call
    status, started = request("POST", "/chains", {"chain": ONE_STEP, "variables": {"question": "why?"}})
    assert status == 202
    assert started["status"] == "RUNNING"

    machines.finish(started["executionId"], status="SUCCEEDED", output='{"answer": 42}')
    status, described = request("GET", f"/chains/{started['executionId']}")

    assert status == 200
    assert described["output"] == {"answer": 42}


def test_sync_post_answers_200_with_the_result(call: tuple[Call, FakeMachines]) -> None:
    request, _ = call
    status, body = request("POST", "/chains", {"chain": "outline-draft-critique", "mode": "sync", "input": {}})
    assert (status, body["status"], body["output"]) == (200, "SUCCEEDED", "done")


def test_a_retried_request_with_the_same_key_is_answered_from_the_first(call: tuple[Call, FakeMachines]) -> None:
    request, machines = call
    body = {"chain": ONE_STEP, "variables": {"question": "why?"}}

    first = request("POST", "/chains", body, {"idempotency-key": "k1"})
    second = request("POST", "/chains", body, {"Idempotency-Key": "k1"})
    conflict = request("POST", "/chains", {**body, "variables": {}}, {"Idempotency-Key": "k1"})

    assert first == second
    assert len(machines.starts) == 1
    assert conflict[0] == 409
    assert conflict[1]["error"] == "IdempotencyConflictError"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/chains", "{not json", 400, "InputValidationError"),
        ("POST", "/chains", {"chain": "outline-draft-critique", "mode": "soon"}, 400, "InputValidationError"),
        ("POST", "/chains", {"chain": {"name": "bad", "steps": []}}, 400, "ChainDefinitionError"),
        ("POST", "/chains", {"chain": "no-such-chain"}, 404, "UnknownChainError"),
        ("GET", "/chains/unknown-id", None, 404, "ExecutionNotFoundError"),
        ("POST", "/chains", {"chain": "x", "variables": {"t": "a" * MAX_BODY_BYTES}}, 413, "PayloadTooLargeError"),
    ],
)
def test_client_errors_are_clear_json(
    call: tuple[Call, FakeMachines], method: str, path: str, body: Any, status: int, error: str
) -> None:
    request, _ = call
    got_status, got = request(method, path, body)
    assert (got_status, got["error"]) == (status, error)
    assert got["message"]
    if error == "ChainDefinitionError":
        assert got["problems"]


LAMBDA_FAILURE_CAUSE = json.dumps(
    {
        "errorMessage": "the answer was cut off",
        "errorType": "ModelOutputTruncatedError",
        "requestId": "5f0c",
        "stackTrace": ['  File "/var/task/postprocess_result/app.py", line 27, in lambda_handler\n    raise exc\n'],
    }
)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_chain_is_answered_without_the_lambdas_stack_trace(call: tuple[Call, FakeMachines], mode: str) -> None:
    # Given a chain that failed in a Lambda step: Step Functions keeps the Lambda's whole error document as cause,
    # here wrapped once more the way the chain's Fail state passes it on
    request, machines = call
    wrapped = json.dumps({"Error": "ModelOutputTruncatedError", "Cause": LAMBDA_FAILURE_CAUSE})
    failed = {"status": "FAILED", "error": "ModelOutputTruncatedError", "cause": wrapped}
    machines.sync_result = ExecutionRecord("n", "arn", **failed)
    # When the caller runs it synchronously, or reads it after an asynchronous start
    status, body = request("POST", "/chains", {"chain": ONE_STEP, "variables": {"question": "?"}, "mode": mode})
    if mode == "async":
        machines.finish(body["executionId"], **failed)
        status, body = request("GET", f"/chains/{body['executionId']}")
    # Then the answer names the error and its message, and nothing of the function's files or source lines
    assert status == 200
    assert body["error"] == "ModelOutputTruncatedError"
    assert "the answer was cut off" in body["cause"]
    for leak in ("stackTrace", "/var/task", "line 27", "raise exc", "File "):
        assert leak not in json.dumps(body)


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ({"body": "{}"}, 400),
        ({"httpMethod": "POST", "path": "/chains", "headers": {"Idempotency-Key": 7}, "body": "{}"}, 400),
        ({"httpMethod": "POST", "path": "/chains", "body": {"chain": "x"}}, 400),
        ({"httpMethod": "POST", "path": "/chains", "body": "[" * 100_000}, 400),
        (
            {"httpMethod": "POST", "path": "/chains", "body": '{"chain": "c", "variables": {"n": ' + "9" * 5000 + "}}"},
            400,
        ),
        ({"httpMethod": "POST", "path": "/chains", "body": '{"chain": "c", "variables": {"n": NaN}}'}, 400),
    ],
)
def test_any_event_gets_a_json_answer_without_internals(event: dict[str, Any], status: int) -> None:
    # Given an event API Gateway would not send as it is, or a body built to break a parser
    handler = importlib.import_module("chain_api.app").lambda_handler
    # When the handler runs
    response = handler(event, LocalLambdaContext(function_name="ChainApiFunction"))
    # Then a 4xx with a named error, never an exception (502) or a trace
    assert response["statusCode"] == status
    body = json.loads(response["body"])
    assert body["error"].endswith("Error")
    assert "Traceback" not in response["body"]


def test_our_own_fault_is_a_500_with_the_request_id_only(call: tuple[Call, FakeMachines]) -> None:
    # Given a dependency that fails in a way no error handler answers
    request, machines = call

    def broken(name: str, document: str) -> str:
        raise RuntimeError("secret internal detail at /var/task/x.py")

    machines.start_execution = broken  # type: ignore[method-assign]
    # When a valid request arrives
    status, body = request("POST", "/chains", {"chain": ONE_STEP, "variables": {"question": "?"}})
    # Then 500 names the request, not the failure
    assert status == 500
    assert body["error"] == "InternalError"
    assert "secret" not in body["message"]
    assert "/var/task" not in body["message"]


# ---------------------------------------------------------------- adapter (exact Step Functions requests)


def test_adapter_turns_execution_already_exists_into_the_named_error() -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    machines = StepFunctionsMachines(STANDARD, EXPRESS, client=client)
    with Stubber(client) as stub:
        stub.add_response(
            "start_execution",
            {"executionArn": execution_arn(STANDARD, "n"), "startDate": "2026-01-01T00:00:00Z"},
            {"stateMachineArn": STANDARD, "name": "n", "input": "{}"},
        )
        stub.add_client_error("start_execution", "ExecutionAlreadyExists")
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist")

        assert machines.start_execution("n", "{}") == execution_arn(STANDARD, "n")
        with pytest.raises(ExecutionAlreadyExistsError):
            machines.start_execution("n", "{}")
        with pytest.raises(ExecutionNotFoundError):
            machines.describe_execution("gone")


def test_adapter_builds_execution_arns_from_the_standard_machine() -> None:
    assert execution_arn(STANDARD, "abc") == "arn:aws:states:us-east-1:123456789012:execution:PromptChain:abc"
