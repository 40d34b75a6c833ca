"""Loading a template's functions in-process: isolation, environment, timeouts and errors."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.functions import load_function
from sfn_offline.lambda_api import FunctionTimeoutError, LocalLambdaContext
from sfn_offline.template import Template, TemplateError, load_template

FUNCTIONS = Path(__file__).resolve().parent / "fixtures" / "functions" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(FUNCTIONS)


def test_two_functions_with_app_py_each_run_their_own_code(template: Template) -> None:
    # Given two functions whose handlers are both app.handler, in different folders
    alpha = load_function(template.functions["AlphaFunction"])
    beta = load_function(template.functions["BetaFunction"])

    # When calling each
    from_alpha = alpha({}, None)
    from_beta = beta({}, None)

    # Then each runs its own module, sees its own environment merged over Globals, and imports the shared layer
    assert (from_alpha["who"], from_alpha["greeting"], from_alpha["shared"]) == ("alpha", "alpha", "from-globals")
    assert (from_beta["who"], from_beta["greeting"], from_beta["shared"]) == ("beta", "beta", "from-globals")
    assert from_alpha["layer"] == from_beta["layer"] == "from the layer"
    # And the context carries the function's name, memory and remaining time
    assert (from_alpha["function_name"], from_alpha["memory"]) == ("AlphaFunction", 256)
    assert (from_beta["function_name"], from_beta["memory"]) == ("BetaFunction", 1024)
    assert 0 < from_alpha["remaining_ms"] <= 5000


def test_environments_stay_apart_under_concurrency(template: Template) -> None:
    # Given two functions with different values for the same variable
    handlers = {
        "alpha": load_function(template.functions["AlphaFunction"]),
        "beta": load_function(template.functions["BetaFunction"]),
    }
    start = threading.Barrier(8)

    def call(i: int) -> tuple[str, dict[str, Any]]:
        who = "alpha" if i % 2 else "beta"
        start.wait()
        return who, handlers[who]({"pause": 0.05}, None)

    # When 8 threads call them at once (each call sleeps, so they overlap)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(8)))

    # Then each call saw its own value through os.environ[...], os.getenv and `in`
    for who, result in results:
        assert (result["who"], result["greeting"], result["getenv"], result["has_greeting"]) == (who, who, who, True)
    # And the real environment was never changed
    assert "GREETING" not in os.environ
    assert os.getenv("SHARED") is None


def test_the_function_environment_wins_over_the_process_environment(
    template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the process environment has its own GREETING
    monkeypatch.setenv("GREETING", "from the test process")

    # Then the function still sees its template value, and the process keeps its own
    assert load_function(template.functions["AlphaFunction"])({}, None)["greeting"] == "alpha"
    assert os.environ["GREETING"] == "from the test process"


def test_a_handler_past_its_timeout_raises_function_timeout_quickly(template: Template) -> None:
    # Given a function with a 0.2 s timeout whose handler sleeps 3 s
    sleepy = load_function(template.functions["SleepyFunction"])

    # When calling it
    started = time.monotonic()
    with pytest.raises(FunctionTimeoutError) as raised:
        sleepy({"seconds": 3}, LocalLambdaContext(function_name="SleepyFunction"))

    # Then the caller gets FunctionTimeoutError at the timeout, not when the handler ends
    assert time.monotonic() - started < 1.5
    assert (raised.value.function_name, raised.value.timeout_seconds) == ("SleepyFunction", 0.2)


def test_handler_exceptions_propagate_unchanged(template: Template) -> None:
    failing = load_function(template.functions["FailingFunction"])
    with pytest.raises(Exception, match="bad output: 'x'") as raised:
        failing({"output": "x"}, None)
    # The class name is what Retry and Catch match
    assert type(raised.value).__name__ == "ModelOutputValidationError"


@pytest.mark.parametrize(
    ("logical_id", "message"),
    [
        ("MissingModuleFunction", r"MissingModuleFunction \(Handler 'missing.handler'\): no module 'missing'"),
        (
            "MissingAttributeFunction",
            r"MissingAttributeFunction \(Handler 'app.no_such_handler'\): "
            r"module 'app' has no function 'no_such_handler'",
        ),
        (
            "BrokenImportFunction",
            r"BrokenImportFunction \(Handler 'app.handler'\): "
            r"importing 'app' failed: RuntimeError: configuration missing",
        ),
        ("NodeFunction", r"NodeFunction: Runtime: nodejs20.x cannot run in-process"),
    ],
)
def test_functions_that_cannot_load_name_the_function_and_handler(
    template: Template, logical_id: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        load_function(template.functions[logical_id])


def test_same_named_helpers_of_two_functions_are_detected(template: Template) -> None:
    # Given two functions whose app.py both import their own offline_clone_helper.py
    clone_a = load_function(template.functions["CloneAFunction"])
    assert clone_a({}, None) == {"helper": "helper of clone A"}

    # When loading the second, whose import would get the first one's module from sys.modules
    with pytest.raises(TemplateError, match=r"CloneBFunction .*offline_clone_helper.*CloneAFunction"):
        load_function(template.functions["CloneBFunction"])

    # Then the first function is unaffected
    assert clone_a({}, None) == {"helper": "helper of clone A"}
