"""Bad and hostile input at every handler: a named error that says what and where, and S3 left as it was."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion import errors

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
BUCKET = "companion-test-payloads"
PRE, RESOLVE, POST = "PreprocessPromptFunction", "ResolveOutputFunction", "PostprocessResultFunction"
SAMPLES = {
    PRE: "lambda/preprocess_prompt.json",
    RESOLVE: "lambda/resolve_output.json",
    POST: "lambda/postprocess_result.json",
}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = event
        for part in parents:
            node = node[part]
        node[last] = value

    return apply


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda event: event.pop(name)


def _prompt_bomb(event: dict[str, Any]) -> None:
    # A 100 KiB template and a 100 KiB variable fit any event, yet would render to 400 MB.
    event["variables"]["steps"]["research"]["text"] = "x" * 100_000
    event["prompt"] = "{{ steps.research.text }}" * 4000


HOSTILE_CASES = [
    ("pre: missing step", PRE, _drop("step"), errors.InputValidationError, "step: Field required"),
    (
        "pre: wrong-typed max_tokens",
        PRE,
        _set("inference.max_tokens", "lots"),
        errors.InputValidationError,
        "inference.max_tokens",
    ),
    ("pre: negative temperature", PRE, _set("inference.temperature", -1), errors.InputValidationError, "temperature"),
    ("pre: unknown field", PRE, _set("surprise", 1), errors.InputValidationError, "surprise: Extra inputs"),
    ("pre: path traversal in step", PRE, _set("step", "../../etc"), errors.InputValidationError, "step:"),
    (
        "pre: template calls code",
        PRE,
        _set("prompt", "{{ __import__('os').system('id') }}"),
        errors.TemplateSyntaxError,
        "prompt.messages",
    ),
    (
        "pre: template reads attributes",
        PRE,
        _set("prompt", "{{ input.__class__ }}"),
        errors.MissingTemplateVariablesError,
        "input.__class__",
    ),
    (
        "pre: unknown model family",
        PRE,
        _set("model_id", "openai.gpt-9"),
        errors.UnknownModelFamilyError,
        "openai.gpt-9",
    ),
    (
        "pre: opaque provisioned model",
        PRE,
        _set("model_id", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"),
        errors.UnknownModelFamilyError,
        "model_family",
    ),
    ("pre: invalid family name", PRE, _set("model_family", "gpt"), errors.InputValidationError, "model_family"),
    (
        "pre: lone surrogate",
        PRE,
        _set("variables.input.topic", "\ud800"),
        errors.InputValidationError,
        "not valid Unicode",
    ),
    (
        "pre: prompt bomb",
        PRE,
        _prompt_bomb,
        errors.PromptTooLargeError,
        "exceeds",
    ),
    (
        "pre: budget over the state limit",
        PRE,
        _set("offload.max_inline_bytes", 10**9),
        errors.InputValidationError,
        "max_inline_bytes",
    ),
    (
        "resolve: another bucket",
        RESOLVE,
        _set("output_s3_uri", "s3://attacker-bucket/offload/x.json"),
        errors.S3LocationError,
        "outside the configured bucket",
    ),
    (
        "resolve: outside the prefix",
        RESOLVE,
        _set("output_s3_uri", f"s3://{BUCKET}/../x"),
        errors.S3LocationError,
        "output_s3_uri",
    ),
    ("resolve: not a URI", RESOLVE, _set("output_s3_uri", 17), errors.InputValidationError, "output_s3_uri"),
    (
        "resolve: missing object",
        RESOLVE,
        _set("output_s3_uri", f"s3://{BUCKET}/offload/responses/none.json"),
        errors.OffloadedObjectNotFoundError,
        "no object",
    ),
    ("post: no result", POST, _drop("result"), errors.InputValidationError, "result: Field required"),
    ("post: a number for a result", POST, _set("result", 42), errors.ResponseDecodingError, "cohere_command"),
    ("post: unknown output format", POST, _set("output.format", "yaml"), errors.InputValidationError, "output.format"),
    ("post: model id too long", POST, _set("model_id", "x" * 5000), errors.InputValidationError, "model_id"),
]


@pytest.fixture
def stored(s3: Any) -> dict[str, bytes]:
    """Objects already in the bucket before the hostile call: they must survive it unchanged."""
    existing = {"offload/requests/other-exec/step.json": b'{"keep": 1}', "offload/responses/other/x.json": b"{}"}
    for key, body in existing.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return existing


def _bucket(s3: Any) -> dict[str, bytes]:
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


@pytest.mark.parametrize(
    ("name", "function", "mutate", "error", "message"), HOSTILE_CASES, ids=[c[0] for c in HOSTILE_CASES]
)
def test_hostile_input_gets_a_named_error(
    s3: Any,
    stored: dict[str, bytes],
    invoke: Invoke,
    load_event: Callable[[str], dict[str, Any]],
    name: str,
    function: str,
    mutate: Callable[[dict[str, Any]], None],
    error: type[Exception],
    message: str,
) -> None:
    # Given a valid sample event with one hostile change
    event = load_event(SAMPLES[function])
    mutate(event)
    # When the handler runs
    with pytest.raises(error) as caught:
        invoke(function, event)
    # Then the named error says what and where, and nothing stored before is lost or changed
    assert message in str(caught.value)
    assert isinstance(caught.value, errors.CompanionError)
    assert _bucket(s3) == stored


@pytest.mark.parametrize("function", [PRE, RESOLVE, POST])
@pytest.mark.parametrize("event", [[], "text", None, 3, {}])
def test_events_that_are_not_task_inputs(s3: Any, invoke: Invoke, function: str, event: Any) -> None:
    with pytest.raises(errors.InputValidationError):
        invoke(function, event)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    function=st.sampled_from([PRE, RESOLVE, POST]),
    pick=st.integers(min_value=0, max_value=9),
    field=st.text(max_size=20),
    value=JSON_VALUES,
    drop=st.booleans(),
)
def test_any_one_field_replaced_by_any_json_raises_only_named_errors(
    s3: Any,
    invoke: Invoke,
    load_event: Callable[[str], dict[str, Any]],
    function: str,
    pick: int,
    field: str,
    value: Any,
    drop: bool,
) -> None:
    event = load_event(SAMPLES[function])
    # Mostly an existing field, so that the mutation reaches past the outer validation; sometimes a new one.
    keys = sorted(event)
    target = keys[pick % len(keys)] if pick < 8 else field
    mutated = copy.deepcopy(event)
    if drop and target in mutated:
        del mutated[target]
    else:
        mutated[target] = value
    with contextlib.suppress(errors.CompanionError):
        invoke(function, mutated)
