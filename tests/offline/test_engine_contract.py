"""What tools/offline/moto_engine.py assumes about moto's internals, one test per touch point.

When one of these fails after a moto upgrade, the named touch point must be re-read against the new engine before
anything else in the offline runner can be trusted.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import Any

import pytest

from tools.offline import moto_engine

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
        "moto changed: re-read every touch point in tools/offline/moto_engine.py, then update EXPECTED_MOTO_VERSION"
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
