"""The fine-tuning pipeline as deployed: IAM read from the SAM-transformed template, the definition's substitutions,
logging, the schedule and the API routes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sfn_offline.template import load_template, validate_definition

from tests.template_document import arn_text, definition_path, load_definition, role_statements

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BEDROCK = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}"
BUCKET = "arn:${AWS::Partition}:s3:::${PayloadBucket}"


def _grants(transformed: dict[str, Any], role: str) -> dict[str, set[str]]:
    """Action -> resources (as text) the role allows, AWS's logging and tracing grants left out."""
    grants: dict[str, set[str]] = {}
    for statement in role_statements(transformed, role):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            if not action.startswith(("logs:", "xray:")):
                grants.setdefault(action, set()).update(arn_text(resource) for resource in resources)
    return grants


def _machine_role(transformed: dict[str, Any], machine: str) -> str:
    return str(transformed["Resources"][machine]["Properties"]["RoleArn"]["Fn::GetAtt"][0])


def test_the_fine_tuning_role_grants_the_seeds_customization_permissions_and_nothing_broader(
    transformed: dict[str, Any],
) -> None:
    # Given the fine-tuning state machine's role
    grants = _grants(transformed, _machine_role(transformed, "FineTuningStateMachine"))

    # Then it creates jobs on exactly the base model (custom-model/* for a custom base), custom-model/* and jobs
    base = json.dumps(
        {
            "Fn::If": [
                "FineTuningBaseIsCustomModel",
                {"Fn::Sub": f"{BEDROCK}:custom-model/*"},
                {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${FineTuningBaseModelId}"},
            ]
        },
        sort_keys=True,
    )
    assert grants.pop("bedrock:CreateModelCustomizationJob") == {
        base,
        f"{BEDROCK}:custom-model/*",
        f"{BEDROCK}:model-customization-job/*",
    }
    # And .sync gets and stops jobs
    assert grants.pop("bedrock:GetModelCustomizationJob") == {f"{BEDROCK}:model-customization-job/*"}
    assert grants.pop("bedrock:StopModelCustomizationJob") == {f"{BEDROCK}:model-customization-job/*"}
    # And it passes exactly the Bedrock service role, to Bedrock only
    [pass_role] = [s for s in role_statements(transformed, _machine_role(transformed, "FineTuningStateMachine"))
                   if s["Action"] == "iam:PassRole"]  # fmt: skip
    assert pass_role["Resource"] == {"Fn::GetAtt": ["BedrockCustomizationRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
    grants.pop("iam:PassRole")
    # And throughput is created from custom models, followed and deleted
    assert grants.pop("bedrock:CreateProvisionedModelThroughput") == {
        f"{BEDROCK}:custom-model/*",
        f"{BEDROCK}:provisioned-model/*",
    }
    for action in ("bedrock:GetProvisionedModelThroughput", "bedrock:DeleteProvisionedModelThroughput"):
        assert grants.pop(action) == {f"{BEDROCK}:provisioned-model/*"}
    # And its other grants: its three functions, its topic, the dataset listing and the nested evaluation chains
    assert grants.pop("lambda:InvokeFunction") == {
        json.dumps({"Fn::GetAtt": [name, "Arn"]}, sort_keys=True)
        for name in ("ValidateDatasetFunction", "PrepareEvaluationFunction", "ScoreEvaluationFunction")
    }
    assert grants.pop("sns:Publish") == {json.dumps({"Ref": "FineTuningNotificationsTopic"}, sort_keys=True)}
    assert grants.pop("s3:ListBucket") == {BUCKET}
    assert grants.pop("states:StartExecution") == {
        json.dumps({"Ref": "FineTuningEvaluationStateMachine"}, sort_keys=True)
    }
    assert set(grants) == {
        "states:DescribeExecution",
        "states:StopExecution",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    }


def test_the_bedrock_service_role_is_trusted_by_bedrock_of_this_account_and_scoped_to_its_prefixes(
    transformed: dict[str, Any],
) -> None:
    role = transformed["Resources"]["BedrockCustomizationRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}

    grants = _grants(transformed, "BedrockCustomizationRole")

    assert grants == {
        "s3:GetObject": {f"{BUCKET}/fine-tuning/datasets/*", f"{BUCKET}/fine-tuning/splits/*"},
        "s3:PutObject": {f"{BUCKET}/fine-tuning/output/*"},
        "s3:ListBucket": {BUCKET},
    }


def test_the_evaluation_chains_may_invoke_only_the_evaluation_models(transformed: dict[str, Any]) -> None:
    grants = _grants(transformed, _machine_role(transformed, "FineTuningEvaluationStateMachine"))

    assert grants["bedrock:InvokeModel"] == {
        "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${FineTuningEvaluationModelId}",
        f"{BEDROCK}:custom-model/*",
        f"{BEDROCK}:provisioned-model/*",
    }
    # And the general prompt-chain machines gained nothing from the pipeline
    chain = _grants(transformed, _machine_role(transformed, "PromptChainStateMachine"))
    assert not any("custom-model" in resource for resource in chain.get("bedrock:InvokeModel", set()))


def test_every_placeholder_of_the_definition_is_substituted_and_the_result_validates(template: dict[str, Any]) -> None:
    properties = template["Resources"]["FineTuningStateMachine"]["Properties"]
    source = definition_path("fine_tuning").read_text(encoding="utf-8")

    assert properties["Type"] == "STANDARD"
    assert properties["DefinitionUri"] == "statemachines/fine_tuning.asl.yaml"
    assert set(re.findall(r"\$\{(\w+)\}", source)) == set(properties["DefinitionSubstitutions"])
    spec = load_template(TEMPLATE).state_machines["FineTuningStateMachine"]
    validate_definition(spec.definition, "fine_tuning.asl.yaml")
    assert "${" not in json.dumps(spec.definition)
    # And it logs errors without execution data to its own group, with the stack's retention
    logging = properties["Logging"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False)
    group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert template["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_retraining_is_scheduled_but_off_by_default(template: dict[str, Any]) -> None:
    event = template["Resources"]["FineTuningStateMachine"]["Properties"]["Events"]["ScheduledRetraining"]

    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["State"] == {"Ref": "FineTuningScheduleState"}
    assert template["Parameters"]["FineTuningScheduleState"]["Default"] == "DISABLED"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "FineTuningScheduleExpression"}


def test_the_fine_tune_routes_are_on_the_chain_api(template: dict[str, Any]) -> None:
    events = template["Resources"]["FineTuneApiFunction"]["Properties"]["Events"]

    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert routes == {("post", "/fine-tunes"), ("get", "/fine-tunes/{id}")}
    assert all(e["Properties"]["RestApiId"] == {"Ref": "ChainApi"} for e in events.values())


def test_bedrock_tasks_retry_transient_errors_with_jitter_and_every_failure_is_notified() -> None:
    states = load_definition("fine_tuning")["States"]
    for name, state in states.items():
        resource = state.get("Resource", "")
        if "bedrock" in resource:
            [retry] = state["Retry"]
            assert "Bedrock.ThrottlingException" in retry["ErrorEquals"], name
            assert retry["JitterStrategy"] == "FULL"
            assert "Bedrock.ValidationException" not in retry["ErrorEquals"]
        if state["Type"] == "Task" and name not in {"Notify Success", "Notify Failure"}:
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    assert states["Fail Fine-Tuning"]["Type"] == "Fail"
    assert states["Notify Failure"]["Next"] == "Fail Fine-Tuning"
