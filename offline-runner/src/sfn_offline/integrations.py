"""Integrations the offline runner answers beyond moto's: all SIMULATED, all consistent with the rest of the run.

- A Lambda handler (or any code in the run) calling ``bedrock-runtime`` through boto3 (``InvokeModel``,
  ``Converse``) reaches the run's Bedrock backend, the same stand-in that answers the state machine's Bedrock
  tasks: a botocore ``before-send`` hook, registered like the Lambda hook in :mod:`sfn_offline.moto_engine`.
- ``arn:aws:states:::http:invoke`` (HTTP Task): the runner never calls the internet; a state using it is answered by
  the mock config (``--mock-config``: its ``Return`` is the task result ``{"StatusCode", "StatusText", "Headers",
  "ResponseBody"}``) or fails the execution with an error naming the state.
- ``aws-sdk:bedrockagent:*``, ``aws-sdk:bedrockagentruntime:*`` and ``aws-sdk:bedrockagentcore:*``: answered by
  the Bedrock backend's ``control_plane`` (see :mod:`sfn_offline.agents_standin` for the stand-in's answers).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from botocore.awsrequest import AWSResponse

BEDROCK_AGENT_SERVICES: Final[frozenset[str]] = frozenset({"bedrockagent", "bedrockagentruntime", "bedrockagentcore"})
_RUNTIME_PATH: Final = re.compile(r"/model/(?P<model>.+)/(?P<action>invoke|converse)$")
# The state that called, when a hook cannot know it (a handler's own boto3 call).
CALLER_STATE: Final[str] = "(boto3 call from a function)"


class NotEmulatedError(Exception):
    """A state uses an integration the runner cannot emulate and the mock config does not answer."""


def _pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_pascal(item) for item in value]
    return value


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def mocked_response(url: str, status: int, headers: Mapping[str, str], body: bytes) -> AWSResponse:
    """The answer a botocore ``before-send`` hook returns instead of sending the request (moto's raw body)."""
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415
    from botocore.compat import HTTPHeaders  # noqa: PLC0415
    from moto.core.botocore_stubber import MockRawResponse  # noqa: PLC0415

    http_headers = HTTPHeaders()
    for name, value in headers.items():
        http_headers[name] = value
    return AWSResponse(url, status, http_headers, MockRawResponse(body))


def bedrock_runtime_hook(request: Any, *, current_run: Callable[[], Any], **kwargs: Any) -> Any:  # noqa: ARG001
    """botocore ``before-send`` handler (bound to the engine's ``current_run`` by the engine, which owns the run):
    ``bedrock-runtime`` InvokeModel and Converse answered by the run's backend."""
    from sfn_offline.bedrock_api import BedrockServiceError  # noqa: PLC0415

    run = current_run()
    match = _RUNTIME_PATH.search(urllib.parse.urlsplit(request.url).path)
    if run is None or run.bedrock is None or match is None:
        return None
    model_id = urllib.parse.unquote(match.group("model"))
    # botocore calls every before-send handler: moto's stubber must not answer (or fail) this request too.
    request.offline_answered = True
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    try:
        document = json.loads(body or b"{}")
        if match.group("action") == "invoke":
            answer = run.bedrock.invoke_model(model_id, document, state_name=CALLER_STATE, attempt=0)
            headers = {"content-type": "application/json"}
            return mocked_response(request.url, 200, headers, json.dumps(answer).encode())
        answer = run.bedrock.converse({"ModelId": model_id, **_pascal(document)}, state_name=CALLER_STATE, attempt=0)
    except BedrockServiceError as exc:
        error = {"message": exc.message}
        headers = {"content-type": "application/json", "x-amzn-errortype": exc.error_name}
        return mocked_response(request.url, 400, headers, json.dumps(error).encode())
    except ValueError as exc:
        error = {"message": f"Malformed input request: {exc}"}
        headers = {"content-type": "application/json", "x-amzn-errortype": "ValidationException"}
        return mocked_response(request.url, 400, headers, json.dumps(error).encode())
    headers = {"content-type": "application/json"}
    return mocked_response(request.url, 200, headers, json.dumps(_camel(answer), default=str).encode())


def patch_stubber_skip() -> None:
    """Touch point: ``BotocoreStubber.__call__`` leaves a request a runner hook answered alone (botocore emits
    ``before-send`` to every handler; moto's stubber raised NotImplementedError for ``Converse``)."""
    from moto.core.botocore_stubber import BotocoreStubber  # noqa: PLC0415

    original = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "offline_answered", False):
            return None
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = call


RUNTIME_EVENTS: Final[tuple[str, ...]] = (
    "before-send.bedrock-runtime.InvokeModel",
    "before-send.bedrock-runtime.Converse",
)


def build_http_task_service(state_name_and_attempt: Callable[[Any], tuple[str, int]]) -> type:
    """The ``http`` task service: only the mock config answers it (moto's mocked mode runs before the service);
    ``state_name_and_attempt`` is the engine's reading of the running state."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: PLC0415
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: PLC0415
        StateTaskServiceCallback,
    )

    class HttpTaskService(StateTaskServiceCallback):
        """``arn:aws:states:::http:invoke``: the runner makes no HTTP call (no connection, no credentials)."""

        def __init__(self) -> None:
            # moto types the set as ResourceCondition, whose members it declares as plain strings.
            super().__init__(supported_integration_patterns={ResourceCondition(ResourceCondition.WaitForTaskToken)})

        def _get_supported_parameters(self) -> set[str] | None:
            return {
                "ApiEndpoint",
                "Method",
                "Authentication",
                "Headers",
                "QueryParameters",
                "RequestBody",
                "Transform",
            }

        def _eval_service_task(self, env: Any, *_: Any, **__: Any) -> None:
            fail_not_emulated(
                env,
                "http:invoke calls an HTTPS endpoint, which the offline runner never does; answer the state with "
                '--mock-config (Return: {"StatusCode": 200, "StatusText": "OK", "Headers": {}, "ResponseBody": ...})',
                state_name_and_attempt,
            )

    return HttpTaskService


def fail_not_emulated(env: Any, what: str, state_name_and_attempt: Callable[[Any], tuple[str, int]]) -> None:
    """Fail the state with ``States.Runtime`` (which no Retry or Catch takes) naming the state and what is missing."""
    state_name, _ = state_name_and_attempt(env)
    raise NotEmulatedError(f"state {state_name!r}: {what}")
