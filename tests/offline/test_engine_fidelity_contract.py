"""What tools/offline/moto_fidelity.py assumes about moto's internals, one test per touch point.

When one fails after a moto upgrade, re-read that touch point against the new engine first.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

PARSER = "moto.stepfunctions.parser.asl"
STATE_EXEC = f"{PARSER}.component.state.exec"


def _module(name: str) -> Any:
    return importlib.import_module(name)


def _source(name: str) -> str:
    return inspect.getsource(_module(name))


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_child_failures_rebuild_their_error_name_with_custom_error_name_by_module_name() -> None:
    # patch_states_error_names replaces the CustomErrorName these modules imported by name.
    for name in (
        f"{STATE_EXEC}.state_parallel.branches_decl",
        f"{STATE_EXEC}.state_map.iteration.iteration_worker",
        f"{STATE_EXEC}.state_task.mock_eval_utils",
    ):
        assert "CustomErrorName(" in _source(name), f"{name} no longer builds a CustomErrorName"
        assert hasattr(_module(name), "CustomErrorName")


def test_error_equals_pops_the_error_name_and_pushes_a_bool() -> None:
    # patch_uncatchable_errors answers False itself for States.Runtime, in the same stack protocol.
    source = _source(f"{PARSER}.component.common.error_name.error_equals_decl")
    assert "error_name: ErrorName = env.stack.pop()" in source
    assert "env.stack.append(res)" in source
    names = _module(f"{PARSER}.component.common.error_name.states_error_name_type").StatesErrorNameType
    assert hasattr(names, "StatesRuntime")
    assert hasattr(names, "StatesStatesDataLimitExceeded")
    assert hasattr(names, "StatesQueryEvaluationError")


def test_execution_states_map_exceptions_in_from_error() -> None:
    # patch_service_error_names wraps ExecutionState._from_error (the States.Runtime fallback) and the state body.
    # (Module sources, not the classes: the touch points may already be installed in this process.)
    source = _source(f"{STATE_EXEC}.execute_state")
    assert "def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:" in source
    assert "StatesErrorNameType.StatesRuntime" in source
    assert "self._from_error(env=env, ex=ex)" in source
    assert "def _eval_body(self, env: Environment) -> None:" in _source(f"{PARSER}.component.state.state")


def test_failure_events_and_environments_carry_the_cause() -> None:
    # patch_cause_limit caps the cause in FailureEvent's event details and in Environment.set_error.
    failure = _module(f"{PARSER}.component.common.error_name.failure_event").FailureEvent
    assert _params(failure.__init__) == ["self", "env", "error_name", "event_type", "event_details"]
    environment = _module(f"{PARSER}.eval.environment").Environment
    assert _params(environment.set_error) == ["self", "error"]


def test_history_events_are_kept_in_a_list_the_worker_builds_the_environment() -> None:
    # patch_history_limit counts _history_event_list and finds the machine type through the communication object.
    manager = _module(f"{PARSER}.eval.event.event_manager").EventManager
    assert "self._history_event_list" in inspect.getsource(manager)
    worker = _module("moto.stepfunctions.parser.backend.execution_worker").ExecutionWorker
    assert "self._execution_communication = exec_comm" in inspect.getsource(worker.__init__)
    assert "self.execution" in _source("moto.stepfunctions.parser.backend.execution")
    environment = _module(f"{PARSER}.eval.environment").Environment
    assert hasattr(environment, "is_running")


def test_start_execution_takes_the_input_as_execution_input() -> None:
    # patch_execution_input_quota reads the input by that name (or its position).
    source = _source("moto.stepfunctions.parser.models")
    assert (
        "def start_execution(\n        self,\n        state_machine_arn: str,\n        name: Name = None,\n" in source
    )
    assert "        execution_input: SensitiveData = None," in source


def test_states_format_evaluates_its_arguments_to_one_list() -> None:
    # patch_string_format replaces StringFormat._eval_body; the argument list leaves one list on the stack.
    name = f"{PARSER}.component.intrinsic.function.statesfunction.generic.string_format"
    source = _source(name)
    assert "args = env.stack.pop()" in source
    assert "string_format.format(" in source, "moto stopped using str.format: re-check patch_string_format"
    assert hasattr(_module(name).StringFormat, "_to_str_repr")


def test_the_parser_and_the_map_run_have_the_shape_the_grammar_patch_uses() -> None:
    # patch_definition_grammar wraps parse, PayloadBinding.__init__ and DistributedIterationComponent._map_run.
    parser = _module(f"{PARSER}.parse.asl_parser").AmazonStateLanguageParser
    assert _params(parser.parse) == ["definition"]
    binding = _module(f"{PARSER}.component.common.payload.payloadvalue.payloadbinding.payload_binding")
    assert _params(binding.PayloadBinding.__init__) == ["self", "field"]
    source = _source(f"{STATE_EXEC}.state_map.iteration.distributed_iteration_component")
    assert "input_items: list[json] = env.stack.pop()" in source
    state_map = _module(f"{STATE_EXEC}.state_map.state_map").StateMap
    assert "self.iteration_component" in inspect.getsource(state_map)


def test_a_jsonata_result_writer_can_be_rebuilt_from_a_task_states_arguments() -> None:
    # patch_definition_grammar / jsonata_result_writer: the grammar's ResultWriter takes Resource and Parameters
    # only, so a JSONata one is built as ResultWriter(resource, parargs) from a Task state's parsed Arguments and
    # set on the StateMap's result_writer, which _eval_execution evaluates after the map run.
    writer = _module(f"{STATE_EXEC}.state_map.result_writer.result_writer_decl").ResultWriter
    assert _params(writer.__init__) == ["self", "resource", "parargs"]
    assert "self.parargs.eval(env=env)" in inspect.getsource(writer._eval_body)
    preprocessor = _source(f"{PARSER}.parse.preprocessor")
    assert "return ResultWriter(resource=resource, parargs=parargs)" in preprocessor
    assert "self.parargs = state_props.get(Parargs)" in _source(f"{STATE_EXEC}.state_task.state_task")
    resource = _module(f"{STATE_EXEC}.state_task.service.resource").Resource
    assert _params(resource.from_resource_arn) == ["arn"]
    state_map = inspect.getsource(_module(f"{STATE_EXEC}.state_map.state_map").StateMap)
    assert "self.result_writer = state_props.get(ResultWriter)" in state_map
    assert "if self.result_writer:\n            self.result_writer.eval(env)" in state_map


def test_a_jsonata_tolerated_failure_count_is_parsed_as_a_percentage_by_moto() -> None:
    # patch_definition_grammar replaces this visitor: moto returns a percentage declaration for a count.
    # Read from the module's text: once installed, the class holds the replacement.
    source = _source(f"{PARSER}.parse.preprocessor")
    visitor = source[source.index("def visitTolerated_failure_count_string_jsonata") :]
    visitor = visitor[: visitor.index("\n    def ")]
    assert "return ToleratedFailurePercentageStringJSONata(string_jsonata=string_jsonata)" in visitor
    tolerated = _module(f"{STATE_EXEC}.state_map.tolerated_failure")
    assert _params(tolerated.ToleratedFailureCountStringJSONata.__init__) == ["self", "string_jsonata"]
    assert issubclass(tolerated.ToleratedFailureCountStringJSONata, tolerated.ToleratedFailureCountDecl)


def test_express_children_have_a_frame_that_can_time_out_and_a_map_run_record() -> None:
    # patch_distributed_map_runs: an EXPRESS child's job frame gets limit_duration (Environment.set_timed_out); the
    # execution type travels on the map run record that _map_run's eval_input carries to the workers.
    environment = _module(f"{PARSER}.eval.environment").Environment
    assert _params(environment.set_timed_out) == ["self"]
    iteration = f"{STATE_EXEC}.state_map.iteration"
    assert "map_run_record: MapRunRecord" in _source(f"{iteration}.distributed_iteration_component")
    processor_config = _source(f"{iteration}.itemprocessor.processor_config")
    assert "DEFAULT_EXECUTION_TYPE: Final[ExecutionType] = ExecutionType.Standard" in processor_config


def test_distributed_children_get_an_inner_scope_of_the_parents_variables() -> None:
    # patch_child_workflow_variables replaces the job frame's store after the workers' _eval_input (which evaluates
    # the ItemSelector in that frame); open_inner_frame gives the frame an inner scope of the parent's store.
    environment = _source(f"{PARSER}.eval.environment")
    assert "variable_store = VariableStore.as_inner_scope_of(" in environment
    assert "self.variable_store = variable_store or VariableStore()" in environment
    iteration = f"{STATE_EXEC}.state_map.iteration"
    worker = _source(f"{iteration}.itemprocessor.distributed_item_processor_worker")
    assert "job_frame = worker_frame.open_inner_frame()" in worker
    assert "self._eval_input(env_frame=env)" in worker
    assert _params(_module(f"{PARSER}.eval.variable_store").VariableStore.__init__) == ["self"]


def test_callback_tasks_evaluate_each_attempt_and_time_out_heartbeats_by_their_own_error() -> None:
    # patch_callback_attempts: a token per attempt, HeartbeatTimeoutError named, send_task_failure's cause.
    source = _source(f"{STATE_EXEC}.state_task.service.state_task_service_callback")
    assert "callback_endpoint.interrupt_all()" in source
    assert "task_token = env.states.context_object.update_task_token()" in source
    assert "def _evaluate_with_timeout" in _source(f"{STATE_EXEC}.execute_state")
    errors = _module(f"{PARSER}.eval.callback.callback")
    assert issubclass(errors.HeartbeatTimeoutError, TimeoutError)
    responses = _source("moto.stepfunctions.responses")
    failure = responses[responses.index("def send_task_failure") : responses.index("def send_task_heartbeat")]
    assert "cause" not in failure, "moto passes the cause now: drop the patch"


def test_aws_sdk_parameters_are_not_normalised_by_moto() -> None:
    # moto_engine's AwsSdkTaskService converts camelCase SDKs itself with the base class's converters.
    service = _module(f"{STATE_EXEC}.state_task.service.state_task_service")
    source = inspect.getsource(service.StateTaskService._normalise_parameters)
    assert source.rstrip().endswith("pass"), "moto normalises aws-sdk parameters now: re-check the aws-sdk casing"
    assert _params(service.StateTaskService._to_boto_request) == ["self", "parameters", "structure_shape"]
    assert _params(service.StateTaskService._from_boto_response) == ["self", "response", "structure_shape"]
