"""Tests against a deployed stack: real credentials and network, skipped unless COMPANION_STACK_NAME is set.

`make smoke STACK=<stack name>` runs them; without a stack, or without AWS credentials, every test is skipped with one
reason saying which is missing. Nothing here calls a model unless COMPANION_INVOKE_MODELS=1.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest

STACK = os.environ.get("COMPANION_STACK_NAME")
FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@pytest.fixture(autouse=True)
def offline_environment() -> None:
    """Overrides the unit tier's fake credentials: these tests use the caller's real ones."""


@pytest.fixture(autouse=True)
def no_network() -> None:
    """Overrides the unit tier's socket guard: these tests call AWS."""


def _missing_requirement() -> str | None:
    if not STACK:
        return "no deployed stack: set COMPANION_STACK_NAME (make smoke STACK=<stack name>) and AWS credentials to run"
    import boto3

    if boto3.Session().get_credentials() is None:
        return f"no AWS credentials found for stack {STACK}: set AWS_PROFILE or the AWS_* variables to run"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    deployed = [item for item in items if "deployed" in item.keywords]
    reason = _missing_requirement() if deployed else None
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in deployed:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    import boto3

    described: dict[str, Any] = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return described


@pytest.fixture(scope="session")
def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


@pytest.fixture(scope="session")
def stack_parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {parameter["ParameterKey"]: parameter["ParameterValue"] for parameter in stack.get("Parameters", [])}


@pytest.fixture
def run_execution() -> Callable[..., dict[str, Any]]:
    """Start an execution of a Standard machine and wait for its end (stopping it after ``timeout`` seconds)."""
    import boto3

    client = boto3.client("stepfunctions")

    def run(machine_arn: str, execution_input: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        name = f"deployed-test-{uuid.uuid4().hex[:12]}"
        started = client.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = client.describe_execution(executionArn=started["executionArn"])
            if described["status"] in FINISHED:
                return described
            time.sleep(2)
        client.stop_execution(
            executionArn=started["executionArn"], error="DeployedTest.Timeout", cause="the test stopped waiting"
        )
        pytest.fail(f"{started['executionArn']} did not finish within {timeout} s")

    return run


@pytest.fixture
def call_api(stack_outputs: dict[str, str]) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Call the chain API, SigV4-signed with the caller's credentials unless ``signed=False``; (status, JSON body)."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    session = boto3.Session()

    def call(method: str, path: str, body: bytes | None = None, *, signed: bool = True) -> tuple[int, dict[str, Any]]:
        url = stack_outputs["ChainApiUrl"] + path
        request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
        if signed:
            credentials = session.get_credentials().get_frozen_credentials()
            SigV4Auth(credentials, "execute-api", session.region_name).add_auth(request)
        prepared = request.prepare()
        http_request = urllib.request.Request(  # noqa: S310  (the stack's own https URL)
            prepared.url, data=body, headers=dict(prepared.headers), method=method
        )
        try:
            with urllib.request.urlopen(http_request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    return call
