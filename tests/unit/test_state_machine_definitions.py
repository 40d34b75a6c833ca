"""The YAML state machines as people read them: retry policies named once (companion.retry_policies) and
copied unchanged, the query language declared once, JSONata laid out on lines, no alias CloudFormation would misread,
and no fine-tuning default restated in ASL or in the retraining schedule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from companion.finetune.options import FineTuneOptions
from tests.template_document import ROOT, definition_path, load_definition
from tools.asl_retries import MARKER, RetryPolicyError, load_policies, render
from tools.asl_retries import main as main_asl_retries

MACHINES = ("fine_tuning", "chain_batch")
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
# Every retry policy the YAML machines may use, by name, pinned.
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
    "bedrock_invoke_transient": [
        {"ErrorEquals": ["Bedrock.ThrottlingException", "Bedrock.ServiceUnavailableException",
                         "Bedrock.InternalServerException", "Bedrock.ModelTimeoutException",
                         "Bedrock.ModelNotReadyException"],
         "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2.0, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}
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


def test_each_named_retry_policy_has_its_pinned_content() -> None:
    # When reading the policies' one home
    policies = load_policies()

    # Then each has exactly its errors, interval, attempts, backoff and jitter
    assert policies == POLICIES


@pytest.mark.parametrize("name", MACHINES)
def test_every_task_retries_with_a_named_policy_copied_unchanged(name: str) -> None:
    # Given the machine's text and its parsed definition
    path = definition_path(name)
    text = path.read_text(encoding="utf-8")

    # Then every Retry key names its policy, and the block below it is that policy as written in its home
    retry_lines = re.findall(r"^ *Retry:.*$", text, flags=re.MULTILINE)
    assert retry_lines
    assert [line for line in retry_lines if not MARKER.match(line)] == []
    assert render(text, load_policies(), str(path)) == text, f"stale: run make asl-retries ({path.name})"
    # And every Task state carries a named policy
    tasks = [(state_name, state) for state_name, state in _states(load_definition(name)) if state["Type"] == "Task"]
    assert len(tasks) == len(retry_lines)
    for state_name, state in tasks:
        assert state.get("Retry") in POLICIES.values(), f"{name}: {state_name}"
    # And Bedrock tasks use the Bedrock policy, whose jitter is FULL
    for state_name, state in tasks:
        if ":bedrock:" in state["Resource"]:
            assert state["Retry"] == POLICIES["bedrock_transient"], f"{name}: {state_name}"


def test_a_stale_copy_is_rewritten_and_an_unknown_name_refused(tmp_path: Path) -> None:
    # Given a Task whose Retry block differs from its named policy
    policies = load_policies()
    stale = (
        "Call:\n  Retry: # s3_transient (companion.retry_policies)\n    - ErrorEquals: [S3.S3Exception]\n  End: true"
    )

    # When rendering it
    rendered = render(stale, policies, "stale.asl.yaml")

    # Then the block is the named policy and the rest is kept
    parsed = yaml.safe_load(rendered)
    assert parsed["Call"] == {"Retry": POLICIES["s3_transient"], "End": True}
    # And a name the home does not have is an error naming the file and line
    with pytest.raises(RetryPolicyError, match=r"typo.asl.yaml: line 2: no retry policy 'nope'"):
        render("A:\n  Retry: # nope (companion.retry_policies)\n", policies, "typo.asl.yaml")
    # And the command says which file is stale without writing it
    definition = tmp_path / "stale.asl.yaml"
    definition.write_text(stale, encoding="utf-8")
    assert main_asl_retries(["--check", str(definition)]) == 1
    assert definition.read_text(encoding="utf-8") == stale
    assert main_asl_retries([str(definition)]) == 0
    assert main_asl_retries(["--check", str(definition)]) == 0


def _definition_uri_files(template: dict[str, Any]) -> list[Path]:
    return [
        ROOT / resource["Properties"]["DefinitionUri"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in resource["Properties"]
    ]


def test_no_deployed_definition_uses_a_yaml_alias(template: dict[str, Any]) -> None:
    # Given every definition file the template deploys (CloudFormation reads a YAML alias as its anchor's name)
    files = _definition_uri_files(template)
    assert {definition_path(name) for name in MACHINES} <= set(files)

    for path in files:
        # Then none holds an alias: every value is written where it is used
        events = yaml.parse(path.read_text(encoding="utf-8"))
        assert not any(isinstance(event, yaml.AliasEvent) for event in events), path.name


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
