"""The deployed chain API on its no-cost routes: each request is refused before any execution or model call."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.deployed
CallApi = Callable[..., tuple[int, dict[str, Any]]]


def test_post_chains_refuses_a_body_that_is_not_json(call_api: CallApi) -> None:
    # When POST /chains gets a body that is not JSON
    status, body = call_api("POST", "/chains", b"{not json")
    # Then it answers 400 with a named error and no execution starts
    assert status == 400, body
    assert body["error"]


def test_post_chains_answers_404_for_an_unknown_chain(call_api: CallApi) -> None:
    status, body = call_api("POST", "/chains", json.dumps({"chain": "no-such-chain-deployed-test"}).encode())
    assert status == 404, body
    assert body["error"] == "UnknownChainError"


def test_get_chains_answers_404_for_an_unknown_execution(call_api: CallApi) -> None:
    status, body = call_api("GET", "/chains/deployed-test-no-such-execution")
    assert status == 404, body


def test_post_fine_tunes_refuses_a_dataset_outside_the_bucket(call_api: CallApi) -> None:
    # When POST /fine-tunes names a dataset outside s3://<payload bucket>/fine-tuning/datasets/
    request = {"training_data_s3_uri": "s3://somebody-elses-bucket/train.jsonl", "hyperparameters": {"epochCount": 1}}
    status, body = call_api("POST", "/fine-tunes", json.dumps(request).encode())
    # Then it answers 400 before any validation run or customization job
    assert status == 400, body


def test_get_fine_tunes_answers_404_for_an_unknown_execution(call_api: CallApi) -> None:
    status, body = call_api("GET", "/fine-tunes/deployed-test-no-such-execution")
    assert status == 404, body


def test_an_unsigned_request_is_refused_when_the_api_is_iam_authorized(
    call_api: CallApi, stack_parameters: dict[str, Any]
) -> None:
    # Given a stack whose API is IAM-authorized (the default; ApiAuth=NONE opens it for private trials)
    if stack_parameters.get("ApiAuth", "AWS_IAM") != "AWS_IAM":
        pytest.skip("the stack was deployed with ApiAuth=NONE")
    # When a request carries no SigV4 signature
    status, _ = call_api("GET", "/chains/deployed-test-no-such-execution", signed=False)
    # Then API Gateway refuses it before the function runs
    assert status == 403
