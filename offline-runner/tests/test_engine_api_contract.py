"""What the observation and speed touch points of sfn_offline/moto_engine.py assume about moto's internals.

Checked on moto's module source (install() replaces the attributes themselves), one test per touch point.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

PARSER = "moto.stepfunctions.parser"
ASL = f"{PARSER}.asl"
COMPONENT = f"{ASL}.component"


def _source(module_name: str) -> str:
    try:
        return inspect.getsource(importlib.import_module(module_name))
    except ImportError as exc:  # pragma: no cover - only on a moto that moved its modules
        pytest.fail(f"moto moved or removed {module_name}: {exc}")


def _module(name: str) -> Any:
    return importlib.import_module(name)


def test_parse_cache_wraps_the_one_parse_entry_point() -> None:
    # patch_parse_cache: create_state_machine and every execution parse through AmazonStateLanguageParser.parse.
    assert "    def parse(definition: str) -> tuple[EvalComponent, ParserRuleContext]:" in _source(
        f"{ASL}.parse.asl_parser"
    )
    assert "AmazonStateLanguageParser.parse(definition)" in _source(f"{PARSER}.models")
    assert "return AmazonStateLanguageParser.parse(" in _source(f"{PARSER}.backend.execution_worker")
    # The TestState parser has its own parse and is left alone.
    assert "    def parse(definition: str)" in _source(f"{ASL}.parse.test_state.asl_parser")


def test_boto_client_for_is_imported_by_name_and_builds_a_client_per_call() -> None:
    # patch_boto_client_cache replaces the name in every module that imported it.
    source = _source(f"{ASL}.utils.boto_client")
    assert "def boto_client_for(\n    region: str, service: str, state_credentials: Any = None\n)" in source
    assert "return boto3.client(" in source
    import_line = "from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for"
    assert import_line in _source(f"{COMPONENT}.state.exec.state_task.lambda_eval_utils")
    assert import_line in _source(f"{COMPONENT}.state.exec.state_task.service.state_task_service_aws_sdk")


def test_history_events_are_published_under_the_managers_lock() -> None:
    # hook_execution_events relies on _publish_history_event appending to _history_event_list under _mutex.
    source = _source(f"{ASL}.eval.event.event_manager")
    assert "with self._mutex:" in source
    assert "self._publish_history_event(" in source
    assert "self._history_event_list.append(history_event)" in source
    assert 'history_event["timestamp"] = timestamp' in source
    assert "timestamp = iso_8601_datetime_with_milliseconds(timestamp)" in source


def test_execution_end_and_root_environment_are_where_the_hooks_expect() -> None:
    execution = _source(f"{PARSER}.backend.execution")
    assert "    def terminated(self) -> None:\n        self._reflect_execution_status()" in execution
    worker = _source(f"{PARSER}.backend.execution_worker")
    assert "self.env = self._get_evaluation_environment()" in worker
    assert "Id=self._evaluation_details.execution_details.arn" in worker
    assert "self._execution_communication.terminated()" in worker


def test_mocked_mode_is_asked_of_the_environment_by_every_task_kind() -> None:
    # patch_mocked_responses replaces these two Environment methods; moto's tasks do the rest.
    environment = _module(f"{ASL}.eval.environment").Environment
    assert callable(environment.is_mocked_mode)
    assert callable(environment.get_current_mocked_response)
    service = _source(f"{COMPONENT}.state.exec.state_task.service.state_task_service")
    assert "if env.is_mocked_mode():" in service
    assert "mocked_response: MockedResponse = env.get_current_mocked_response()" in service
    lambda_utils = _source(f"{COMPONENT}.state.exec.state_task.lambda_eval_utils")
    assert "if env.is_mocked_mode():" in lambda_utils
    mocks = _module(f"{PARSER}.mocking.mock_config")
    assert list(inspect.signature(mocks.MockedResponseReturn.__init__).parameters) == [
        "self",
        "range_start",
        "range_end",
        "payload",
    ]
    assert list(inspect.signature(mocks.MockedResponseThrow.__init__).parameters) == [
        "self",
        "range_start",
        "range_end",
        "error",
        "cause",
    ]
    # An error set on the root environment ends the program with ExecutionFailed.
    program = _source(f"{COMPONENT}.program.program")
    assert "if isinstance(program_state, ProgramError):" in program


def test_trace_points_exist_with_the_shapes_hooked() -> None:
    execute_state = _source(f"{COMPONENT}.state.exec.execute_state")
    assert (
        "    def _handle_retry(\n        self, env: Environment, failure_event: FailureEvent\n    ) -> RetryOutcome:"
        in (execute_state)
    )
    assert "    def _handle_catch(self, env: Environment, failure_event: FailureEvent) -> None:" in execute_state
    assert "catch_outcome: CatchOutcome = env.stack[-1]" in execute_state
    assert "frame: Environment = env.open_frame()" in execute_state
    state = _source(f"{COMPONENT}.state.state")
    assert "    def _eval_body(self, env: Environment) -> None:" in state
    assert "self._eval_state_input(env=env)" in state
    environment = _source(f"{ASL}.eval.environment")
    assert "return Environment.as_inner_frame_of(" in environment
    assert "    @classmethod\n    def as_inner_frame_of(" in environment
    for module, cls in (
        (f"{COMPONENT}.common.path.input_path", "InputPath"),
        (f"{COMPONENT}.common.parargs", "Parargs"),
        (f"{COMPONENT}.state.state_pass.result", "Result"),
        (f"{COMPONENT}.common.result_selector", "ResultSelector"),
        (f"{COMPONENT}.common.path.result_path", "ResultPath"),
    ):
        assert f"class {cls}(" in _source(module)
        assert "    def _eval_body(self, env: Environment) -> None:" in _source(module), f"{cls}._eval_body changed"
