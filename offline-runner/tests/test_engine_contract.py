"""What sfn_offline/moto_engine.py assumes about moto's internals, one test per touch point.

When one of these fails after a moto upgrade, the named touch point must be re-read against the new engine before
anything else in the offline runner can be trusted.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import Any

import pytest

from sfn_offline import moto_engine

PARSER = "moto.stepfunctions.parser.asl"
TASK_SERVICES = f"{PARSER}.component.state.exec.state_task.service"


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - only on a moto that moved its modules
        pytest.fail(f"moto moved or removed {name}: {exc}")


def _source(module_name: str) -> str:
    return inspect.getsource(_module(module_name))


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_moto_is_the_version_the_touch_points_were_written_for() -> None:
    assert version("moto") == moto_engine.EXPECTED_MOTO_VERSION, (
        "moto changed: re-read every touch point in sfn_offline/moto_engine.py, then update EXPECTED_MOTO_VERSION"
    )


def test_task_service_factory_is_looked_up_by_name_in_state_task_factory() -> None:
    # patch_task_service_factory replaces the name state_task_factory imported from the service factory module.
    factory = _module(f"{TASK_SERVICES}.state_task_service_factory")
    assert _params(factory.state_task_service_for) == ["service_name"], "state_task_service_for signature changed"
    source = _source(f"{PARSER}.component.state.exec.state_task.state_task_factory")
    assert "import (\n    state_task_service_for,\n)" in source or "state_task_service_for," in source, (
        "state_task_factory no longer imports state_task_service_for by name: patch_task_service_factory is void"
    )
    assert "state_task_service_for(service_name=resource.service_name)" in source, "the factory call changed"


def test_callback_base_class_has_what_the_bedrock_service_overrides() -> None:
    callback = _module(f"{TASK_SERVICES}.state_task_service_callback").StateTaskServiceCallback
    resource = _module(f"{TASK_SERVICES}.resource")
    assert _params(callback.__init__) == ["self", "supported_integration_patterns"]
    for method, params in {
        "_get_supported_parameters": ["self"],
        "_from_error": ["self", "env", "ex"],
        "_eval_service_task": ["self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"],
        "_build_sync_resolver": ["self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"],
        "_get_sfn_resource": ["self"],
        "_get_sfn_resource_type": ["self"],
    }.items():
        assert hasattr(callback, method), f"StateTaskServiceCallback.{method} is gone"
        assert _params(getattr(callback, method)) == params, f"StateTaskServiceCallback.{method} signature changed"
    assert hasattr(resource.ResourceCondition, "WaitForTaskToken"), "ResourceCondition.WaitForTaskToken is gone"
    assert hasattr(resource.ResourceCondition, "Sync"), "ResourceCondition.Sync is gone"
    # The reason WaitForTaskToken must be listed among supported patterns: the finally block calls it unconditionally.
    assert "callback_endpoint.interrupt_all()" in _source(f"{TASK_SERVICES}.state_task_service_callback")


def test_aws_sdk_service_has_what_the_bedrock_routing_overrides() -> None:
    aws_sdk = _module(f"{TASK_SERVICES}.state_task_service_aws_sdk").StateTaskServiceAwsSdk
    for method in ("_normalise_parameters", "_normalise_response", "_eval_service_task", "_from_error"):
        assert hasattr(aws_sdk, method), f"StateTaskServiceAwsSdk.{method} is gone"
    boto_client = _module(f"{PARSER}.utils.boto_client")
    assert _params(boto_client.boto_client_for) == ["region", "service", "state_credentials"]


def test_context_object_state_carries_name_and_retry_count() -> None:
    states = _module(f"{PARSER}.eval.states")
    assert {"Name", "RetryCount"} <= set(states.StateData.__annotations__), "StateData lost Name or RetryCount"
    assert 'context_object_data["State"]["RetryCount"]' in _source(f"{PARSER}.component.state.exec.execute_state")


def test_extract_json_lives_in_json_path_and_is_imported_by_name() -> None:
    json_path = _module(f"{PARSER}.utils.json_path")
    assert hasattr(json_path, "extract_json"), "json_path.extract_json is gone"
    assert _params(json_path.NoSuchJsonPathError.__init__) == ["self", "json_path", "data"]
    assert "from moto.stepfunctions.parser.asl.utils.json_path import extract_json" in _source(f"{PARSER}.eval.states")
    # After install, no loaded engine module may still hold moto's original.
    moto_engine.install()
    import sys

    stale = [
        name
        for name, module in sys.modules.items()
        if name.startswith("moto.stepfunctions.parser")
        and getattr(module, "extract_json", moto_engine.extract_json) is not moto_engine.extract_json
    ]
    assert stale == [], f"modules still using moto's extract_json: {stale}"


def test_choice_reports_no_match_with_the_message_the_patch_recognises() -> None:
    choice = _module(f"{PARSER}.component.state.choice.state_choice")
    assert "No branching option reached" in inspect.getsource(choice), "StateChoice's no-match RuntimeError changed"
    assert hasattr(choice.StateChoice, "_eval_state")
    names = _module(f"{PARSER}.component.common.error_name.states_error_name_type")
    assert names.StatesErrorNameType.StatesNoChoiceMatched.to_name() == "States.NoChoiceMatched"


def test_describe_execution_response_is_an_action_result() -> None:
    responses = _module("moto.stepfunctions.responses")
    source = inspect.getsource(responses)
    assert "if isinstance(execution.output, str):" in source, "moto changed how describe_execution encodes output"
    assert hasattr(_module("moto.core.responses").ActionResult, "result")


def test_sleeps_go_through_module_level_time() -> None:
    for name in (f"{PARSER}.component.common.retry.retrier_decl", f"{TASK_SERVICES}.state_task_service_callback"):
        assert "time.sleep(" in _source(name), f"{name} no longer sleeps through its module-level time"
    wait = _module(f"{PARSER}.component.state.wait.wait_function.wait_function").WaitFunction
    assert "_wait_interval(env=env, wait_seconds=w_sec)" in inspect.getsource(_module(wait.__module__))
    assert "env.program_state_event.wait" in inspect.getsource(_module(wait.__module__))


def test_moto_stubs_botocore_with_a_generic_before_send_handler() -> None:
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.botocore_stubber import MockRawResponse
    from moto.core.models import botocore_stubber

    assert ("before-send", botocore_stubber) in BUILTIN_HANDLERS, "moto no longer stubs through BUILTIN_HANDLERS"
    assert MockRawResponse(b"x").read() == b"x"
    assert hasattr(botocore_stubber, "enabled"), "engine.run_definition detects an active mock through .enabled"


def test_jsonata_evaluation_goes_through_a_module_global() -> None:
    jsonata = _module(f"{PARSER}.jsonata.jsonata")
    assert "_eval_jsonata" in vars(jsonata), "moto's JSONata hook global is gone"
    assert "return _eval_jsonata(jsonata_expression)" in inspect.getsource(jsonata.eval_jsonata_expression)


def test_jsonata_hash_is_a_placeholder_declaration_moto_prepends() -> None:
    # install_jsonata: moto declares $hash as a function returning "not supported", prepended to every expression
    # that mentions it; the runner drops that entry from the table so the function it registers answers.
    source = inspect.getsource(_module(f"{PARSER}.component.intrinsic.jsonata"))
    assert "_DECLARATION_BY_VARIABLE_REFERENCE" in source
    assert "Function $hash is currently not supported" in source


def test_item_reader_input_type_and_transformer_factory_are_patchable() -> None:
    # patch_item_reader_jsonl: InputType validates through the enum in __init__, and item_reader_decl imported the
    # transformer factory by name and calls it with input_type=.
    reader = f"{PARSER}.component.state.exec.state_map.item_reader"
    input_type = _module(f"{reader}.reader_config.input_type")
    # Read the module text: after install() the attributes are the patched ones.
    assert "def __init__(self, input_type: str):" in _source(input_type.__name__)
    assert "self.input_type_value = InputTypeValue(input_type)" in _source(input_type.__name__)
    decl_source = _source(f"{reader}.item_reader_decl")
    assert "resource_output_transformer_for(\n                input_type=self.reader_config.input_type" in decl_source
    assert "env.stack.append(resource_config)" in decl_source, "the transformer no longer pops (config, text)"
    assert 'reader_config["MaxItemsValue"]' in _source(f"{reader}.eval.resource_output_transformer.transformer_json")


def test_distributed_map_workers_and_map_run_are_patchable() -> None:
    # patch_distributed_map_runs: both workers evaluate one job in _eval_job(env, job) and keep the map run record;
    # _map_run(env, eval_input) runs every job; the Map Run's failures reach the state through FailureEventException.
    iteration = f"{PARSER}.component.state.exec.state_map.iteration"
    for module, name in (
        (f"{iteration}.itemprocessor.distributed_item_processor_worker", "DistributedItemProcessorWorker"),
        (f"{iteration}.iterator.distributed_iterator_worker", "DistributedIteratorWorker"),
    ):
        assert hasattr(_module(module), name), f"{name} is gone"
        signature = "def _eval_job(self, env: Environment, job: Job) -> None:"
        assert signature in _source(module), f"{name}._eval_job changed"
        assert "self._map_run_record" in _source(module)
        assert "job.job_output = job_output" in _source(module)
        assert "self._eval_input(env_frame=env)" in _source(module), f"{name} selects the child input elsewhere"
    selection = _source(f"{iteration}.itemprocessor.inline_item_processor_worker")
    assert "def _eval_input(self, env_frame: Environment) -> None:" in selection
    assert "env_frame.states.reset(input_value=output_value)" in selection
    component = _module(f"{iteration}.distributed_iteration_component").DistributedIterationComponent
    assert _params(component._map_run) == ["self", "env", "eval_input"]
    assert "except FailureEventException as failure_event_ex:" in inspect.getsource(component._eval_body)
    program_state = _module(f"{PARSER}.eval.program_state")
    for name in ("ProgramEnded", "ProgramError", "ProgramStopped", "ProgramTimedOut"):
        assert hasattr(program_state, name), f"program_state.{name} is gone"
    assert "tolerated_failure_count" in _source(f"{iteration}.itemprocessor.map_run_record")
    names = _module(f"{PARSER}.component.common.error_name.states_error_name_type")
    assert (
        names.StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
        == "States.ExceedToleratedFailureThreshold"
    )


def test_result_writer_resolves_put_object_by_reflection() -> None:
    # patch_result_writer replaces the static _handle_put_object that _get_api_action_handler finds by name.
    module = f"{PARSER}.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3"
    source = _source(module)
    assert '_HANDLER_REFLECTION_PREFIX: Final[str] = "_handle_"' in source
    assert "resolver_handler(env, resource_runtime_part, state_credentials)" in source
    assert "env.map_run_record_pool_manager.get_all().pop()" in source
    assert "self.result_writer.eval(env)" in _source(f"{PARSER}.component.state.exec.state_map.state_map")


def test_aws_sdk_service_calls_boto3_with_the_normalised_parameters() -> None:
    # patch_s3_sdk_bodies wraps _eval_service_task, which calls the boto3 action with **normalised_parameters and
    # pushes the response.
    source = _source(f"{TASK_SERVICES}.state_task_service_aws_sdk").split("def _eval_service_task")[1]
    assert source.split(")")[0].split() == [
        "(",
        "self,",
        "env:",
        "Environment,",
        "resource_runtime_part:",
        "ResourceRuntimePart,",
        "normalised_parameters:",
        "dict,",
        "state_credentials:",
        "StateCredentials,",
    ]
    assert "(**normalised_parameters)" in source
    assert "env.stack.append(response)" in source


def test_lambda_tasks_map_errors_in_from_error() -> None:
    # patch_lambda_timeout: an exception raised by the botocore Invoke call reaches _from_error(env, ex) unwrapped.
    service = _module(f"{TASK_SERVICES}.state_task_service_lambda").StateTaskServiceLambda
    legacy = _module(f"{PARSER}.component.state.exec.state_task.state_task_lambda").StateTaskLambda
    for cls in (service, legacy):
        assert _params(cls._from_error) == ["self", "env", "ex"], f"{cls.__name__}._from_error signature changed"
    utils = _source(f"{PARSER}.component.state.exec.state_task.lambda_eval_utils")
    assert "except" not in utils.split("def _invoke_lambda_function")[1].split("def exec_lambda_function")[0]
    api = _module("moto.stepfunctions.parser.api")
    for name in ("TaskTimedOutEventDetails", "LambdaFunctionTimedOutEventDetails"):
        assert hasattr(api, name), f"moto.stepfunctions.parser.api.{name} is gone"


def test_start_sync_execution_is_missing_from_moto_and_named_sfn_in_botocore() -> None:
    # start_sync_execution_hook answers the API; if moto grows its own, compare before dropping the hook.
    assert not hasattr(_module("moto.stepfunctions.responses").StepFunctionResponse, "start_sync_execution")
    import botocore.session

    model = botocore.session.get_session().get_service_model("stepfunctions")
    assert model.service_id.hyphenize() == "sfn", "the before-send.sfn.StartSyncExecution event name changed"
    assert model.protocol == "json", "the hook answers in awsJson 1.0"
    assert "StartSyncExecution" in model.operation_names


def test_execution_names_are_checked_by_the_state_machine_with_its_type_in_type() -> None:
    # patch_express_execution_names wraps the check and reads the machine's type from ``type``.
    state_machine = _module("moto.stepfunctions.models").StateMachine
    assert _params(state_machine._handle_name_input_idempotency) == ["self", "name", "execution_input"]
    assert 'self.type = sm_type or "STANDARD"' in inspect.getsource(_module("moto.stepfunctions.models"))
    assert "state_machine._handle_name_input_idempotency(" in _source("moto.stepfunctions.parser.models")


def test_sfn_task_normalisation_is_stubbed_and_its_helpers_exist() -> None:
    # patch_sfn_task_normalisation fills the stubs for states:startExecution with the base class's own helpers.
    base = _module(f"{TASK_SERVICES}.state_task_service").StateTaskService
    sfn = _module(f"{TASK_SERVICES}.state_task_service_sfn")
    for method in ("_normalise_parameters", "_normalise_response"):
        source = inspect.getsource(getattr(base, method))
        assert source.rstrip().endswith("pass"), f"StateTaskService.{method} is no longer a stub: re-check the patch"
    assert _params(base._to_boto_request) == ["self", "parameters", "structure_shape"]
    assert _params(base._from_boto_response) == ["self", "response", "structure_shape"]
    source = inspect.getsource(sfn)
    assert "super()._normalise_parameters(" in source
    assert 'submission_output["ExecutionArn"]' in source, "the .sync resolvers read the normalised response"
    assert 'service_action_name="describe_execution"' in source
