"""The project's own template.yaml as the offline runner reads it: its functions, buckets, machines and parameters,
and a real handler run with its template environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sfn_offline.functions import handlers_for, load_function
from sfn_offline.template import ACCOUNT, REGION, TemplateError, load_template

ROOT = Path(__file__).resolve().parents[2]


def test_project_template_yields_its_functions_with_resolved_environment() -> None:
    # Given the project's template with its parameter defaults
    # When loading it
    template = load_template(ROOT / "template.yaml")

    # Then the functions run the project's code with the runtime layer's source folder on the import path
    assert set(template.functions) == {
        "PreprocessPromptFunction",
        "ResolveOutputFunction",
        "PostprocessResultFunction",
        "ChainApiFunction",
        "PrepareBatchFunction",
        "SummarizeBatchFunction",
        "ValidateDatasetFunction",
        "PrepareEvaluationFunction",
        "ScoreEvaluationFunction",
        "FineTuneApiFunction",
    }
    preprocess = template.functions["PreprocessPromptFunction"]
    assert preprocess.code_uri == ROOT / "functions" / "preprocess_prompt"
    assert preprocess.handler == "app.lambda_handler"
    assert preprocess.runtime == "python3.13"
    assert preprocess.layers == (ROOT / "layers" / "runtime",)
    assert (preprocess.timeout, preprocess.memory_mb) == (30.0, 512)
    assert preprocess.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:PreprocessPromptFunction"
    # And the payload bucket gets a deterministic name that every function's OFFLOAD_BUCKET resolves to
    assert template.buckets == {"PayloadBucket": "offline-payloadbucket"}
    for function in template.functions.values():
        assert function.environment["OFFLOAD_BUCKET"] == "offline-payloadbucket"
        assert function.environment["POWERTOOLS_SERVICE_NAME"] == "sfn-bedrock-companion"
        assert function.environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    # And the budget parameter's default reaches the functions as text
    assert preprocess.environment["PAYLOAD_BUDGET_BYTES"] == "229376"
    assert template.functions["ResolveOutputFunction"].environment["RESULT_BUDGET_BYTES"] == "229376"
    assert set(template.state_machines) == {
        "PromptChainStateMachine",
        "PromptChainExpressStateMachine",
        "ChainBatchStateMachine",
        "PackagedChainBatchStateMachine",
        "OutlineDraftCritiqueChainStateMachine",
        "ParallelPerspectivesChainStateMachine",
        "MapOverItemsChainStateMachine",
        "FineTuningEvaluationStateMachine",
        "FineTuningStateMachine",
    }
    # And the chain API function gets both machines' ARNs
    chain_api = template.functions["ChainApiFunction"].environment
    assert ":stateMachine:" in chain_api["STANDARD_STATE_MACHINE_ARN"]
    assert ":stateMachine:" in chain_api["EXPRESS_STATE_MACHINE_ARN"]


def test_parameter_overrides_reach_the_environment() -> None:
    # When overriding the payload budget and the log level
    template = load_template(ROOT / "template.yaml", {"PayloadBudgetBytes": "100000", "LogLevel": "DEBUG"})

    # Then the functions see the overridden values
    assert template.parameters["PayloadBudgetBytes"] == "100000"
    assert template.functions["PreprocessPromptFunction"].environment["PAYLOAD_BUDGET_BYTES"] == "100000"
    assert template.functions["PostprocessResultFunction"].environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Environment": "staging"}, "Parameters.Environment: 'staging' is not one of the AllowedValues"),
        ({"PayloadBudgetBytes": "10"}, "Parameters.PayloadBudgetBytes: 10 is below MinValue"),
        ({"PayloadBudgetBytes": "lots"}, "is not a Number"),
        ({"NoSuchParameter": "x"}, "Parameters: no parameter named NoSuchParameter"),
    ],
)
def test_invalid_parameter_values_are_refused(overrides: dict[str, str], message: str) -> None:
    # When loading with a value CloudFormation would refuse
    with pytest.raises(TemplateError, match=message) as raised:
        load_template(ROOT / "template.yaml", overrides)

    # Then the message starts with the file
    assert str(raised.value).startswith("template.yaml: ")


def test_handlers_are_keyed_by_name_and_arn() -> None:
    template = load_template(ROOT / "template.yaml")
    handlers = handlers_for(template)
    for spec in template.functions.values():
        assert handlers[spec.name] is handlers[spec.arn]
    assert len(handlers) == 2 * len(template.functions)


def test_the_real_preprocess_function_runs_with_its_template_environment(s3: Any, load_event: Any) -> None:
    # Given the project's template and its payload bucket created in emulated S3
    template = load_template(ROOT / "template.yaml")
    s3.create_bucket(Bucket=template.buckets["PayloadBucket"])
    preprocess = load_function(template.functions["PreprocessPromptFunction"])

    # When calling the real handler with the sample event (tests/conftest.py sets OFFLOAD_BUCKET to another bucket)
    result = preprocess(load_event("lambda/preprocess_prompt.json"), None)

    # Then it ran with the template's environment: the output location is in the template's bucket
    assert result["step"] == "outline"
    assert f"s3://{template.buckets['PayloadBucket']}/offload/responses/" in json.dumps(result)
    assert os.environ["OFFLOAD_BUCKET"] == "companion-test-payloads"
