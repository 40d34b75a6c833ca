"""The only module that reaches into moto's Step Functions interpreter (moto 5.2.5, ported from LocalStack).

moto's engine runs whole state machines in-process, but it diverges from AWS where this project needs it to be right.
Each divergence is closed by one small named function below; ``tests/test_engine_contract.py`` checks every
assumption they make about moto's internals, so an upgrade fails loudly there first, not deep inside an execution.

Touch points (each installed once, process-wide, by :func:`install`):

- :func:`check_moto_version`: the internals below were read in moto ``EXPECTED_MOTO_VERSION`` only.
- :func:`skip_batch_backend_import`: the Batch task service imports ``moto.batch.utils`` for one enum, which runs the
  ``moto.batch`` package's ``__init__`` and so imports moto's whole Batch and EC2 backends (the largest single cost of
  start-up, about a second); the leaf module is imported alone, and the package loads only if something uses Batch.
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
  of moto's own stubber) runs the run's in-process handlers; no function needs to exist in moto. The same way, a
  ``before-send.sfn.StartSyncExecution`` handler answers the API moto lacks from the run's ``start_sync_execution``.
- :func:`patch_sfn_task_normalisation`: ``StateTaskServiceSfn._normalise_parameters`` / ``_normalise_response`` map the
  ASL's PascalCase (``StateMachineArn``, ``ExecutionArn``) to boto3's names and back with the base class's
  ``_to_boto_request`` / ``_from_boto_response`` (moto stubbed the base methods out, so ``states:startExecution``
  tasks failed with ``States.Runtime`` ``'StateMachineArn'``).
- :func:`patch_express_execution_names`: ``StateMachine._handle_name_input_idempotency`` lets an EXPRESS machine
  reuse the name of an execution that has ended (AWS de-duplicates names for Standard workflows only).
- :func:`install_jsonata`: fills the ``_eval_jsonata`` global of ``asl/jsonata/jsonata.py`` with ``jsonata-python``
  (imported lazily; only needed by definitions that use JSONata or read ``$variables``), and replaces the
  placeholder that ``component/intrinsic/jsonata.py`` declares for Step Functions' ``$hash`` with the real digest.
- :func:`patch_item_reader_jsonl`: ``InputType.__init__`` accepts ``JSONL`` and ``resource_output_transformer_for``
  (imported by name into ``item_reader_decl``) parses it line by line.
- :func:`patch_distributed_map_runs`: ``Distributed{ItemProcessor,Iterator}Worker._eval_job`` record each child
  execution, its input as ``_eval_input`` selected it (an EXPRESS child under Express's duration limit, see
  :mod:`sfn_offline.moto_fidelity`); ``DistributedIterationComponent._map_run`` fails with
  ``States.ExceedToleratedFailureThreshold``.
- :func:`patch_result_writer`: the ResultWriter's ``ResourceEvalS3._handle_put_object`` writes the result files too.
- :func:`patch_s3_sdk_bodies`: ``StateTaskServiceAwsSdk._eval_service_task`` serialises a JSON ``s3:putObject`` Body
  and returns ``s3:getObject``'s Body as text.
- :func:`patch_lambda_timeout`: ``StateTaskServiceLambda._from_error`` / ``StateTaskLambda._from_error`` turn a
  handler's ``FunctionTimeoutError`` into ``States.Timeout``.
- :func:`patch_parse_cache`: ``AmazonStateLanguageParser.parse`` parses a definition text once per process (moto
  parses it at CreateStateMachine and again at every StartExecution) and hands out deep copies of the pristine program.
- :func:`patch_boto_client_cache`: ``boto_client_for`` (imported by name into the task services) reuses one client per
  region and service instead of building one per task call.
- :func:`hook_execution_events`: ``EventManager._publish_history_event`` (called under the manager's lock, so in id
  order) forwards each history event, ``BaseExecutionWorkerCommunication.terminated`` signals the end of the
  execution, and ``ExecutionWorker._get_evaluation_environment`` exposes the root environment (to fail it).
- :func:`patch_mocked_responses`: ``Environment.is_mocked_mode`` / ``get_current_mocked_response`` answer from the
  run's :class:`~sfn_offline.mock_config.TestCase` (moto's own mocked-response path does the rest).
- :func:`sfn_offline.integrations.patch_stubber_skip`: moto's ``BotocoreStubber.__call__`` leaves alone a request a
  runner hook answered (``bedrock-runtime`` from a function: see :mod:`sfn_offline.integrations`).
- :mod:`sfn_offline.moto_fidelity`: AWS's error rules, service quotas and grammar (its own touch points).
- :func:`hook_state_trace`: ``CommonStateField._eval_body``, ``ExecutionState._handle_retry`` / ``_handle_catch``,
  ``Environment.as_inner_frame_of``, and the ``_eval_body`` of ``InputPath``, ``Parameters``, ``Result``,
  ``ResultSelector`` and ``ResultPath`` record the TestState-style inspection data of every state execution.

Hooks reach the caller's functions and Bedrock backend through one process-wide :class:`ActiveRun`: moto runs an
execution (and its Map iterations and Parallel branches) on threads it creates, so neither thread-locals nor call
arguments can carry them. :func:`active_run` therefore lets one run at a time use the hooks.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
import re
import threading
import time
import traceback
import types
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sfn_offline import moto_fidelity
from sfn_offline.bedrock_api import BedrockBackend, BedrockServiceError
from sfn_offline.integrations import (
    BEDROCK_AGENT_SERVICES,
    RUNTIME_EVENTS,
    bedrock_runtime_hook,
    build_http_task_service,
    patch_stubber_skip,
)
from sfn_offline.lambda_api import FunctionTimeoutError, FunctionUnavailableError

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
    # Live events, termination, mocked responses and the per-state trace (see "observation" below).
    observer: RunObserver | None = None
    # Answers StartSyncExecution (request parameters -> response fields); None leaves the call to moto.
    start_sync_execution: Callable[[dict[str, Any]], dict[str, Any]] | None = None


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
        skip_batch_backend_import()
        patch_task_service_factory()
        patch_extract_json()
        patch_choice_no_match()
        patch_describe_execution_output()
        patch_time()
        install_lambda_hook()
        patch_express_execution_names()
        patch_sfn_task_normalisation()
        install_jsonata()
        patch_item_reader_jsonl()
        patch_distributed_map_runs()
        patch_result_writer()
        patch_s3_sdk_bodies()
        patch_lambda_timeout()
        patch_parse_cache()
        patch_boto_client_cache()
        hook_execution_events()
        patch_mocked_responses()
        hook_state_trace()
        patch_stubber_skip()
        moto_fidelity.install()
        _installed = True


# --- version -----------------------------------------------------------------------------------------------------


def skip_batch_backend_import() -> None:
    """Import ``moto.batch.utils`` (and its ``exceptions``) without running ``moto/batch/__init__.py``."""
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415
    import sys  # noqa: PLC0415

    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    if spec is None or not spec.submodule_search_locations:
        return
    # A bare package object stands in while the leaf modules import; the real package replaces it on first use.
    stand_in = types.ModuleType("moto.batch")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["moto.batch"] = stand_in
    try:
        importlib.import_module("moto.batch.utils")
    finally:
        del sys.modules["moto.batch"]


def check_moto_version() -> None:
    """Refuse to patch a moto whose internals were never read."""
    from importlib.metadata import version  # noqa: PLC0415

    found = version("moto")
    if found != EXPECTED_MOTO_VERSION:
        raise MotoInternalsChangedError(
            f"sfn_offline.moto_engine was written against moto {EXPECTED_MOTO_VERSION}, found {found}: "
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


class _JobPoller:
    """The ``.sync`` resolver of a customization job: polls it, and stops it when the execution is stopped."""

    def __init__(self, job_arn: str, state_name: str, attempt: int) -> None:
        self.job_arn = job_arn
        self._state_name = state_name
        self._attempt = attempt

    def __call__(self) -> Any:
        job = _require_backend().control_plane(
            "GetModelCustomizationJob",
            {"JobIdentifier": self.job_arn},
            state_name=self._state_name,
            attempt=self._attempt,
        )
        status = job.get("Status")
        if status == "Completed":
            return job
        if status in _TERMINAL_JOB_FAILURES:
            raise SyncJobFailedError(json.dumps(job, default=str))
        return None

    def stop(self) -> None:
        """``StopModelCustomizationJob``; a job that already ended cannot be stopped, which is fine here."""
        with contextlib.suppress(BedrockServiceError):
            _require_backend().control_plane(
                "StopModelCustomizationJob",
                {"JobIdentifier": self.job_arn},
                state_name=self._state_name,
                attempt=self._attempt,
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
            state_name, attempt = state_name_and_attempt(env)
            return _JobPoller(env.stack[-1]["JobArn"], state_name, attempt)

        def _eval_sync(
            self,
            env: Any,
            sync_resolver: Callable[[], Any] | None,
            timeout_seconds: int | None,
            callback_endpoint: Any,
            heartbeat_endpoint: Any,
        ) -> Any:
            from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped  # noqa: PLC0415

            outcome = super()._eval_sync(env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint)
            # AWS: "If the execution is stopped, Step Functions stops the job" (Run a Job pattern). The engine only
            # leaves its polling loop; stop the job the way Step Functions would.
            if isinstance(sync_resolver, _JobPoller) and isinstance(env.program_state(), ProgramStopped):
                sync_resolver.stop()
            return outcome

    class AwsSdkTaskService(StateTaskServiceAwsSdk):  # type: ignore[misc]
        """``aws-sdk:*``, with ``bedrock`` / ``bedrockruntime`` answered by the run's backend (PascalCase in and out)
        and every other service left to moto."""

        def _is_bedrock(self) -> bool:
            return self.resource.api_name in {"bedrock", "bedrockruntime", *BEDROCK_AGENT_SERVICES}

        def _camel_cased_operation(self) -> Any:
            """The SDK operation when its members are camelCase (Step Functions, Lambda...), else None: the ASL
            writes every aws-sdk parameter in PascalCase and gets PascalCase back, as AWS converts them."""
            model = sdk_operation_model(self._get_boto_service_name(), self._get_boto_service_action())
            members = [*model.input_shape.members] if model is not None and model.input_shape is not None else []
            members += [*model.output_shape.members] if model is not None and model.output_shape is not None else []
            return model if any(name[:1].islower() for name in members) else None

        def _normalise_parameters(self, parameters: dict, *_: Any, **__: Any) -> None:
            if self._is_bedrock():
                return
            model = self._camel_cased_operation()
            if model is not None:
                self._to_boto_request(parameters, model.input_shape)

        def _normalise_response(self, response: Any, *_: Any, **__: Any) -> None:
            if self._is_bedrock():
                return
            model = self._camel_cased_operation()
            if model is not None and model.output_shape is not None:
                self._from_boto_response(response, model.output_shape)
                if isinstance(response, dict):
                    for key, value in response.items():
                        if isinstance(value, datetime.datetime):
                            response[key] = int(value.timestamp() * 1000)  # as patch_sfn_task_normalisation

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


_sdk_models: dict[tuple[str, str], Any] = {}
_sdk_models_lock = threading.Lock()


def sdk_operation_model(service_name: str, action: str) -> Any:
    """botocore's model of an SDK operation (``action`` in snake case), or None for an unknown service or action."""
    key = (service_name, action)
    with _sdk_models_lock:
        if key in _sdk_models:
            return _sdk_models[key]
    try:
        model: Any = _operation_model(service_name, action)
    except Exception:  # noqa: BLE001  (an unknown service or operation: moto answers it as it would)
        model = None
    with _sdk_models_lock:
        _sdk_models[key] = model
    return model


def patch_task_service_factory() -> None:
    """Wrap ``state_task_service_for`` where ``state_task_factory`` looks it up (it imported the name)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
        state_task_factory,
    )

    original = state_task_factory.state_task_service_for
    bedrock_service, aws_sdk_service = _build_service_classes()
    http_service = build_http_task_service(state_name_and_attempt)

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "bedrock":
            return bedrock_service()
        if service_name == "aws-sdk":
            return aws_sdk_service()
        if service_name == "http":
            return http_service()
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
    """Stands in for the ``time`` module inside the patched engine modules: only ``sleep`` changes.

    ``floor`` is the least it sleeps: a ``.sync`` task polls its job or child execution in a loop, which must not spin
    (and starve the child's threads) when time is compressed to 0.
    """

    floor: float = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        delay = max(scaled_seconds(seconds), self.floor)
        if delay > 0:
            time.sleep(delay)


_SYNC_POLL_FLOOR_SECONDS: Final[float] = 0.01


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
    state_task_service_callback.time = _ScaledTime(floor=_SYNC_POLL_FLOOR_SECONDS)  # type: ignore[attr-defined]

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
    from sfn_offline.lambda_api import LocalLambdaContext  # noqa: PLC0415

    event = json.loads(payload) if payload else {}
    headers = {"x-amz-executed-version": "$LATEST", "content-type": "application/json"}
    try:
        result = handler(event, LocalLambdaContext(function_name=function_name))
        body = json.dumps(result).encode()
    except (FunctionTimeoutError, FunctionUnavailableError):
        raise  # not a function error: the task times out, or the execution fails (patch_lambda_timeout)
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
    """Register :func:`lambda_invoke_hook` and :func:`start_sync_execution_hook` for sessions created from now on and
    on boto3's current default session.

    A handler for a specific event (``before-send.lambda.Invoke``) runs before moto's generic ``before-send`` stubber,
    whatever the registration order.
    """
    import boto3  # noqa: PLC0415
    from botocore.handlers import BUILTIN_HANDLERS  # noqa: PLC0415

    for entry in _HOOKS:
        if entry not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.insert(0, entry)
    register_on_default_session(boto3)


def register_on_default_session(boto3_module: Any) -> None:
    """A default session created before :func:`install` lacks the hooks; add them (idempotent by unique id)."""
    session = boto3_module.DEFAULT_SESSION
    if session is not None:
        # Exactly one registration must remain: a session built after install() has the hook from BUILTIN_HANDLERS
        # (no unique id), and one this function saw before has it under the unique id, which botocore would then
        # refuse to register again. Drop both, then register once.
        events = session._session
        for event_name, hook in _HOOKS:
            unique_id = f"offline-{event_name}"
            events.unregister(event_name, unique_id=unique_id)
            events.unregister(event_name, hook)
            events.register(event_name, hook, unique_id=unique_id)


# --- StartSyncExecution and Express execution names ----------------------------------------------------------------

_SYNC_EVENT: Final[str] = "before-send.sfn.StartSyncExecution"


class StepFunctionsServiceError(Exception):
    """An error a Step Functions API answers with (``code``: boto3's ``Error.Code``, e.g. StateMachineDoesNotExist)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def start_sync_execution_hook(request: Any, **kwargs: Any) -> Any:  # noqa: ARG001  (botocore passes event details)
    """botocore ``before-send`` handler: answer ``StartSyncExecution`` (awsJson1_0) from the active run."""
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415
    from moto.core.botocore_stubber import MockRawResponse  # noqa: PLC0415

    run = _current_run()
    if run is None or run.start_sync_execution is None:
        return None
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    parameters = json.loads(body or b"{}")
    headers = {"content-type": "application/x-amz-json-1.0"}
    try:
        answer = run.start_sync_execution(parameters)
    except StepFunctionsServiceError as exc:
        error = {"__type": exc.code, "message": exc.message}
        return AWSResponse(request.url, 400, headers, MockRawResponse(json.dumps(error).encode()))
    return AWSResponse(request.url, 200, headers, MockRawResponse(json.dumps(answer, default=str).encode()))


def patch_express_execution_names() -> None:
    """AWS de-duplicates execution names for Standard workflows only; moto refuses any reused name with
    ``ExecutionAlreadyExists``. For an EXPRESS machine, ended executions of the same name are dropped first, so the
    name runs again (one still running keeps moto's rule: same input joins it, another input is refused)."""
    from moto.stepfunctions.models import StateMachine  # noqa: PLC0415

    original = StateMachine._handle_name_input_idempotency

    def _handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
        # moto keeps the CreateStateMachine type in ``type`` (its ``sm_type`` always says STANDARD).
        if self.type == "EXPRESS":
            self.executions[:] = [
                execution for execution in self.executions if execution.name != name or execution.status == "RUNNING"
            ]
        return original(self, name, execution_input)

    StateMachine._handle_name_input_idempotency = _handle_name_input_idempotency


def _operation_model(service_name: str, action: str) -> Any:
    """botocore's model of ``service_name``'s operation whose snake-case name is ``action`` (``start_execution``)."""
    import boto3  # noqa: PLC0415
    from botocore import xform_name  # noqa: PLC0415

    model = boto3.session.Session().client(service_name, region_name="us-east-1").meta.service_model
    for operation in model.operation_names:
        if xform_name(operation) == action:
            return model.operation_model(operation)
    raise MotoInternalsChangedError(f"botocore's {service_name} has no operation {action!r}")


def patch_sfn_task_normalisation() -> None:
    """``states:startExecution`` (and its ``.sync``/``.sync:2`` describe calls) in boto3's casing and back."""
    import functools  # noqa: PLC0415

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: PLC0415
        StateTaskServiceSfn,
    )

    operation = functools.cache(_operation_model)
    original_parameters = StateTaskServiceSfn._normalise_parameters

    def _normalise_parameters(
        self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        # The original JSON-encodes a non-string Input first (what AWS's StartExecution takes).
        original_parameters(self, parameters, boto_service_name, service_action_name)
        action = self._get_boto_service_action(service_action_name)
        model = operation(self._get_boto_service_name(boto_service_name), action)
        self._to_boto_request(parameters, model.input_shape)
        if action == "start_execution":
            # AWS names an execution started without a Name with a UUID; moto would name it "None".
            parameters.setdefault("name", str(uuid.uuid4()))

    def _normalise_response(
        self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        action = self._get_boto_service_action(service_action_name)
        model = operation(self._get_boto_service_name(boto_service_name), action)
        self._from_boto_response(response, model.output_shape)
        if isinstance(response, dict):
            # AWS hands timestamps of service integrations to the state as epoch milliseconds.
            for key, value in response.items():
                if isinstance(value, datetime.datetime):
                    response[key] = int(value.timestamp() * 1000)

    StateTaskServiceSfn._normalise_parameters = _normalise_parameters
    StateTaskServiceSfn._normalise_response = _normalise_response


_HOOKS: Final[tuple[tuple[str, Callable[..., Any]], ...]] = (
    (_LAMBDA_EVENT, lambda_invoke_hook),
    (_SYNC_EVENT, start_sync_execution_hook),
    *((event, functools.partial(bedrock_runtime_hook, current_run=_current_run)) for event in RUNTIME_EVENTS),
)


# --- Distributed Map ---------------------------------------------------------------------------------------------

_JSONL_INPUT_TYPE: Final[Any] = types.SimpleNamespace(name="JSONL", value="JSONL")
_ITEMS_ATTRIBUTE: Final[str] = "_offline_child_executions"
_items_lock = threading.Lock()


def patch_item_reader_jsonl() -> None:
    """``ReaderConfig.InputType: JSONL`` (one JSON value per line): moto's ``InputType`` rejects it and
    ``resource_output_transformer_for`` (imported by name into ``item_reader_decl``) knows only CSV and JSON."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader import (  # noqa: PLC0415
        item_reader_decl,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer.transformer import (  # noqa: PLC0415, E501
        ResourceOutputTransformer,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.input_type import (  # noqa: PLC0415
        InputType,
    )

    class JsonLinesTransformer(ResourceOutputTransformer):  # type: ignore[misc]
        def _eval_body(self, env: Any) -> None:
            reader_config = env.stack.pop()
            text = env.stack.pop()
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
            env.stack.append(items[: reader_config["MaxItemsValue"]])

    original_init = InputType.__init__
    original_factory = item_reader_decl.resource_output_transformer_for

    def init(self: Any, input_type: str) -> None:
        if input_type == "JSONL":
            self.input_type_value = _JSONL_INPUT_TYPE
            return
        original_init(self, input_type)

    def resource_output_transformer_for(input_type: Any) -> Any:
        if input_type.input_type_value is _JSONL_INPUT_TYPE:
            return JsonLinesTransformer()
        return original_factory(input_type=input_type)

    InputType.__init__ = init
    item_reader_decl.resource_output_transformer_for = resource_output_transformer_for


def child_executions(map_run_record: Any) -> dict[int, dict[str, Any]]:
    """The child execution records collected for one Map Run, by item index (created on first use)."""
    with _items_lock:
        items: dict[int, dict[str, Any]] | None = getattr(map_run_record, _ITEMS_ATTRIBUTE, None)
        if items is None:
            items = {}
            setattr(map_run_record, _ITEMS_ATTRIBUTE, items)
        return items


def _child_execution_record(env: Any, job: Any, map_run_arn: str, *, express: bool) -> dict[str, Any]:
    """One child execution as AWS's ResultWriter writes it (Input/Output as JSON text); an EXPRESS child's ARN is an
    Express execution's (``:express:`` where a Standard one says ``:execution:``)."""
    from moto.stepfunctions.parser.asl.eval.program_state import (  # noqa: PLC0415
        ProgramEnded,
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )

    state = env.program_state()
    name = f"{map_run_arn.rsplit(':', 1)[-1]}-{job.job_index}"
    record: dict[str, Any] = {
        "ExecutionArn": f"{map_run_arn.replace(':mapRun:', ':express:' if express else ':execution:')}:{name}",
        "Name": name,
        "Input": json.dumps(getattr(env, "_offline_child_input", job.job_input), default=str),
        "InputDetails": {"Included": True},
    }
    if isinstance(state, ProgramEnded):
        output = json.dumps(job.job_output, default=str)
        record.update(Status="SUCCEEDED", Output=output, OutputDetails={"Included": True})
    elif isinstance(state, ProgramError):
        details = state.error or {}
        record.update(Status="FAILED", Error=details.get("error"), Cause=details.get("cause"))
    elif isinstance(state, ProgramTimedOut):
        record.update(Status="TIMED_OUT")
    elif isinstance(state, ProgramStopped):
        record.update(Status="ABORTED")
    else:
        record.update(Status="FAILED")
    return record


def patch_distributed_map_runs() -> None:
    """Record every child execution of a Distributed Map (``DistributedItemProcessorWorker._eval_job`` and the legacy
    ``DistributedIteratorWorker._eval_job``) and enforce ``ToleratedFailureCount`` / ``ToleratedFailurePercentage``
    after ``DistributedIterationComponent._map_run`` (moto counts failures but never fails the Map Run)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: PLC0415
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: PLC0415, E501
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker import (  # noqa: PLC0415, E501
        DistributedIteratorWorker,
    )

    for worker_class in (DistributedItemProcessorWorker, DistributedIteratorWorker):
        original_eval_job = worker_class._eval_job

        def _eval_job(self: Any, env: Any, job: Any, _original: Any = original_eval_job) -> None:
            express = moto_fidelity.child_execution_type(self._map_run_record) == "EXPRESS"
            timer = moto_fidelity.limit_duration(env) if express else None
            try:
                _original(self, env=env, job=job)
            finally:
                if timer is not None:
                    timer.cancel()
            record = _child_execution_record(env, job, self._map_run_record.map_run_arn, express=express)
            child_executions(self._map_run_record)[job.job_index] = record

        worker_class._eval_job = _eval_job
        original_eval_input = worker_class._eval_input

        def _eval_input(self: Any, env_frame: Any, _original: Any = original_eval_input) -> None:
            _original(self, env_frame=env_frame)
            # The child execution's input is the ItemSelector's (Parameters') output, not the raw item.
            env_frame._offline_child_input = _snapshot(env_frame.states.get_input())

        worker_class._eval_input = _eval_input

    original_map_run = DistributedIterationComponent._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env=env, eval_input=eval_input)
        records = child_executions(eval_input.map_run_record).values()
        failed = sum(1 for record in records if record["Status"] != "SUCCEEDED")
        if exceeds_tolerance(
            failed, len(records), eval_input.tolerated_failure_count, eval_input.tolerated_failure_percentage
        ):
            raise _states_failure(
                env,
                "StatesExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )

    DistributedIterationComponent._map_run = _map_run


def exceeds_tolerance(failed: int, total: int, tolerated_count: int, tolerated_percentage: float) -> bool:
    """AWS fails a Map Run whose failures exceed its tolerance; moto defaults both thresholds to 0, so a threshold
    left unset cannot be told from 0 and both must be exceeded (exact unless both are set)."""
    if failed == 0 or total == 0:
        return False
    return failed > tolerated_count and failed * 100 > tolerated_percentage * total


def _states_failure(env: Any, error_type: str, cause: str) -> Exception:
    """A ``FailureEventException`` for a ``States.*`` error, as a state's ``_from_error`` passes it through."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails  # noqa: PLC0415
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
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    typ = getattr(StatesErrorNameType, error_type)
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=typ),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(error=typ.to_name(), cause=cause)),
        )
    )


def patch_result_writer() -> None:
    """``ResourceEvalS3._handle_put_object`` of the ResultWriter writes only an empty ``manifest.json``; AWS also writes
    ``SUCCEEDED_0.json`` / ``FAILED_0.json`` / ``TIMED_OUT_0.json`` / ``ABORTED_0.json`` (JSON arrays of child
    execution records, one file per status that occurred) and lists them, with their sizes, in the manifest."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (  # noqa: PLC0415
        resource_eval_s3,
    )
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for  # noqa: PLC0415

    def _handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the Map's result list: the records below carry each output with its status
        client = boto_client_for(region=resource_runtime_part.region, service="s3", state_credentials=state_credentials)
        map_run_record = env.map_run_record_pool_manager.get_all().pop()
        map_run_arn = map_run_record.map_run_arn
        bucket = parameters["Bucket"]
        prefix = parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        prefix += map_run_arn.rsplit(":", 1)[-1] + "/"
        records = [record for _, record in sorted(child_executions(map_run_record).items())]
        result_files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        for status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"):
            selected = [record for record in records if record["Status"] == status]
            if not selected:
                continue
            key = f"{prefix}{status}_0.json"
            body = json.dumps(selected).encode()
            client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
            result_files.setdefault(status, []).append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": result_files}
        client.put_object(Bucket=bucket, Key=f"{prefix}manifest.json", Body=json.dumps(manifest).encode())
        env.stack.append(
            {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{prefix}manifest.json"}}
        )

    resource_eval_s3.ResourceEvalS3._handle_put_object = staticmethod(_handle_put_object)


# --- aws-sdk:s3 --------------------------------------------------------------------------------------------------


def patch_s3_sdk_bodies() -> None:
    """``StateTaskServiceAwsSdk._eval_service_task`` passes parameters to boto3 as they are: AWS serialises a JSON
    (non-string) ``Body`` of ``s3:putObject`` to JSON text and returns ``s3:getObject``'s ``Body`` as text."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (  # noqa: PLC0415
        StateTaskServiceAwsSdk,
    )

    original = StateTaskServiceAwsSdk._eval_service_task

    def _eval_service_task(
        self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
    ) -> None:
        action = self.resource.api_action.lower() if self.resource.api_name == "s3" else ""
        body = normalised_parameters.get("Body")
        if action == "putobject" and body is not None and not isinstance(body, str | bytes):
            normalised_parameters = {**normalised_parameters, "Body": json.dumps(body)}
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        if action == "getobject" and isinstance(env.stack[-1], dict) and hasattr(env.stack[-1].get("Body"), "read"):
            env.stack[-1]["Body"] = env.stack[-1]["Body"].read().decode("utf-8", errors="replace")

    StateTaskServiceAwsSdk._eval_service_task = _eval_service_task


# --- Lambda timeouts ---------------------------------------------------------------------------------------------


def patch_lambda_timeout() -> None:
    """A handler raising :class:`~sfn_offline.lambda_api.FunctionTimeoutError` (re-raised through the Invoke call by
    :func:`run_lambda_handler`) fails the task with ``States.Timeout``: ``StateTaskServiceLambda._from_error``
    (``lambda:invoke``) and ``StateTaskLambda._from_error`` (function-ARN resources) would report it otherwise."""
    from moto.stepfunctions.parser.api import (  # noqa: PLC0415
        HistoryEventType,
        LambdaFunctionTimedOutEventDetails,
        TaskTimedOutEventDetails,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (  # noqa: PLC0415
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (  # noqa: PLC0415
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    timeout = StatesErrorNameType.StatesTimeout
    service_from_error = StateTaskServiceLambda._from_error
    legacy_from_error = StateTaskLambda._from_error

    def _service_from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, FunctionUnavailableError):
            return _unavailable_function(env, ex)
        if not isinstance(ex, FunctionTimeoutError):
            return service_from_error(self, env=env, ex=ex)
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=timeout),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=EventDetails(
                taskTimedOutEventDetails=TaskTimedOutEventDetails(
                    error=timeout.to_name(),
                    cause=str(ex),
                    resource=self._get_sfn_resource(),
                    resourceType=self._get_sfn_resource_type(),
                )
            ),
        )

    def _legacy_from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, FunctionUnavailableError):
            return _unavailable_function(env, ex)
        if not isinstance(ex, FunctionTimeoutError):
            return legacy_from_error(self, env=env, ex=ex)
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=timeout),
            event_type=HistoryEventType.LambdaFunctionTimedOut,
            event_details=EventDetails(
                lambdaFunctionTimedOutEventDetails=LambdaFunctionTimedOutEventDetails(
                    error=timeout.to_name(), cause=str(ex)
                )
            ),
        )

    StateTaskServiceLambda._from_error = _service_from_error
    StateTaskLambda._from_error = _legacy_from_error


def _unavailable_function(env: Any, ex: Exception) -> Any:
    """A function that cannot run in-process fails the task with ``States.Runtime`` (which no Retry or Catch takes:
    on AWS the function would have run), naming the state and telling how to answer it instead."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    state_name, _ = state_name_and_attempt(env)
    cause = (
        f"state {state_name!r}: {ex}; the offline runner cannot call this function: answer the state with "
        "--mock-config (AWS Step Functions Local's mock-config format)"
    )
    runtime = StatesErrorNameType.StatesRuntime
    return FailureEvent(
        env=env,
        error_name=StatesErrorName(typ=runtime),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(error=runtime.to_name(), cause=cause)),
    )


# --- JSONata -----------------------------------------------------------------------------------------------------


def evaluate_jsonata(expression: str) -> Any:
    """moto hands over a whole program (variable bindings prepended as ``$x:=...;``); evaluate it with no input."""
    try:
        import jsonata  # noqa: PLC0415  (jsonata-python; only definitions using JSONata need it)
    except ImportError as exc:
        raise RuntimeError(
            "QueryLanguage JSONata and $variables need the jsonata-python package (pip install jsonata-python)"
        ) from exc
    from sfn_offline.moto_fidelity import QueryEvaluationError  # noqa: PLC0415

    try:
        program = jsonata.Jsonata(expression)
        program.register_lambda("hash", jsonata_hash)
        return program.evaluate(None)
    except Exception as exc:
        message = str(exc)
        current = getattr(exc, "current", None)
        if "{}" in message and current is not None:
            # jsonata-python keeps $error's own message (and other details) apart from its message template.
            message = message.replace("{}", str(current))
        raise QueryEvaluationError(f"The JSONata expression failed to evaluate: {message}") from exc


_HASH_ALGORITHMS: Final[dict[str, str]] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def jsonata_hash(value: Any, algorithm: Any) -> str:
    """Step Functions' JSONata ``$hash(value, algorithm)``: the hex digest of a string, as ``States.Hash`` gives it."""
    name = _HASH_ALGORITHMS.get(str(algorithm))
    if name is None or not isinstance(value, str):
        raise ValueError(f"$hash takes a string and one of {', '.join(_HASH_ALGORITHMS)}; got {algorithm!r}")
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def install_jsonata() -> None:
    """Fill the ``_eval_jsonata`` global that moto left empty when it cut out LocalStack's JVM bridge, and drop moto's
    ``$hash`` placeholder declaration (a function returning "not supported") so the registered one answers."""
    from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as intrinsic_jsonata  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata  # noqa: PLC0415

    moto_jsonata._eval_jsonata = evaluate_jsonata
    intrinsic_jsonata._DECLARATION_BY_VARIABLE_REFERENCE.pop("$hash", None)


# --- speed: parse once, one boto3 client per service -------------------------------------------------------------

_PARSE_CACHE_SIZE: Final[int] = 64


def patch_parse_cache() -> None:
    """Parse each definition text once; every caller gets a deep copy of the never-evaluated program.

    A deep copy of a pristine program is what a fresh parse builds (about 1 ms against 30-80 ms of ANTLR), and no
    execution can see another's state through it. Syntax errors are not cached: they raise as before.
    """
    import copy  # noqa: PLC0415
    from collections import OrderedDict  # noqa: PLC0415

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415

    original = AmazonStateLanguageParser.parse
    cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
    lock = threading.Lock()

    def parse(definition: str) -> tuple[Any, Any]:
        with lock:
            hit = cache.get(definition)
            if hit is not None:
                cache.move_to_end(definition)
        if hit is None:
            hit = original(definition)
            with lock:
                cache[definition] = hit
                while len(cache) > _PARSE_CACHE_SIZE:
                    cache.popitem(last=False)
        program, tree = hit
        return copy.deepcopy(program), tree

    AmazonStateLanguageParser.parse = staticmethod(parse)


def patch_boto_client_cache() -> None:
    """``boto_client_for`` builds a boto3 client (several ms) for every task call; reuse one per region and service.

    boto3 clients are thread-safe. Only the in-process (stubbed) case without task credentials is cached, and a new
    default boto3 session (moto replaces it) starts a new cache.
    """
    import sys  # noqa: PLC0415

    import boto3  # noqa: PLC0415
    from moto.core.models import botocore_stubber  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.utils import boto_client  # noqa: PLC0415

    original = boto_client.boto_client_for
    cache: dict[tuple[str, str], tuple[Any, Any]] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if state_credentials is not None or not botocore_stubber.enabled:
            return original(region=region, service=service, state_credentials=state_credentials)
        session = boto3.DEFAULT_SESSION
        with lock:
            hit = cache.get((region, service))
        if hit is not None and hit[0] is session and session is not None:
            return hit[1]
        client = original(region=region, service=service, state_credentials=state_credentials)
        with lock:
            cache[(region, service)] = (boto3.DEFAULT_SESSION, client)
        return client

    boto_client.boto_client_for = boto_client_for
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


# --- observation: live events, termination, mocked responses, per-state trace ------------------------------------


@dataclass
class RunObserver:
    """What one run wants to see of its executions; filled from moto's threads, read by the caller's thread.

    ``queue`` receives ``("event", execution_arn, event)`` for every history event in id order and
    ``("terminated", execution_arn, None)`` once an execution's status is final.
    """

    mock: Any = None  # sfn_offline.mock_config.TestCase | None
    trace: list[dict[str, Any]] | None = None
    queue: Any = None  # queue.SimpleQueue; created in __post_init__

    def __post_init__(self) -> None:
        import queue  # noqa: PLC0415

        if self.queue is None:
            self.queue = queue.SimpleQueue()
        self.trace_lock = threading.Lock()


def _observer() -> RunObserver | None:
    run = _current_run()
    return None if run is None else run.observer


def history_event_as_boto3(event: Mapping[str, Any]) -> dict[str, Any]:
    """A history event as moto stores it -> as boto3's ``get_execution_history`` returns it."""
    import copy  # noqa: PLC0415
    from datetime import datetime  # noqa: PLC0415

    event_type = event["type"]
    converted: dict[str, Any] = {
        "timestamp": datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")),
        "type": getattr(event_type, "value", event_type),
        "id": event["id"],
        "previousEventId": event["previousEventId"],
    }
    for key, value in event.items():
        if key not in converted and value is not None:
            converted[key] = copy.deepcopy(value)
    return converted


def hook_execution_events() -> None:
    """Forward each recorded history event and each execution's end to the active run's observer."""
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager  # noqa: PLC0415
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication  # noqa: PLC0415
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: PLC0415

    original_publish = EventManager._publish_history_event
    original_terminated = BaseExecutionWorkerCommunication.terminated
    original_environment = ExecutionWorker._get_evaluation_environment

    def _publish_history_event(self: Any, *args: Any, **kwargs: Any) -> None:
        original_publish(self, *args, **kwargs)
        observer = _observer()
        arn = getattr(self, "_offline_execution_arn", None)
        if observer is not None and arn is not None:
            # Called under the manager's lock: the queue gets one execution's events in id order.
            observer.queue.put(("event", arn, history_event_as_boto3(self._history_event_list[-1])))

    def terminated(self: Any) -> None:
        original_terminated(self)
        observer = _observer()
        if observer is not None:
            observer.queue.put(("terminated", self.execution.exec_arn, None))

    def _get_evaluation_environment(self: Any) -> Any:
        env = original_environment(self)
        env.event_manager._offline_execution_arn = self._evaluation_details.execution_details.arn
        return env

    EventManager._publish_history_event = _publish_history_event
    BaseExecutionWorkerCommunication.terminated = terminated
    ExecutionWorker._get_evaluation_environment = _get_evaluation_environment


def _root_of(env: Any) -> Any:
    return getattr(env, "_offline_root", env)


_invocations_lock = threading.Lock()


def _next_invocation(root: Any, state_name: str) -> int:
    """The 0-based invocation number of ``state_name`` in the execution of ``root``, counted up by this call: retries
    and re-entries (a polling loop) alike, as Step Functions Local numbers mocked responses."""
    with _invocations_lock:
        counts: dict[str, int] = root.__dict__.setdefault("_offline_invocations", {})
        number = counts.get(state_name, 0)
        counts[state_name] = number + 1
    return number


def patch_mocked_responses() -> None:
    """moto's mocked-response path (Step Functions Local's), fed from the run's mock-config test case.

    Each invocation of a mocked state takes the next response key, whether it is a retry or the state entered again
    (AWS: "the mocked response ... for every invocation"), counted per execution.

    A mocked state invoked past its last listed response fails the whole execution (AWS: "If you do not specify a
    mocked response, the state machine execution will fail"), with ``States.Runtime`` and the loader's message: it is
    set on the execution's root environment, so neither Retry nor Catch can swallow it.
    """
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.environment import Environment  # noqa: PLC0415
    from moto.stepfunctions.parser.mocking.mock_config import (  # noqa: PLC0415
        MockedResponseReturn,
        MockedResponseThrow,
    )

    from sfn_offline.mock_config import MockedResponseExhaustedError  # noqa: PLC0415

    def is_mocked_mode(self: Any) -> bool:
        observer = _observer()
        mock = None if observer is None else observer.mock
        return mock is not None and self.next_state_name in mock.states

    def get_current_mocked_response(self: Any) -> Any:
        observer = _observer()
        if observer is None or observer.mock is None:
            raise RuntimeError("no mock-config test case is active")
        state_name, _ = state_name_and_attempt(self)
        attempt = _next_invocation(_root_of(self), state_name)
        try:
            response = observer.mock.response_for(state_name, attempt)
        except MockedResponseExhaustedError as exc:
            _root_of(self).set_error(ExecutionFailedEventDetails(error="States.Runtime", cause=str(exc)))
            raise
        if response is None:  # Unreachable: is_mocked_mode said the state is mocked.
            raise RuntimeError(f"state {state_name!r} is not mocked")
        if response.throws is not None:
            error, cause = response.throws
            return MockedResponseThrow(attempt, attempt, error=error, cause=cause)
        return MockedResponseReturn(attempt, attempt, payload=response.returns)

    Environment.is_mocked_mode = is_mocked_mode
    Environment.get_current_mocked_response = get_current_mocked_response


def _snapshot(value: Any) -> Any:
    import copy  # noqa: PLC0415

    return copy.deepcopy(value)


def _error_and_cause(failure_event: Any) -> tuple[str | None, str | None]:
    details = next(iter(failure_event.event_details.values()), {}) if failure_event.event_details else {}
    return details.get("error"), details.get("cause")


def _record_of(env: Any) -> dict[str, Any] | None:
    return getattr(env, "_offline_record", None)


def _finish_record(record: dict[str, Any], status: str, output: Any, error: str | None, cause: str | None) -> None:
    observer = _observer()
    if observer is None or observer.trace is None:
        return
    record.update(status=status, output=output, error=error, cause=cause)
    with observer.trace_lock:
        observer.trace.append(record)


def _new_record(name: str, state_input: Any) -> dict[str, Any]:
    return {
        "stateName": name,
        "status": None,
        "inspectionData": {"input": _snapshot(state_input)},
        "output": None,
        "error": None,
        "cause": None,
    }


def _tracing() -> bool:
    observer = _observer()
    return observer is not None and observer.trace is not None


def _trace_state_body(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: PLC0415
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramRunning  # noqa: PLC0415

    def _eval_body(self: Any, env: Any) -> None:
        if not _tracing():
            original(self, env)
            return
        previous = _record_of(env)
        env._offline_record = _new_record(self.name, env.states.get_input())
        try:
            original(self, env)
        except FailureEventException as exc:
            error, cause = _error_and_cause(exc.failure_event)
            _finish_record(env._offline_record, "FAILED", None, error, cause)
            raise
        except Exception as exc:
            _finish_record(env._offline_record, "FAILED", None, "States.Runtime", str(exc))
            raise
        else:
            record = env._offline_record
            output = _snapshot(env.states.get_input())
            if record.get("status") == "CAUGHT_ERROR":
                _finish_record(record, "CAUGHT_ERROR", output, record["error"], record["cause"])
            elif isinstance(env.program_state(), ProgramRunning | ProgramEnded):
                _finish_record(record, "SUCCEEDED", output, None, None)
            else:  # Stopped, failed or timed out from outside the state (e.g. an exhausted mocked response).
                _finish_record(record, "FAILED", None, None, None)
        finally:
            env._offline_record = previous

    return _eval_body


def _trace_retry(original: Callable[[Any, Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome  # noqa: PLC0415

    def _handle_retry(self: Any, env: Any, failure_event: Any) -> Any:
        outcome = original(self, env, failure_event)
        record = _record_of(env)
        if record is not None and outcome == RetryOutcome.CanRetry:
            error, cause = _error_and_cause(failure_event)
            _finish_record(record, "RETRIABLE", None, error, cause)
            # The next attempt re-runs the state from after InputPath, which is not evaluated again.
            retry = _new_record(self.name, record["inspectionData"]["input"])
            if "afterInputPath" in record["inspectionData"]:
                retry["inspectionData"]["afterInputPath"] = record["inspectionData"]["afterInputPath"]
            env._offline_record = retry
        return outcome

    return _handle_retry


def _trace_catch(original: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome  # noqa: PLC0415

    def _handle_catch(self: Any, env: Any, failure_event: Any) -> None:
        original(self, env, failure_event)
        record = _record_of(env)
        if record is not None and env.stack and env.stack[-1] == CatchOutcome.Caught:
            record["status"] = "CAUGHT_ERROR"
            record["error"], record["cause"] = _error_and_cause(failure_event)

    return _handle_catch


def _trace_component(component: Any, before: str | None, after: str | None) -> None:
    original = component._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        record = _record_of(env)
        if record is not None and before is not None and env.stack:
            record["inspectionData"].setdefault(before, _snapshot(env.stack[-1]))
        original(self, env)
        if record is not None and after is not None and env.stack:
            record["inspectionData"][after] = _snapshot(env.stack[-1])

    component._eval_body = _eval_body


def hook_state_trace() -> None:
    """Record, per state execution (each attempt, each Map iteration and Parallel branch), what TestState reports.

    The current record lives on the environment (``_offline_record``) and is inherited by frames (the Task attempt's
    timeout frame, where Parameters are evaluated); a state entered in a frame (a Map iteration) starts its own. The
    same frame hook gives every frame its execution's root environment (``_offline_root``).
    """
    from moto.stepfunctions.parser.asl.component.common.parargs import Parameters  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.path.input_path import InputPath  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.result_selector import ResultSelector  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.state_pass.result import Result  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.environment import Environment  # noqa: PLC0415

    original_frame = Environment.as_inner_frame_of.__func__

    def as_inner_frame_of(cls: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        frame = original_frame(cls, env, *args, **kwargs)
        frame._offline_root = _root_of(env)
        frame._offline_record = _record_of(env)
        return frame

    CommonStateField._eval_body = _trace_state_body(CommonStateField._eval_body)
    ExecutionState._handle_retry = _trace_retry(ExecutionState._handle_retry)
    ExecutionState._handle_catch = _trace_catch(ExecutionState._handle_catch)
    Environment.as_inner_frame_of = classmethod(as_inner_frame_of)
    _trace_component(InputPath, None, "afterInputPath")
    _trace_component(Parameters, None, "afterParameters")
    _trace_component(Result, None, "result")
    _trace_component(ResultSelector, "result", "afterResultSelector")
    _trace_component(ResultPath, "result", "afterResultPath")
