"""The sample API Gateway events under events/api/ stay valid requests for the chain API."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from companion.chains import packaged_chain
from companion.chains.api import execution_name, parse_start_request

EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"


def test_start_chain_is_a_rest_proxy_post_of_a_packaged_three_step_chain() -> None:
    event = APIGatewayProxyEvent(json.loads((EVENTS / "start_chain.json").read_text()))

    assert (event.http_method, event.path, event.resource) == ("POST", "/chains", "/chains")
    assert event.request_context.stage == "v1"
    request = parse_start_request(event.body)
    assert request.mode == "async"
    assert isinstance(request.chain, str)
    assert [step.name for step in packaged_chain(request.chain).steps] == ["outline", "draft", "critique"]
    assert set(request.variables) == {"topic", "audience"}
    # The key makes a retried request find the execution the first one started.
    assert len(execution_name(event.headers["Idempotency-Key"])) == 64
    assert event.multi_value_headers["Idempotency-Key"] == [event.headers["Idempotency-Key"]]
