"""The YAML state machines as people read them: retry policies named once, the query language declared once, JSONata
laid out on lines, and no fine-tuning default restated in ASL or in the retraining schedule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock
from pydantic import BaseModel

from companion.finetune.options import FineTuneOptions
from tests.template_document import definition_path, load_definition

MACHINES = ("fine_tuning", "chain_batch")
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
# Every retry policy the YAML machines may use, by the anchor name it is written under.
POLICIES: dict[str, list[dict[str, Any]]] = {
    "lambda_transient": [
        {"ErrorEquals": LAMBDA_TRANSIENT, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0,
         "JitterStrategy": "FULL"}
    ],
    "bedrock_transient": [
        {"ErrorEquals": ["Bedrock.ThrottlingException", "Bedrock.ServiceUnavailableException",
                         "Bedrock.InternalServerException"],
         "IntervalSeconds": 5, "MaxAttempts": 4, "BackoffRate": 2.0, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}
    ],
    "s3_transient": [
        {"ErrorEquals": ["S3.S3Exception", "S3.SdkClientException"], "IntervalSeconds": 2, "MaxAttempts": 3,
         "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    ],
    "sns_transient": [
        {"ErrorEquals": ["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"],
         "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    ],
    "stepfunctions_start_limit": [
        {"ErrorEquals": ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException"],
         "IntervalSeconds": 5, "MaxAttempts": 3, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    ],
    "stepfunctions_transient": [
        {"ErrorEquals": ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException",
                         "StepFunctions.AWSStepFunctionsException"],
         "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
    ],
}  # fmt: skip
# A one-line JSONata expression longer than this goes into a block scalar, over several lines.
MAX_INLINE_EXPRESSION = 100


class _AnchorRecordingLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A safe loader that keeps every anchored sequence by its anchor name (the retry policies)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchored: dict[str, yaml.Node] = {}

    def compose_sequence_node(self, anchor: str | None) -> yaml.Node:
        node = super().compose_sequence_node(anchor)
        if anchor is not None:
            self.anchored[anchor] = node
        return node


def _named_policies(name: str) -> dict[str, Any]:
    loader = _AnchorRecordingLoader(definition_path(name).read_text(encoding="utf-8"))
    try:
        loader.get_single_node()
        return {anchor: loader.construct_object(node, deep=True) for anchor, node in loader.anchored.items()}
    finally:
        loader.dispose()


def _states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, those of Map processors and Parallel branches included."""
    for state_name, state in definition["States"].items():
        yield state_name, state
        for inner in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            if inner is not None:
                yield from _states(inner)


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value)
    elif isinstance(node, str) and node.startswith("{%"):
        yield node


@pytest.mark.parametrize("name", MACHINES)
def test_each_named_retry_policy_has_its_pinned_content(name: str) -> None:
    # When reading the policies the file writes out under an anchor
    named = _named_policies(name)

    # Then each is one of the known policies, with exactly its errors, interval, attempts, backoff and jitter
    assert named
    for anchor, policy in named.items():
        assert anchor in POLICIES, f"{name}: unknown policy &{anchor}"
        assert policy == POLICIES[anchor], f"{name}: &{anchor}"


@pytest.mark.parametrize("name", MACHINES)
def test_every_task_retries_with_a_named_policy_written_once(name: str) -> None:
    # Given the machine's text and its parsed definition
    text = definition_path(name).read_text(encoding="utf-8")
    named = _named_policies(name)

    # Then every Retry is an anchor (the policy's one written copy) or an alias of one
    retry_lines = re.findall(r"^\s*Retry:(.*)$", text, flags=re.MULTILINE)
    assert retry_lines
    assert all(re.fullmatch(r"\s*[&*][a-z_0-9]+\s*", line) for line in retry_lines), retry_lines
    anchors = re.findall(r"Retry:\s*&([a-z_0-9]+)", text)
    assert len(anchors) == len(set(anchors)) == len(named)
    # And every Task state carries one of the named policies
    tasks = [(state_name, state) for state_name, state in _states(load_definition(name)) if state["Type"] == "Task"]
    assert tasks
    for state_name, state in tasks:
        assert state.get("Retry") in named.values(), f"{name}: {state_name}"
    # And Bedrock tasks use the Bedrock policy, whose jitter is FULL
    for state_name, state in tasks:
        if ":bedrock:" in state["Resource"]:
            assert state["Retry"] == POLICIES["bedrock_transient"], f"{name}: {state_name}"


@pytest.mark.parametrize("name", MACHINES)
def test_the_query_language_is_declared_once_and_jsonata_is_laid_out_on_lines(name: str) -> None:
    definition = load_definition(name)

    # Then the top declares the query language and no state repeats or overrides it
    assert definition["QueryLanguage"] in {"JSONata", "JSONPath"}
    assert [state_name for state_name, state in _states(definition) if "QueryLanguage" in state] == []
    # And every JSONata expression is short enough for one line or spans several
    for expression in _expressions(definition):
        assert "\n" in expression or len(expression) <= MAX_INLINE_EXPRESSION, expression
        assert expression.endswith("%}"), f"{expression[-20:]!r}: a block scalar must strip its final newline (|-)"
    # And the JSONPath machine holds no JSONata, the JSONata one no JSONPath fields
    serialized = json.dumps(definition)
    if definition["QueryLanguage"] == "JSONPath":
        assert "{%" not in serialized
    else:
        assert not re.search(r'"(\w+\.\$|InputPath|OutputPath|ResultPath|Parameters|ResultSelector)"', serialized)


def _defaults(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(field, default) of every field with a default, nested option models included."""
    for field_name, field in model.model_fields.items():
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            if default is not None:
                yield prefix + field_name, default
        for kind in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _defaults(kind, f"{prefix}{field_name}.")


def test_no_fine_tuning_default_is_restated_in_the_state_machine() -> None:
    # Given every default of the fine-tuning options
    defaults = dict(_defaults(FineTuneOptions))
    assert {"customization_type", "hyperparameters", "provisioned_throughput.model_units"} <= set(defaults)
    text = definition_path("fine_tuning").read_text(encoding="utf-8")

    for field, default in defaults.items():
        leaf = field.rsplit(".", 1)[-1]
        literal = re.escape(json.dumps(default.value if hasattr(default, "value") else default))
        # Then no expression falls back to it when the field is absent ($exists(...field) ? ... : default)
        fallback = rf"\$exists\([^)]*\b{leaf}\)\s*\?[^:]*:\s*{literal}"
        assert not re.search(fallback, text), f"{field}: its default {literal} is restated in the ASL"
        # And a default that is a name (an enum value) does not appear in the ASL at all
        if isinstance(default, str):
            assert json.dumps(default) not in text, f"{field}: {default!r} is written in the ASL"


def test_the_retraining_schedule_names_its_dataset_prefix_and_no_option(template: dict[str, Any]) -> None:
    # Given the scheduled retraining event's input (a !Sub string)
    event = template["Resources"]["FineTuningStateMachine"]["Properties"]["Events"]["ScheduledRetraining"]
    schedule_input = json.loads(event["Properties"]["Input"]["Fn::Sub"])

    # Then it gives the prefix only: every option, defaults included, comes from the one model
    assert schedule_input == {"dataset_prefix": "${FineTuningScheduleDatasetPrefix}"}
