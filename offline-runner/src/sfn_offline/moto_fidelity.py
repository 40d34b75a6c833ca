"""AWS's error rules, service quotas and grammar where moto 5.2.5's interpreter departs from them.

A second set of named touch points beside :mod:`sfn_offline.moto_engine` (same discipline: each is one small
function, installed once by :func:`install`, and ``tests/offline/test_engine_fidelity_contract.py`` pins what it
assumes about moto's internals). Each one restores a rule AWS documents:

- :func:`patch_states_error_names`: a ``States.*`` error leaving a Parallel branch, a Map iteration or a mocked
  response keeps its name and cause (``branches_decl``, ``iteration_worker`` and ``mock_eval_utils`` build a
  ``CustomErrorName``, which refuses ``States.*`` names: the cause became a ``ValueError`` about the prefix).
- :func:`patch_uncatchable_errors`: ``ErrorEqualsDecl._eval_body``: ``States.ALL`` (and ``States.TaskFailed``)
  catch neither ``States.Runtime`` nor ``States.DataLimitExceeded``, and ``States.Runtime`` is never retried or
  caught ("A retry or catch on States.ALL won't catch States.Runtime errors").
- :func:`patch_service_error_names`: ``ExecutionState._from_error``: a service's error answered through boto3
  (moto's) is a task failure named ``<Service>.<ErrorCode>``, which Retry and Catch see, not ``States.Runtime``; a
  JSONata evaluation error is ``States.QueryEvaluationError`` (``CommonStateField._eval_body`` for the states that
  have no ``_from_error``).
- :func:`patch_cause_limit`: ``FailureEvent.__init__`` and ``Environment.set_error`` cap a cause at 32,768
  characters (the ``cause`` field's length constraint in the API reference).
- :func:`patch_history_limit`: ``EventManager._publish_history_event``: a Standard execution whose history reaches
  25,000 events fails with ``States.Runtime`` (AWS: "If the event number 25,000 isn't ExecutionSucceeded, the
  ExecutionFailed event is logged"); ``ExecutionWorker._get_evaluation_environment`` tells the manager of a
  Standard execution its environment (read through ``_execution_communication.execution.state_machine.type``);
  an Express execution times out after five minutes ("Maximum execution duration: 5 minutes").
- :func:`patch_child_workflow_variables`: ``Distributed{ItemProcessor,Iterator}Worker._eval_input``: a
  Distributed Map's child workflow starts with no variables of the parent's (it is an execution of its own) and may
  assign any name; its ItemSelector still reads the parent's.
- :func:`patch_execution_input_quota`: ``StepFunctionsParserBackend.start_execution`` refuses an input over
  262,144 bytes (UTF-8), as ``StartExecution`` does, instead of starting an execution that fails later.
- :func:`patch_string_format`: ``StringFormat._eval_body`` (``States.Format``) honours the escapes ``\\{``,
  ``\\}``, ``\\'`` and ``\\\\`` of a literal template instead of handing it to Python's ``str.format``.
- :func:`patch_callback_attempts`: ``StateTaskServiceCallback._evaluate_with_timeout``: each retry attempt of a
  callback-capable task (``.sync``, ``.sync:2``, ``.waitForTaskToken``) gets a fresh task token (the first attempt's
  endpoint is closed when it ends, so a retried ``.sync`` task reported ``States.Timeout`` at once);
  ``StateTask._from_error``: a missed heartbeat is ``States.HeartbeatTimeout``, not ``States.Timeout``;
  ``StepFunctionResponse.send_task_failure`` passes the ``cause`` on (moto dropped it).
- :func:`patch_definition_grammar`: ``AmazonStateLanguageParser.parse`` takes what AWS accepts and moto's grammar
  does not: an integer ``ToleratedFailurePercentage``, a ``RoleArn.$`` key in a payload template (a keyword of the
  grammar's ``Credentials``: restored by ``PayloadBinding.__init__``), ``ItemBatcher`` (kept aside and applied
  by ``DistributedIterationComponent._map_run``: each child gets ``{"Items": [...], "BatchInput": ...}``), a JSONata
  ``ResultWriter`` with ``Arguments`` (kept aside and set on the Map state as moto's ``ResultWriter`` built from
  the same ``Arguments`` parsed on a Task state), ``WriterConfig`` (``Transformation: NONE``, ``OutputType: JSON``:
  what the runner writes; other values are refused by name) and ``ProcessorConfig.ExecutionType: EXPRESS`` (parsed
  as STANDARD, kept on the map run record: each child then runs with Express's five-minute limit and is exported
  with an Express execution ARN); ``Preprocessor.visitTolerated_failure_count_string_jsonata`` builds a count (moto
  built a percentage from a JSONata ``ToleratedFailureCount``).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

# Service quotas and API constraints (Step Functions developer guide, "Step Functions service quotas"; API reference).
CAUSE_LIMIT: Final[int] = 32_768
HISTORY_LIMIT: Final[int] = 25_000
INPUT_LIMIT_BYTES: Final[int] = 262_144
EXPRESS_DURATION_SECONDS: Final[float] = 300.0
HISTORY_LIMIT_CAUSE: Final[str] = f"The execution reached the maximum number of history events ({HISTORY_LIMIT})."

# How AWS names the services of its optimized integrations in error names (SDK integrations use the SDK's name).
_SERVICE_ERROR_PREFIX: Final[dict[str, str]] = {
    "events": "EventBridge",
    "sqs": "SQS",
    "sns": "SNS",
    "dynamodb": "DynamoDB",
    "lambda": "Lambda",
    "states": "StepFunctions",
    "s3": "S3",
}
_ROLE_ARN_ALIAS: Final[str] = "RoleArn__offline_path_alias"  # restored by PayloadBinding.__init__
_ASIDE_ATTRIBUTE: Final[str] = "_offline_set_aside"
_EXECUTION_TYPE_ATTRIBUTE: Final[str] = "_offline_execution_type"
_ARGUMENTS_CARRIER: Final[str] = "arn:aws:states:::aws-sdk:s3:putObject"

_install_lock = threading.Lock()
_installed = False


class QueryEvaluationError(Exception):
    """A JSONata expression failed to evaluate; AWS reports ``States.QueryEvaluationError``."""


class DefinitionNotEmulatedError(ValueError):
    """A definition AWS accepts that the runner cannot emulate; CreateStateMachine refuses it, saying what."""


def install() -> None:
    """Apply every touch point once (idempotent, thread-safe); :func:`sfn_offline.moto_engine.install` calls it."""
    global _installed  # noqa: PLW0603
    with _install_lock:
        if _installed:
            return
        patch_states_error_names()
        patch_uncatchable_errors()
        patch_service_error_names()
        patch_cause_limit()
        patch_history_limit()
        patch_execution_input_quota()
        patch_child_workflow_variables()
        patch_string_format()
        patch_definition_grammar()
        patch_callback_attempts()
        _installed = True


# --- error names -------------------------------------------------------------------------------------------------


def error_name_of(error_name: str | None) -> Any:
    """The engine's error-name object for a name coming back from a branch, an iteration or a mock."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (  # noqa: PLC0415
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )

    if error_name is not None and error_name.startswith("States."):
        with contextlib.suppress(Exception):
            return StatesErrorName.from_name(error_name)
    return CustomErrorName(error_name=error_name)


def patch_states_error_names() -> None:
    """Replace ``CustomErrorName`` in the modules that rebuild an error name from a finished child."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (  # noqa: PLC0415
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import mock_eval_utils  # noqa: PLC0415

    for module in (branches_decl, iteration_worker, mock_eval_utils):
        module.CustomErrorName = error_name_of  # type: ignore[attr-defined]


def patch_uncatchable_errors() -> None:
    """``States.ALL`` and ``States.TaskFailed`` never match ``States.Runtime`` or ``States.DataLimitExceeded``;
    nothing matches ``States.Runtime``."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (  # noqa: PLC0415
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )

    original = ErrorEqualsDecl._eval_body
    runtime = StatesErrorNameType.StatesRuntime
    data_limit = StatesErrorNameType.StatesStatesDataLimitExceeded

    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        typ = getattr(error_name, "typ", None) if isinstance(error_name, StatesErrorName) else None
        if typ is runtime or (typ is data_limit and error_name not in self.error_names):
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    ErrorEqualsDecl._eval_body = _eval_body


def service_error_name(service_name: str, api_name: str, code: str) -> str:
    """``<Service>.<ErrorCode>`` as Step Functions names a service's error (``EventBridge.ResourceNotFoundException``
    for the optimized integration, the SDK's service name for ``aws-sdk:*``)."""
    prefix = _SERVICE_ERROR_PREFIX.get(service_name) or api_name[:1].upper() + api_name[1:]
    return f"{prefix}.{code}"


def patch_service_error_names() -> None:
    """Service errors become named, catchable task failures; JSONata errors ``States.QueryEvaluationError``."""
    from botocore.exceptions import ClientError  # noqa: PLC0415
    from moto.stepfunctions.parser.api import (  # noqa: PLC0415
        EvaluationFailedEventDetails,
        HistoryEventType,
        TaskFailedEventDetails,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (  # noqa: PLC0415
        CustomErrorName,
    )
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
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    query_error = StatesErrorNameType.StatesQueryEvaluationError

    def query_failure(env: Any, state_name: str, exc: Exception) -> Any:
        cause = f"An error occurred while executing the state '{state_name}'. {exc}"
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=query_error),
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(
                evaluationFailedEventDetails=EvaluationFailedEventDetails(
                    error=query_error.to_name(), cause=cause, state=state_name
                )
            ),
        )

    original_from_error = ExecutionState._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, QueryEvaluationError):
            return query_failure(env, self.name, ex)
        resource = getattr(self, "resource", None)
        if isinstance(ex, ClientError) and resource is not None:
            error = ex.response.get("Error", {})
            name = service_error_name(
                str(getattr(resource, "service_name", "")),
                str(getattr(resource, "api_name", "")),
                str(error.get("Code") or "ServiceException"),
            )
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(name),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=name,
                        cause=str(error.get("Message") or ex),
                        resource=self._get_sfn_resource() if hasattr(self, "_get_sfn_resource") else None,
                        resourceType=self._get_sfn_resource_type() if hasattr(self, "_get_sfn_resource_type") else None,
                    )
                ),
            )
        return original_from_error(self, env, ex)

    ExecutionState._from_error = _from_error

    original_body = CommonStateField._eval_body

    def _eval_body(self: Any, env: Any) -> None:
        try:
            original_body(self, env)
        except QueryEvaluationError as exc:
            raise FailureEventException(failure_event=query_failure(env, self.name, exc)) from exc

    CommonStateField._eval_body = _eval_body


# --- quotas ------------------------------------------------------------------------------------------------------


def capped(cause: Any) -> Any:
    """A cause cut to the API's 32,768 characters (other values unchanged)."""
    return cause[:CAUSE_LIMIT] if isinstance(cause, str) and len(cause) > CAUSE_LIMIT else cause


def patch_cause_limit() -> None:
    """Cap the cause of every failure event (Task, Fail state, branch, Catch output) and of the execution."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.environment import Environment  # noqa: PLC0415

    original_init = FailureEvent.__init__
    original_set_error = Environment.set_error

    def init(self: Any, env: Any, error_name: Any, event_type: Any, event_details: Any = None) -> None:
        for details in (event_details or {}).values():
            if isinstance(details, dict) and "cause" in details:
                details["cause"] = capped(details["cause"])
        original_init(self, env, error_name, event_type, event_details)

    def set_error(self: Any, error: Any) -> None:
        if isinstance(error, dict) and "cause" in error:
            error = {**error, "cause": capped(error["cause"])}
        original_set_error(self, error)

    FailureEvent.__init__ = init
    Environment.set_error = set_error


def patch_history_limit() -> None:
    """Fail a Standard execution when its history would pass 25,000 events (the last one is ExecutionFailed)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager  # noqa: PLC0415
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker  # noqa: PLC0415

    original_publish = EventManager._publish_history_event
    original_environment = ExecutionWorker._get_evaluation_environment

    def _publish_history_event(self: Any, *args: Any, **kwargs: Any) -> None:
        original_publish(self, *args, **kwargs)
        env = getattr(self, "_offline_env", None)
        if env is not None and len(self._history_event_list) >= HISTORY_LIMIT - 1 and env.is_running():
            env.set_error(ExecutionFailedEventDetails(error="States.Runtime", cause=HISTORY_LIMIT_CAUSE))

    def _get_evaluation_environment(self: Any) -> Any:
        env = original_environment(self)
        # moto's own sm_type always says STANDARD; the CreateStateMachine type is the machine's ``type``.
        machine = getattr(getattr(self._execution_communication, "execution", None), "state_machine", None)
        if getattr(machine, "type", "STANDARD") != "EXPRESS":
            env.event_manager._offline_env = env
        else:
            limit_duration(env)
        return env

    EventManager._publish_history_event = _publish_history_event
    ExecutionWorker._get_evaluation_environment = _get_evaluation_environment


class _Deadline:
    """One Express execution's end of allowed time; ``cancel`` once it has ended."""

    def __init__(self, env: Any, at: float) -> None:
        self.env = env
        self.at = at
        self.cancelled = False

    def __lt__(self, other: _Deadline) -> bool:
        return self.at < other.at

    def cancel(self) -> None:
        self.cancelled = True


class _Watchdog:
    """One thread times out every Express execution past its limit (a timer thread each would start thousands of
    threads for one Distributed Map of EXPRESS children)."""

    def __init__(self) -> None:
        self._heap: list[_Deadline] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, env: Any, seconds: float) -> _Deadline:
        deadline = _Deadline(env, time.monotonic() + seconds)
        with self._wake:
            heapq.heappush(self._heap, deadline)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="express-duration", daemon=True)
                self._thread.start()
            self._wake.notify()
        return deadline

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                remaining = self._heap[0].at - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
                due = heapq.heappop(self._heap)
            if not due.cancelled and due.env.is_running():
                due.env.set_timed_out()


_watchdog = _Watchdog()


def limit_duration(env: Any) -> _Deadline:
    """An Express execution (or a Distributed Map's EXPRESS child workflow) still running after five minutes (wall
    clock) times out, as AWS stops it; the caller may cancel the deadline once the execution ends."""
    return _watchdog.watch(env, EXPRESS_DURATION_SECONDS)


def patch_child_workflow_variables() -> None:
    """A Distributed Map's child workflow is an execution of its own: it starts with no variables and may assign any
    name (moto ran it in an inner scope of the parent's, so it read the parent's variables and assigning one of their
    names failed with ``IllegalOuterScopeWrite``). The ItemSelector still sees the parent's, as on AWS: the store is
    replaced after ``_eval_input``."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: PLC0415, E501
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator.distributed_iterator_worker import (  # noqa: PLC0415, E501
        DistributedIteratorWorker,
    )
    from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore  # noqa: PLC0415

    for worker_class in (DistributedItemProcessorWorker, DistributedIteratorWorker):
        original = worker_class._eval_input

        def _eval_input(self: Any, env_frame: Any, _original: Any = original) -> None:
            _original(self, env_frame=env_frame)
            env_frame.variable_store = VariableStore()

        worker_class._eval_input = _eval_input


def patch_execution_input_quota() -> None:
    """``StartExecution`` with an input over 262,144 bytes answers ``ValidationException`` and starts nothing."""
    from moto.core.exceptions import JsonRESTError  # noqa: PLC0415
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: PLC0415

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        execution_input = kwargs.get("execution_input", args[1] if len(args) > 1 else None)
        if isinstance(execution_input, str) and len(execution_input.encode("utf-8")) > INPUT_LIMIT_BYTES:
            raise JsonRESTError(
                "ValidationException",
                "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have "
                f"length less than or equal to {INPUT_LIMIT_BYTES}",
            )
        return original(self, state_machine_arn, *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution


# --- intrinsics --------------------------------------------------------------------------------------------------


def format_template(template: str, values: list[str], *, escaped: bool) -> str:
    """``States.Format``: each ``{}`` takes the next value; in a literal template (``escaped``) a backslash makes
    the next character literal (``\\{``, ``\\}``, ``\\'``, ``\\\\``).

    Raises
    ------
    ValueError
        Not as many ``{}`` as values, or a lone ``{`` / ``}``.
    """
    out: list[str] = []
    remaining = iter(values)
    used = 0
    index = 0
    while index < len(template):
        character = template[index]
        if escaped and character == "\\" and index + 1 < len(template):
            out.append(template[index + 1])
            index += 2
            continue
        if template.startswith("{}", index):
            value = next(remaining, None)
            if value is None:
                raise ValueError(f"States.Format: more {{}} than arguments in {template!r}")
            out.append(value)
            used += 1
            index += 2
            continue
        if character in "{}":
            raise ValueError(f"States.Format: unescaped {character!r} in {template!r} (write \\{character})")
        out.append(character)
        index += 1
    if used != len(values):
        raise ValueError(f"States.Format: {len(values)} argument(s) for {used} {{}} in {template!r}")
    return "".join(out)


def patch_string_format() -> None:
    """``States.Format`` with AWS's escapes instead of ``str.format`` (which read ``\\{x\\}`` as a field name)."""
    from moto.stepfunctions.parser.asl.component.intrinsic.argument.argument import (  # noqa: PLC0415
        ArgumentLiteral,
    )
    from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.generic.string_format import (  # noqa: PLC0415
        StringFormat,
    )

    def _eval_body(self: Any, env: Any) -> None:
        self.argument_list.eval(env=env)
        args = env.stack.pop()
        template = str(args[0])
        escaped = isinstance(self.argument_list.arguments[0], ArgumentLiteral)
        if escaped:
            # moto's literal keeps each backslash of the definition doubled.
            template = template.replace("\\\\", "\\")
        values = [StringFormat._to_str_repr(value) for value in args[1:]]
        env.stack.append(format_template(template, values, escaped=escaped))

    StringFormat._eval_body = _eval_body


# --- grammar -----------------------------------------------------------------------------------------------------


@dataclass
class SetAside:
    """What one Map state declares that moto's grammar refuses, kept out of the text it parses."""

    item_batcher: dict[str, Any] | None = None
    # A JSONata ResultWriter (``Resource`` and ``Arguments``): rebuilt from a Task state that declares the same.
    result_writer: dict[str, Any] | None = None
    # ``ProcessorConfig.ExecutionType``: the grammar takes STANDARD only.
    execution_type: str = "STANDARD"


def rewrite_definition(document: Any) -> tuple[Any, dict[tuple[str, ...], SetAside]]:
    """What moto's grammar takes, and what was set aside by the path of its Map state (state names).

    Raises
    ------
    DefinitionNotEmulatedError
        An ``ItemBatcher`` beside an ``ItemSelector`` (AWS applies the selector to each item of a batch), or a
        ``WriterConfig`` asking for a transformation or output type other than ``NONE`` / ``JSON``.
    """
    aside: dict[tuple[str, ...], SetAside] = {}

    def payload(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                (_ROLE_ARN_ALIAS + ".$" if key == "RoleArn.$" else key): payload(item) for key, item in value.items()
            }
        if isinstance(value, list):
            return [payload(item) for item in value]
        return value

    def scope(states_scope: Any, path: tuple[str, ...], language: str) -> Any:
        if not isinstance(states_scope, dict) or not isinstance(states_scope.get("States"), dict):
            return states_scope
        rewritten = dict(states_scope)
        language = str(states_scope.get("QueryLanguage", language))
        rewritten["States"] = {
            name: state(body, (*path, name), language) for name, body in states_scope["States"].items()
        }
        return rewritten

    def state(body: Any, path: tuple[str, ...], language: str) -> Any:
        if not isinstance(body, dict):
            return body
        body = dict(body)
        language = str(body.get("QueryLanguage", language))
        for key in ("Parameters", "ItemSelector", "ResultSelector", "Arguments"):
            if key in body:
                body[key] = payload(body[key])
        if isinstance(body.get("ToleratedFailurePercentage"), int) and not isinstance(
            body["ToleratedFailurePercentage"], bool
        ):
            body["ToleratedFailurePercentage"] = float(body["ToleratedFailurePercentage"])
        if "ItemBatcher" in body:
            if "ItemSelector" in body or "Parameters" in body:
                raise DefinitionNotEmulatedError(
                    f"state {path[-1]!r}: ItemBatcher with ItemSelector is not emulated offline (AWS applies the "
                    "selector to each item of each batch)"
                )
            aside.setdefault(path, SetAside()).item_batcher = body.pop("ItemBatcher")
        if isinstance(body.get("ResultWriter"), dict):
            body["ResultWriter"] = result_writer(body["ResultWriter"], path, language)
            if body["ResultWriter"] is None:
                del body["ResultWriter"]
        for key in ("ItemProcessor", "Iterator"):
            if key in body:
                body[key] = scope(processor(body[key], path), path, language)
        if isinstance(body.get("Branches"), list):
            body["Branches"] = [scope(branch, (*path, str(i)), language) for i, branch in enumerate(body["Branches"])]
        return body

    def result_writer(writer: dict[str, Any], path: tuple[str, ...], language: str) -> dict[str, Any] | None:
        writer = dict(writer)
        config = writer.pop("WriterConfig", None)
        if config is not None and (
            "Resource" not in writer
            or (config.get("Transformation", "NONE"), config.get("OutputType", "JSON")) != ("NONE", "JSON")
        ):
            raise DefinitionNotEmulatedError(
                f"state {path[-1]!r}: ResultWriter.WriterConfig is emulated offline with Resource and "
                "Transformation NONE, OutputType JSON only (the files AWS writes otherwise are not documented)"
            )
        # Without a Resource (or in JSONPath) moto's grammar refuses it, as AWS does.
        if language == "JSONata" and "Arguments" in writer and isinstance(writer.get("Resource"), str):
            aside.setdefault(path, SetAside()).result_writer = writer
            return None
        return writer

    def processor(declaration: Any, path: tuple[str, ...]) -> Any:
        config = declaration.get("ProcessorConfig") if isinstance(declaration, dict) else None
        if not isinstance(config, dict) or config.get("ExecutionType") != "EXPRESS":
            return declaration
        aside.setdefault(path, SetAside()).execution_type = "EXPRESS"
        return {**declaration, "ProcessorConfig": {**config, "ExecutionType": "STANDARD"}}

    return scope(document, (), "JSONPath"), aside


def _map_state_at(program: Any, path: tuple[str, ...]) -> Any:
    states = program.states.states
    target: Any = None
    for position, name in enumerate(path):
        if target is not None and hasattr(target, "branches"):
            states = target.branches.programs[int(name)].states.states
            continue
        target = states[name]
        if position < len(path) - 1 and hasattr(target, "iteration_component"):
            states = target.iteration_component._states.states
    return target


def _attach(program: Any, aside: dict[tuple[str, ...], SetAside]) -> None:
    """Give each Map state at a path what was set aside for it."""
    for path, fields in aside.items():
        target = _map_state_at(program, path)
        setattr(target.iteration_component, _ASIDE_ATTRIBUTE, fields)
        if fields.result_writer is not None:
            target.result_writer = jsonata_result_writer(fields.result_writer)


def jsonata_result_writer(writer: dict[str, Any]) -> Any:
    """moto's ``ResultWriter`` with JSONata ``Arguments``: the grammar takes them on a Task state, whose parsed
    ``Arguments`` the ResultWriter evaluates the same way (``parargs.eval``, then its S3 resource)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (  # noqa: PLC0415
        ResultWriter,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: PLC0415
        Resource,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415

    # Any Task resource the grammar knows carries the Arguments; only its parsed Arguments are kept.
    task = {"Type": "Task", "Resource": _ARGUMENTS_CARRIER, "Arguments": writer["Arguments"], "End": True}
    program, _ = AmazonStateLanguageParser.parse(
        json.dumps({"QueryLanguage": "JSONata", "StartAt": "Write", "States": {"Write": task}})
    )
    arguments = program.states.states["Write"].parargs
    return ResultWriter(resource=Resource.from_resource_arn(writer["Resource"]), parargs=arguments)


def child_execution_type(map_run_record: Any) -> str:
    """The ``ProcessorConfig.ExecutionType`` of the Map Run's child workflows (``STANDARD`` or ``EXPRESS``)."""
    return str(getattr(map_run_record, _EXECUTION_TYPE_ATTRIBUTE, "STANDARD"))


def patch_definition_grammar() -> None:
    """Rewrite each definition text before moto's parser sees it (see :func:`rewrite_definition`); a JSONata
    ``ToleratedFailureCount`` is parsed as a count (``Preprocessor.visitTolerated_failure_count_string_jsonata``
    built a percentage)."""
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (  # noqa: PLC0415
        PayloadBinding,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: PLC0415
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (  # noqa: PLC0415
        ToleratedFailureCountStringJSONata,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor  # noqa: PLC0415

    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> tuple[Any, Any]:
        try:
            document = json.loads(definition)
        except ValueError:
            return original_parse(definition)
        rewritten, aside = rewrite_definition(document)
        text = json.dumps(rewritten)
        # Compared as text: 50 == 50.0 in Python, not in the grammar.
        program, tree = original_parse(text if text != json.dumps(document) else definition)
        _attach(program, aside)
        return program, tree

    AmazonStateLanguageParser.parse = staticmethod(parse)

    original_binding_init = PayloadBinding.__init__

    def binding_init(self: Any, field: str) -> None:
        original_binding_init(self, "RoleArn" if field == _ROLE_ARN_ALIAS else field)

    PayloadBinding.__init__ = binding_init

    def visit_tolerated_failure_count_jsonata(self: Any, ctx: Any) -> Any:
        return ToleratedFailureCountStringJSONata(string_jsonata=self.visitString_jsonata(ctx=ctx.string_jsonata()))

    Preprocessor.visitTolerated_failure_count_string_jsonata = visit_tolerated_failure_count_jsonata

    original_map_run = DistributedIterationComponent._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        fields: SetAside = getattr(self, _ASIDE_ATTRIBUTE, None) or SetAside()
        setattr(eval_input.map_run_record, _EXECUTION_TYPE_ATTRIBUTE, fields.execution_type)
        if fields.item_batcher is not None:
            env.stack.append(batched(env.stack.pop(), fields.item_batcher, env.states.get_input()))
        original_map_run(self, env=env, eval_input=eval_input)

    DistributedIterationComponent._map_run = _map_run


def batched(items: list[Any], batcher: dict[str, Any], state_input: Any) -> list[dict[str, Any]]:
    """The child inputs an ItemBatcher makes: ``{"Items": [...]}`` (plus ``"BatchInput"`` when set), at most
    ``MaxItemsPerBatch`` items and ``MaxInputBytesPerBatch`` bytes (default 256 KiB) each."""
    # moto's own module: the engine has replaced its extract_json with AWS's semantics (moto_engine's touch point).
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json  # noqa: PLC0415

    def value(key: str, default: Any) -> Any:
        if f"{key}Path" in batcher:
            return extract_json(batcher[f"{key}Path"], state_input)
        return batcher.get(key, default)

    max_items = int(value("MaxItemsPerBatch", 0)) or len(items) or 1
    max_bytes = int(value("MaxInputBytesPerBatch", INPUT_LIMIT_BYTES))
    batch_input = batcher.get("BatchInput")
    batches: list[dict[str, Any]] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item).encode("utf-8"))
        if current and (len(current) >= max_items or size + item_size > max_bytes):
            batches.append(_batch(current, batch_input))
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(_batch(current, batch_input))
    return batches


def _batch(items: list[Any], batch_input: Any) -> dict[str, Any]:
    return {"BatchInput": batch_input, "Items": items} if batch_input is not None else {"Items": items}


__all__: Final[list[str]] = [
    "CAUSE_LIMIT",
    "HISTORY_LIMIT",
    "INPUT_LIMIT_BYTES",
    "DefinitionNotEmulatedError",
    "QueryEvaluationError",
    "install",
]


# --- callbacks ---------------------------------------------------------------------------------------------------


def patch_callback_attempts() -> None:
    """A fresh task token per retry attempt; heartbeat timeouts named as AWS names them."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (  # noqa: PLC0415
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: PLC0415
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: PLC0415
        ResourceCondition,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: PLC0415
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: PLC0415

    original_evaluate = StateTaskServiceCallback._evaluate_with_timeout

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        state = env.states.context_object.context_object_data.get("State") or {}
        if (
            int(state.get("RetryCount", 0)) > 0
            and self._is_integration_pattern()
            and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
        ):
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        original_evaluate(self, env)

    StateTaskServiceCallback._evaluate_with_timeout = _evaluate_with_timeout

    heartbeat = StatesErrorNameType.StatesHeartbeatTimeout
    original_from_error = StateTask._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, HeartbeatTimeoutError):
            return FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=heartbeat),
                event_type=HistoryEventType.TaskTimedOut,
                event_details=EventDetails(
                    taskTimedOutEventDetails=TaskTimedOutEventDetails(
                        error=heartbeat.to_name(),
                        cause=f"The task did not send a heartbeat within HeartbeatSeconds (state {self.name!r})",
                    )
                ),
            )
        return original_from_error(self, env, ex)

    StateTask._from_error = _from_error

    from moto.stepfunctions.responses import StepFunctionResponse  # noqa: PLC0415

    def send_task_failure(self: Any) -> Any:
        from moto.core.responses import EmptyResult  # noqa: PLC0415

        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure
