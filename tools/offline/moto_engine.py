"""The only module that reaches into moto's Step Functions interpreter (moto 5.2.5, ported from LocalStack).

moto's engine runs whole state machines in-process, but it diverges from AWS where this project needs it to be right.
Each divergence is closed by one small named function below; ``tests/offline/test_engine_contract.py`` checks every
assumption they make about moto's internals, so an upgrade fails loudly there first, not deep inside an execution.

Touch points (each installed once, process-wide, by :func:`install`):

- :func:`check_moto_version`: the internals below were read in moto ``EXPECTED_MOTO_VERSION`` only.
- :func:`patch_task_service_factory`: ``state_task_service_for`` (imported by name into ``state_task_factory``) gets a
  wrapper that answers ``bedrock`` with :class:`_BedrockTaskService` and ``aws-sdk`` with a subclass of
  ``StateTaskServiceAwsSdk`` that routes ``bedrock`` / ``bedrockruntime`` actions to the run's Bedrock backend.
- :func:`patch_extract_json`: ``extract_json`` in ``asl/utils/json_path.py`` (and every module that imported it by
  name) returns a scalar for a definite path, as AWS does.
- :func:`patch_choice_no_match`: ``StateChoice._eval_state`` fails with ``States.NoChoiceMatched``.
- :func:`patch_describe_execution_output`: ``StepFunctionResponse.describe_execution`` JSON-encodes a bare string
  output.
- :func:`patch_time`: the module-level ``time`` of ``retrier_decl`` and ``state_task_service_callback`` (Retry
  intervals, ``.sync`` polling) and ``WaitFunction._wait_interval`` (Wait states) honour the run's ``time_scale``.
- :func:`install_lambda_hook`: a botocore ``before-send.lambda.Invoke`` handler (public botocore API, registered ahead
  of moto's own stubber) runs the run's in-process handlers; no function needs to exist in moto.
- :func:`install_jsonata`: fills the ``_eval_jsonata`` global of ``asl/jsonata/jsonata.py`` with ``jsonata-python``
  (imported lazily; only needed by definitions that use JSONata or read ``$variables``).

Hooks reach the caller's functions and Bedrock backend through one process-wide :class:`ActiveRun`: moto runs an
execution (and its Map iterations and Parallel branches) on threads it creates, so neither thread-locals nor call
arguments can carry them. :func:`active_run` therefore lets one run at a time use the hooks.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import traceback
import types
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from tools.offline.bedrock_api import BedrockBackend, BedrockServiceError

EXPECTED_MOTO_VERSION: Final[str] = "5.2.5"

Handler = Callable[[dict[str, Any], Any], Any]


class MotoInternalsChangedError(RuntimeError):
    """moto no longer has the shape this module patches: re-read its engine before upgrading."""


@dataclass(frozen=True)
class ActiveRun:
    """What the hooks need from the caller of one run."""

    functions: Mapping[str, Handler]
    bedrock: BedrockBackend | None
    time_scale: float


_run_lock = threading.Lock()
_active: ActiveRun | None = None
_install_lock = threading.Lock()
_installed = False


@contextlib.contextmanager
def active_run(run: ActiveRun) -> Iterator[None]:
    """Make ``run`` the one the hooks serve until the block ends (runs in one process are serialised)."""
    global _active  # noqa: PLW0603  (the hooks run on moto's threads: a module global is the only shared place)
    with _run_lock:
        _active = run
        try:
            yield
        finally:
            _active = None


def _current_run() -> ActiveRun | None:
    return _active


def install() -> None:
    """Apply every touch point once (idempotent, thread-safe)."""
    global _installed  # noqa: PLW0603
    with _install_lock:
        if _installed:
            return
        check_moto_version()
        patch_task_service_factory()
        patch_extract_json()
        patch_choice_no_match()
        patch_describe_execution_output()
        patch_time()
        install_lambda_hook()
        install_jsonata()
        _installed = True


# --- version -----------------------------------------------------------------------------------------------------


def check_moto_version() -> None:
    """Refuse to patch a moto whose internals were never read."""
    from importlib.metadata import version  # noqa: PLC0415

    found = version("moto")
    if found != EXPECTED_MOTO_VERSION:
        raise MotoInternalsChangedError(
            f"tools.offline.moto_engine was written against moto {EXPECTED_MOTO_VERSION}, found {found}: "
            "re-check every touch point listed in its docstring before upgrading"
        )


# --- execution context -------------------------------------------------------------------------------------------


def state_name_and_attempt(env: Any) -> tuple[str, int]:
    """The current state's name and its 0-based retry count (the attempt index of AWS's mock-config format)."""
    state = env.states.context_object.context_object_data["State"]
    return state["Name"], int(state.get("RetryCount", 0))


# --- task services -----------------------------------------------------------------------------------------------

_INVOKE_MODEL_PARAMETERS: Final[frozenset[str]] = frozenset(
    {"ModelId", "Body", "Input", "Output", "Accept", "ContentType", "GuardrailIdentifier", "GuardrailVersion", "Trace"}
)
_CUSTOMIZATION_JOB_PARAMETERS: Final[frozenset[str]] = frozenset(
    {
        "BaseModelIdentifier",
        "ClientRequestToken",
        "CustomModelKmsKeyId",
        "CustomModelName",
        "CustomModelTags",
        "CustomizationType",
        "HyperParameters",
        "JobName",
        "JobTags",
        "OutputDataConfig",
        "RoleArn",
        "TrainingDataConfig",
        "ValidationDataConfig",
        "VpcConfig",
        "CustomizationConfig",
    }
)
_TERMINAL_JOB_FAILURES: Final[frozenset[str]] = frozenset({"Failed", "Stopped"})


class SyncJobFailedError(Exception):
    """A ``.sync`` job ended in a failure status; AWS reports it as ``States.TaskFailed``."""


def _pascal(action: str) -> str:
    return action[:1].upper() + action[1:]


def _require_backend() -> BedrockBackend:
    run = _current_run()
    if run is None or run.bedrock is None:
        raise BedrockServiceError(
            "ServiceUnavailableException", "no Bedrock backend was given to this offline run (bedrock=...)"
        )
    return run.bedrock


def _read_s3_json(uri: str, region: str) -> Any:
    """Read a JSON object from (moto's) S3; a missing object is a Bedrock validation error, as on AWS."""
    from botocore.exceptions import ClientError  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for  # noqa: PLC0415

    bucket, key = _split_s3_uri(uri)
    client = boto_client_for(region=region, service="s3")
    try:
        raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise BedrockServiceError("ValidationException", f"cannot read Input.S3Uri {uri}: {exc}") from exc
    return json.loads(raw)


def _write_s3_json(uri: str, value: Any, region: str) -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for  # noqa: PLC0415

    bucket, key = _split_s3_uri(uri)
    client = boto_client_for(region=region, service="s3")
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(value).encode(), ContentType="application/json")


def _split_s3_uri(uri: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([^/]+)/(.+)", uri or "")
    if match is None:
        raise BedrockServiceError("ValidationException", f"not an S3 URI: {uri!r}")
    return match.group(1), match.group(2)


def invoke_model(parameters: dict[str, Any], *, region: str, state_name: str, attempt: int) -> dict[str, Any]:
    """The ``bedrock:invokeModel`` optimized integration on top of a :class:`BedrockBackend`."""
    if "Body" in parameters and "Input" in parameters:
        raise BedrockServiceError("ValidationException", "Body and Input are mutually exclusive")
    if "Input" in parameters:
        body = _read_s3_json(parameters["Input"].get("S3Uri", ""), region)
    elif "Body" in parameters:
        body = parameters["Body"]
        if isinstance(body, str | bytes):
            # A Body given as a JSON string is the model request itself, as on AWS.
            body = json.loads(body)
    else:
        raise BedrockServiceError("ValidationException", "one of Body or Input is required")
    response = _require_backend().invoke_model(parameters["ModelId"], body, state_name=state_name, attempt=attempt)
    output_uri = (parameters.get("Output") or {}).get("S3Uri")
    if output_uri:
        _write_s3_json(output_uri, response, region)
        # ASSUMPTION: AWS documents only that the body "is replaced with a reference to the Amazon S3 location"; the
        # JSON of that reference is not documented. State machines should carry the URI they chose themselves.
        return {"Body": {"S3Uri": output_uri}, "ContentType": "application/json"}
    return {"Body": response, "ContentType": parameters.get("Accept", "application/json")}


def _task_failure(service: Any, env: Any, error: str, cause: str) -> Any:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (  # noqa: PLC0415
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: PLC0415
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    error_name = (
        StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
        if error == "States.TaskFailed"
        else CustomErrorName(error)
    )
    return FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(
            taskFailedEventDetails=TaskFailedEventDetails(
                error=error,
                cause=cause,
                resource=service._get_sfn_resource(),
                resourceType=service._get_sfn_resource_type(),
            )
        ),
    )


def _build_service_classes() -> tuple[type, type]:
    """Define the two task services; done lazily because their bases live in moto's engine."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: PLC0415
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (  # noqa: PLC0415
        StateTaskServiceAwsSdk,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: PLC0415
        StateTaskServiceCallback,
    )

    class BedrockTaskService(StateTaskServiceCallback):  # type: ignore[misc]
        """``arn:aws:states:::bedrock:*``. WaitForTaskToken must be listed: the base class interrupts the callback
        endpoint of every integration pattern and fails on ``None`` otherwise."""

        def __init__(self) -> None:
            super().__init__(
                supported_integration_patterns={ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
            )

        def _get_supported_parameters(self) -> set[str] | None:
            action = self.resource.api_action.lower()
            if action == "invokemodel":
                return set(_INVOKE_MODEL_PARAMETERS)
            if action == "createmodelcustomizationjob":
                return set(_CUSTOMIZATION_JOB_PARAMETERS)
            return None

        def _from_error(self, env: Any, ex: Exception) -> Any:
            if isinstance(ex, BedrockServiceError):
                return _task_failure(self, env, f"Bedrock.{ex.error_name}", ex.message)
            if isinstance(ex, SyncJobFailedError):
                return _task_failure(self, env, "States.TaskFailed", str(ex))
            return super()._from_error(env=env, ex=ex)

        def _eval_service_task(  # the engine's signature; Bedrock stand-ins need no credentials
            self,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict,
            state_credentials: Any,  # noqa: ARG002
        ) -> None:
            state_name, attempt = state_name_and_attempt(env)
            action = self.resource.api_action.lower()
            if action == "invokemodel":
                result = invoke_model(
                    normalised_parameters,
                    region=resource_runtime_part.region,
                    state_name=state_name,
                    attempt=attempt,
                )
            else:
                result = _require_backend().control_plane(
                    _pascal(self.resource.api_action), normalised_parameters, state_name=state_name, attempt=attempt
                )
            env.stack.append(result)

        def _build_sync_resolver(  # the engine's signature: only env (holding the create result) is needed
            self,
            env: Any,
            resource_runtime_part: Any,  # noqa: ARG002
            normalised_parameters: dict,  # noqa: ARG002
            state_credentials: Any,  # noqa: ARG002
        ) -> Callable[[], Any]:
            # The engine pushed the create call's result back on the stack before asking for the resolver.
            job_arn = env.stack[-1]["JobArn"]
            state_name, attempt = state_name_and_attempt(env)

            def resolve() -> Any:
                job = _require_backend().control_plane(
                    "GetModelCustomizationJob", {"JobIdentifier": job_arn}, state_name=state_name, attempt=attempt
                )
                status = job.get("Status")
                if status == "Completed":
                    return job
                if status in _TERMINAL_JOB_FAILURES:
                    raise SyncJobFailedError(json.dumps(job, default=str))
                return None

            return resolve

    class AwsSdkTaskService(StateTaskServiceAwsSdk):  # type: ignore[misc]
        """``aws-sdk:*``, with ``bedrock`` / ``bedrockruntime`` answered by the run's backend (PascalCase in and out)
        and every other service left to moto."""

        def _is_bedrock(self) -> bool:
            return self.resource.api_name in {"bedrock", "bedrockruntime"}

        def _normalise_parameters(self, parameters: dict, *args: Any, **kwargs: Any) -> None:
            if not self._is_bedrock():
                super()._normalise_parameters(parameters, *args, **kwargs)

        def _normalise_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
            if not self._is_bedrock():
                super()._normalise_response(response, *args, **kwargs)

        def _from_error(self, env: Any, ex: Exception) -> Any:
            if isinstance(ex, BedrockServiceError):
                # AWS names aws-sdk errors after the SDK service; the project matches on Bedrock.* throughout.
                return _task_failure(self, env, f"Bedrock.{ex.error_name}", ex.message)
            return super()._from_error(env=env, ex=ex)

        def _eval_service_task(
            self, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
        ) -> None:
            if not self._is_bedrock():
                super()._eval_service_task(env, resource_runtime_part, normalised_parameters, state_credentials)
                return
            state_name, attempt = state_name_and_attempt(env)
            backend = _require_backend()
            action = _pascal(self.resource.api_action)
            if self.resource.api_name == "bedrockruntime":
                if action != "Converse":
                    raise BedrockServiceError("ValidationException", f"bedrockruntime:{action} is not emulated")
                result = backend.converse(normalised_parameters, state_name=state_name, attempt=attempt)
            else:
                result = backend.control_plane(action, normalised_parameters, state_name=state_name, attempt=attempt)
            env.stack.append(result)

    return BedrockTaskService, AwsSdkTaskService


def patch_task_service_factory() -> None:
    """Wrap ``state_task_service_for`` where ``state_task_factory`` looks it up (it imported the name)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
        state_task_factory,
    )

    original = state_task_factory.state_task_service_for
    bedrock_service, aws_sdk_service = _build_service_classes()

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "bedrock":
            return bedrock_service()
        if service_name == "aws-sdk":
            return aws_sdk_service()
        return original(service_name)

    state_task_factory.state_task_service_for = state_task_service_for


# --- JSONPath ----------------------------------------------------------------------------------------------------


def is_definite_path(parsed: Any) -> bool:
    """A path of names and single integer indices only selects at most one value (AWS: return it, not a list)."""
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root, This  # noqa: PLC0415

    if isinstance(parsed, Root | This):
        return True
    if isinstance(parsed, Child):
        return is_definite_path(parsed.left) and is_definite_path(parsed.right)
    if isinstance(parsed, Fields):
        return len(parsed.fields) == 1 and parsed.fields[0] != "*"
    # Index subclasses in jsonpath_ng.ext (filters, sorts) are not plain indices.
    return type(parsed) is Index


def extract_json(path: str, data: Any) -> Any:
    """AWS's JSONPath: a definite path returns its value (or fails when absent); other paths return a list."""
    from jsonpath_ng.ext import parse  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError  # noqa: PLC0415

    parsed = parse(path)
    matches = parsed.find(data)
    if is_definite_path(parsed):
        if not matches:
            raise NoSuchJsonPathError(json_path=path, data=data)
        return matches[0].value
    return [match.value for match in matches]


def patch_extract_json() -> None:
    """Replace ``extract_json`` in its module and in every already-imported module that bound it by name."""
    import sys  # noqa: PLC0415

    from moto.stepfunctions.parser.asl.utils import json_path  # noqa: PLC0415

    original = json_path.extract_json
    json_path.extract_json = extract_json
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is original:
            module.extract_json = extract_json  # type: ignore[attr-defined]


# --- Choice ------------------------------------------------------------------------------------------------------


def patch_choice_no_match() -> None:
    """A Choice with no matching rule and no Default fails with ``States.NoChoiceMatched`` (moto: States.Runtime)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: PLC0415
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    original = StateChoice._eval_state

    def _eval_state(self: Any, env: Any) -> None:
        if self.default_state is not None:
            original(self, env)
            return
        try:
            original(self, env)
        except RuntimeError as exc:
            if not str(exc.args[0] if exc.args else "").startswith("No branching option reached"):
                raise
            error = StatesErrorNameType.StatesNoChoiceMatched.to_name()
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesNoChoiceMatched),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=EventDetails(
                        executionFailedEventDetails=ExecutionFailedEventDetails(
                            error=error, cause=f"No Matches! (state {self.name!r} has no Default)"
                        )
                    ),
                )
            ) from exc

    StateChoice._eval_state = _eval_state


# --- describe_execution ------------------------------------------------------------------------------------------


def patch_describe_execution_output() -> None:
    """``describe_execution`` returns a bare string output unencoded; AWS always returns JSON text."""
    from moto.stepfunctions.responses import StepFunctionResponse  # noqa: PLC0415

    original = StepFunctionResponse.describe_execution

    def describe_execution(self: Any) -> Any:
        result = original(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        body = result.result
        if isinstance(body, dict) and "output" in body and isinstance(execution.output, str):
            # The parser backend keeps outputs as Python values, so a str here is a JSON string value.
            body["output"] = json.dumps(execution.output)
        return result

    StepFunctionResponse.describe_execution = describe_execution


# --- time --------------------------------------------------------------------------------------------------------


def scaled_seconds(seconds: float) -> float:
    """What the active run wants slept for ``seconds`` of state-machine time (unscaled when no run is active)."""
    run = _current_run()
    scale = 1.0 if run is None else run.time_scale
    return max(0.0, seconds * scale)


class _ScaledTime(types.SimpleNamespace):
    """Stands in for the ``time`` module inside the patched engine modules: only ``sleep`` changes."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        delay = scaled_seconds(seconds)
        if delay > 0:
            time.sleep(delay)


def patch_time() -> None:
    """Scale Retry intervals (after BackoffRate, MaxDelaySeconds and jitter: the policy stays AWS's), ``.sync``
    polling and Wait states."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: PLC0415
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: PLC0415
        WaitFunction,
    )

    retrier_decl.time = _ScaledTime()  # type: ignore[attr-defined]
    state_task_service_callback.time = _ScaledTime()  # type: ignore[attr-defined]

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:  # noqa: ARG001  (replaces a method)
        deadline = time.monotonic() + scaled_seconds(wait_seconds)
        # program_state_event is set when the execution stops: a stopped execution must not keep waiting.
        while env.is_running() and (remaining := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(remaining)

    WaitFunction._wait_interval = _wait_interval


# --- Lambda ------------------------------------------------------------------------------------------------------

_INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
_LAMBDA_EVENT: Final[str] = "before-send.lambda.Invoke"


def function_name_of(identifier: str) -> str:
    """``name``, ``name:qualifier``, a partial or a full function ARN -> the bare function name."""
    if identifier.startswith("arn:"):
        return identifier.split(":")[6]
    if ":" in identifier:
        parts = identifier.split(":")
        # 123456789012:function:name is the partial-ARN form.
        return parts[2] if len(parts) >= 3 and parts[1] == "function" else parts[0]
    return identifier


def _find_handler(functions: Mapping[str, Handler], identifier: str) -> Handler | None:
    if identifier in functions:
        return functions[identifier]
    wanted = function_name_of(identifier)
    for key, handler in functions.items():
        if function_name_of(key) == wanted:
            return handler
    return None


def run_lambda_handler(handler: Handler, function_name: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    """Call ``handler`` as the Python runtime does; return (status, headers, body) of the Invoke API's answer."""
    from tools.local_lambda import LocalLambdaContext  # noqa: PLC0415

    event = json.loads(payload) if payload else {}
    headers = {"x-amz-executed-version": "$LATEST", "content-type": "application/json"}
    try:
        result = handler(event, LocalLambdaContext(function_name=function_name))
        body = json.dumps(result).encode()
    except Exception as exc:  # noqa: BLE001  (any handler exception is the function's error, as in the runtime)
        headers["x-amz-function-error"] = "Unhandled"
        body = json.dumps(
            {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
        ).encode()
    return 200, headers, body


def lambda_invoke_hook(request: Any, **kwargs: Any) -> Any:  # noqa: ARG001  (botocore passes event details)
    """botocore ``before-send`` handler: answer Invoke for functions the active run provides, else defer to moto."""
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415
    from moto.core.botocore_stubber import MockRawResponse  # noqa: PLC0415

    run = _current_run()
    match = _INVOKE_PATH.search(urllib.parse.urlsplit(request.url).path)
    if run is None or match is None:
        return None
    identifier = urllib.parse.unquote(match.group("name"))
    handler = _find_handler(run.functions, identifier)
    if handler is None:
        return None
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    status, headers, payload = run_lambda_handler(handler, function_name_of(identifier), body or b"")
    return AWSResponse(request.url, status, headers, MockRawResponse(payload))


def install_lambda_hook() -> None:
    """Register :func:`lambda_invoke_hook` for sessions created from now on and on boto3's current default session.

    A handler for the specific ``before-send.lambda.Invoke`` event runs before moto's generic ``before-send`` stubber,
    whatever the registration order.
    """
    import boto3  # noqa: PLC0415
    from botocore.handlers import BUILTIN_HANDLERS  # noqa: PLC0415

    entry = (_LAMBDA_EVENT, lambda_invoke_hook)
    if entry not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.insert(0, entry)
    register_on_default_session(boto3)


def register_on_default_session(boto3_module: Any) -> None:
    """A default session created before :func:`install` lacks the hook; add it (idempotent by unique id)."""
    session = boto3_module.DEFAULT_SESSION
    if session is not None:
        session._session.register(_LAMBDA_EVENT, lambda_invoke_hook, unique_id="offline-lambda-invoke")


# --- JSONata -----------------------------------------------------------------------------------------------------


def evaluate_jsonata(expression: str) -> Any:
    """moto hands over a whole program (variable bindings prepended as ``$x:=...;``); evaluate it with no input."""
    try:
        import jsonata  # noqa: PLC0415  (jsonata-python; only definitions using JSONata need it)
    except ImportError as exc:
        raise RuntimeError(
            "QueryLanguage JSONata and $variables need the jsonata-python package (pip install jsonata-python)"
        ) from exc
    return jsonata.Jsonata(expression).evaluate(None)


def install_jsonata() -> None:
    """Fill the ``_eval_jsonata`` global that moto left empty when it cut out LocalStack's JVM bridge."""
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata  # noqa: PLC0415

    moto_jsonata._eval_jsonata = evaluate_jsonata
