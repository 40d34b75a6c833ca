"""What a deployed stack guarantees, read from template.yaml and from its SAM-transformed form.

The raw template is read with a YAML loader that expands CloudFormation's short-form tags (``!Ref``, ``!Sub``,
``!GetAtt``...) into their long form; IAM is checked on the output of the SAM transform (aws-sam-translator, offline),
because that is where the generated roles live.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock

from companion.constants import DEFAULT_PAYLOAD_BUDGET_BYTES, STATE_PAYLOAD_LIMIT_BYTES
from tests.deploy_config import samconfig_overrides
from tests.template_document import arn_text, as_list, role_statements

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

FUNCTIONS = {
    "PreprocessPromptFunction": "functions/preprocess_prompt/",
    "ResolveOutputFunction": "functions/resolve_output/",
    "PostprocessResultFunction": "functions/postprocess_result/",
}
# Not steps of the chain machines (absent from their DefinitionSubstitutions): the HTTP APIs, the batch machine's
# and the fine-tuning machine's functions.
OTHER_FUNCTIONS = {
    "ChainApiFunction": "functions/chain_api/",
    "PrepareBatchFunction": "functions/prepare_batch/",
    "SummarizeBatchFunction": "functions/summarize_batch/",
    "ValidateDatasetFunction": "functions/validate_dataset/",
    "PrepareEvaluationFunction": "functions/prepare_evaluation/",
    "ScoreEvaluationFunction": "functions/score_evaluation/",
    "FineTuneApiFunction": "functions/fine_tune_api/",
}
BUCKET_ARN = "arn:${AWS::Partition}:s3:::${PayloadBucket}"
CLOUDWATCH_RETENTION_DAYS = {
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
}  # fmt: skip
LAMBDA_APPLICATION_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] == resource_type}


def _references(value: Any) -> set[str]:
    """Logical ids a template fragment depends on through Ref, Fn::GetAtt or ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                found.add(str(item))
            elif key == "Fn::GetAtt":
                found.add(str(item[0]) if isinstance(item, list) else str(item).split(".")[0])
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                if isinstance(item, list):
                    found |= _references(item[1:])
            else:
                found |= _references(item)
    return found


def _function_role_name(transformed: dict[str, Any], function_name: str) -> str:
    role = transformed["Resources"][function_name]["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])


def _all_policy_statements(transformed: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in transformed["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for statement in role_statements(transformed, name):
                yield name, statement
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"}:
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                yield name, statement


def _s3_grants(transformed: dict[str, Any], function_name: str) -> set[tuple[str, str, str]]:
    """(action, resource, condition-as-json) for every S3 action a function's role allows."""
    grants: set[tuple[str, str, str]] = set()
    for statement in role_statements(transformed, _function_role_name(transformed, function_name)):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if action.lower().startswith("s3:"):
                condition = json.dumps(statement.get("Condition", {}), sort_keys=True)
                grants.update((action, arn_text(res), condition) for res in as_list(statement["Resource"]))
    return grants


# ---------------------------------------------------------------- payload bucket


def test_payload_bucket_encrypts_objects_at_rest(resources: dict[str, Any]) -> None:
    # Given the bucket that holds offloaded prompts and model outputs
    encryption = resources["PayloadBucket"]["Properties"]["BucketEncryption"]

    # When reading its default encryption rules
    defaults = [rule["ServerSideEncryptionByDefault"] for rule in encryption["ServerSideEncryptionConfiguration"]]

    # Then every object is encrypted server-side (SSE-S3, or SSE-KMS with a bucket key)
    assert defaults
    for default in defaults:
        assert default["SSEAlgorithm"] in {"AES256", "aws:kms"}
    for rule in encryption["ServerSideEncryptionConfiguration"]:
        if rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms":
            assert rule.get("BucketKeyEnabled") is True


def test_payload_bucket_blocks_all_public_access(resources: dict[str, Any]) -> None:
    # Given the payload bucket
    properties = resources["PayloadBucket"]["Properties"]

    # When reading its public access block and ownership controls
    block = properties["PublicAccessBlockConfiguration"]
    ownership = properties["OwnershipControls"]["Rules"]

    # Then all four public-access switches are on and ACLs are disabled
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_payload_bucket_refuses_requests_without_tls(resources: dict[str, Any]) -> None:
    # Given the policies attached to the payload bucket
    policies = [
        res["Properties"]
        for res in _of_type(resources, "AWS::S3::BucketPolicy").values()
        if res["Properties"]["Bucket"] == {"Ref": "PayloadBucket"}
    ]
    assert len(policies) == 1

    # When looking for the statement that matches plain-HTTP requests
    statements = as_list(policies[0]["PolicyDocument"]["Statement"])
    insecure = [s for s in statements if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]

    # Then it denies every S3 action, for everyone, on the bucket and on every object in it
    assert len(insecure) == 1
    deny = insecure[0]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] in ("*", {"AWS": "*"})
    assert as_list(deny["Action"]) == ["s3:*"]
    assert {arn_text(r) for r in as_list(deny["Resource"])} == {
        json.dumps({"Fn::GetAtt": ["PayloadBucket", "Arn"]}, sort_keys=True),
        "${PayloadBucket.Arn}/*",
    }


def test_offloaded_payloads_expire_and_stale_uploads_are_aborted(resources: dict[str, Any]) -> None:
    # Given the bucket's lifecycle rules
    rules = resources["PayloadBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    enabled = [rule for rule in rules if rule["Status"] == "Enabled"]

    # When picking the rules that expire objects and abort multipart uploads
    expiring = [rule for rule in enabled if "ExpirationInDays" in rule]
    aborting = [rule for rule in enabled if "AbortIncompleteMultipartUpload" in rule]

    # Then everything under offload/ expires after OffloadExpiryDays, and no other prefix expires
    assert len(expiring) == 1
    prefix = expiring[0].get("Prefix", expiring[0].get("Filter", {}).get("Prefix"))
    assert prefix == "offload/"
    assert expiring[0]["ExpirationInDays"] == {"Ref": "OffloadExpiryDays"}
    # And incomplete multipart uploads do not linger (and bill) forever
    assert aborting
    assert all(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1 for rule in aborting)


# ---------------------------------------------------------------- functions and layer


def test_every_function_logs_to_its_own_log_group_with_retention(transformed: dict[str, Any]) -> None:
    # Given the functions of the deployed stack
    resources = transformed["Resources"]
    functions = _of_type(resources, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS) | set(OTHER_FUNCTIONS)

    # When following each function's LoggingConfig to its log group
    log_groups = {name: fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for name, fn in functions.items()}

    # Then each function has a distinct, template-managed log group whose retention is the stack parameter
    assert len(set(log_groups.values())) == len(functions)
    for group in log_groups.values():
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # And the log group does not refer back to a function (that would be a circular dependency)
        assert not _references(resources[group]) & set(functions)
    # And logs are structured JSON
    for fn in functions.values():
        assert fn["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"


def test_log_retention_accepts_only_values_cloudwatch_accepts(template: dict[str, Any]) -> None:
    # Given the LogRetentionDays parameter
    parameter = template["Parameters"]["LogRetentionDays"]

    # When comparing its allowed values with the ones CloudWatch Logs accepts
    allowed = {int(value) for value in parameter["AllowedValues"]}

    # Then a deploy can never fail on an invalid retention, and the default is 30 days
    assert allowed <= CLOUDWATCH_RETENTION_DAYS
    assert int(parameter["Default"]) == 30


def test_functions_run_python313_on_arm64_with_the_runtime_layer(
    transformed: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the transformed functions and the layer source
    functions = _of_type(transformed["Resources"], "AWS::Lambda::Function")
    layer = resources["CompanionRuntimeLayer"]

    # Then every function runs Python 3.13 on Graviton with the shared layer attached
    for fn in functions.values():
        properties = fn["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert len(properties["Layers"]) == 1
        assert transformed["Resources"][properties["Layers"][0]["Ref"]]["Type"] == "AWS::Lambda::LayerVersion"
    # And the layer is built for the same runtime and architecture (arm64 wheels for pydantic-core)
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}


def test_function_code_and_layer_sources_are_where_sam_build_expects_them(resources: dict[str, Any]) -> None:
    # Given the functions and the layer in the template
    for name, code_uri in {**FUNCTIONS, **OTHER_FUNCTIONS}.items():
        # Then each function builds from its own directory and exposes app.lambda_handler
        assert resources[name]["Properties"]["CodeUri"] == code_uri
        assert resources[name]["Properties"]["Handler"] == "app.lambda_handler"
    # And the layer source has no python/ folder: SAM adds it, a second one would break imports
    content_uri = ROOT / resources["CompanionRuntimeLayer"]["Properties"]["ContentUri"]
    assert (content_uri / "requirements.txt").is_file()
    assert (content_uri / "companion").is_dir()
    assert not (content_uri / "python").exists()


def test_functions_are_traced_and_never_log_raw_events(transformed: dict[str, Any]) -> None:
    # Given the transformed functions
    for fn in _of_type(transformed["Resources"], "AWS::Lambda::Function").values():
        properties = fn["Properties"]
        variables = properties["Environment"]["Variables"]

        # Then X-Ray tracing is on and Powertools is configured from the environment
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert variables["POWERTOOLS_SERVICE_NAME"] == "sfn-bedrock-companion"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "SfnBedrockCompanion"
        assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
        assert variables["OFFLOAD_BUCKET"] == {"Ref": "PayloadBucket"}
        # And events (prompts, model output: user data) never reach the logs
        assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"


def test_lambda_log_filter_matches_powertools_log_level(template: dict[str, Any]) -> None:
    # Given the LogLevel parameter and the Lambda log-level mapping
    levels = template["Parameters"]["LogLevel"]["AllowedValues"]
    mapping = template["Mappings"]["LambdaLogLevel"]

    # Then every allowed level maps to a level Lambda's advanced logging controls accept
    assert template["Parameters"]["LogLevel"]["Default"] == "INFO"
    for level in levels:
        assert mapping[level]["Application"] in LAMBDA_APPLICATION_LOG_LEVELS
        assert mapping[level]["Application"][:4] == level[:4]
    # And the functions use that mapping, so Lambda never drops what Powertools emits
    logging_config = template["Globals"]["Function"]["LoggingConfig"]
    assert logging_config["ApplicationLogLevel"] == {
        "Fn::FindInMap": ["LambdaLogLevel", {"Ref": "LogLevel"}, "Application"]
    }


def test_functions_receive_their_payload_budget_and_offload_prefix(transformed: dict[str, Any]) -> None:
    # Given the transformed functions' environments
    resources = transformed["Resources"]

    def env(name: str) -> dict[str, Any]:
        variables: dict[str, Any] = resources[name]["Properties"]["Environment"]["Variables"]
        return variables

    # Then pre-processing and resolving share the budget parameter and the offload prefix
    assert env("PreprocessPromptFunction")["PAYLOAD_BUDGET_BYTES"] == {"Ref": "PayloadBudgetBytes"}
    assert env("ResolveOutputFunction")["RESULT_BUDGET_BYTES"] == {"Ref": "PayloadBudgetBytes"}
    assert env("PreprocessPromptFunction")["OFFLOAD_PREFIX"] == "offload/"
    assert env("ResolveOutputFunction")["OFFLOAD_PREFIX"] == "offload/"


def test_payload_budget_leaves_headroom_under_the_state_limit(template: dict[str, Any]) -> None:
    # Given the PayloadBudgetBytes parameter
    parameter = template["Parameters"]["PayloadBudgetBytes"]

    # Then the template's default is the layer's own default budget (32 KiB of headroom under the state limit)
    assert int(parameter["Default"]) == DEFAULT_PAYLOAD_BUDGET_BYTES
    # And it can never be set above the Step Functions limit
    assert int(parameter["MinValue"]) == 1024
    assert int(parameter["MaxValue"]) == STATE_PAYLOAD_LIMIT_BYTES


# ---------------------------------------------------------------- IAM


def test_no_iam_allow_statement_uses_an_action_wildcard(transformed: dict[str, Any]) -> None:
    # Given every policy statement of the transformed stack (roles, policies, bucket policies)
    statements = list(_all_policy_statements(transformed))
    assert statements

    # When keeping the statements that grant access
    offenders = [
        (owner, statement)
        for owner, statement in statements
        if statement["Effect"] == "Allow"
        and ("NotAction" in statement or any("*" in action for action in as_list(statement["Action"])))
    ]

    # Then none of them grants actions by wildcard (`*`, `s3:*`, `s3:Get*`) or by exclusion (NotAction)
    assert offenders == []


# Resource wildcards a statement may use, each with the reason it cannot be narrower. Anything else with "*" fails.
JUSTIFIED_RESOURCE_WILDCARDS: list[tuple[str, str]] = [
    # Object keys are chosen at run time (execution and step names); the prefix is the boundary.
    (
        r"^arn:\$\{AWS::Partition\}:s3:::\$\{PayloadBucket\}/(offload/requests|offload/responses|offload/failures|offload/maps|prompt-sets"
        r"|batches/results|batches/summaries|fine-tuning/[a-z/-]+)/\*$",
        "objects under one project prefix",
    ),
    # Execution names are chosen per request or per map run; the state machine is fixed.
    (
        r"^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:\$\{[A-Za-z]+\}:\*$",
        "executions of one machine",
    ),
    # A packaged chain's own machine, named after the stack and the chain (tools/generate_chains.py).
    (
        r"^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:"
        r"\$\{AWS::StackName\}-chain-[a-z0-9-]+:\*$",
        "executions of one packaged chain's machine",
    ),
    (
        r"^arn:\$\{AWS::Partition\}:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:execution:"
        r"\$\{AWS::StackName\}-[A-Za-z]+/\*$",
        "Distributed Map child executions of one named machine",
    ),
    # The seed's fine-tuning examples: job and custom-model names are derived per execution.
    (
        r"^arn:\$\{AWS::Partition\}:bedrock:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
        r"(custom-model|model-customization-job|provisioned-model)/\*$",
        "Bedrock resources created per execution",
    ),
]
# Actions AWS documents with Resource "*" only (no resource-level permissions).
RESOURCE_STAR_ACTIONS = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
}  # fmt: skip
PROFILE_MODEL = re.compile(r"^arn:\$\{AWS::Partition\}:bedrock:\*::foundation-model/[a-z0-9.:-]+$")


def _unjustified_wildcards(owner: str, statement: dict[str, Any]) -> list[str]:
    problems = []
    resources = as_list(statement.get("Resource", []))
    # !If [condition, a, b]: either branch may be deployed, so both must pass
    while any(isinstance(r, dict) and "Fn::If" in r for r in resources):
        resources = [b for r in resources for b in (r["Fn::If"][1:] if isinstance(r, dict) and "Fn::If" in r else [r])]
    for resource in resources:
        sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
        # !Sub [text, {variables}]: the text decides where a wildcard stands; the variables name one resource each
        text = str(sub[0]) if isinstance(sub, list) else arn_text(resource)
        if "*" not in text:
            continue
        if text == "*":
            extra = set(as_list(statement["Action"])) - RESOURCE_STAR_ACTIONS
            if extra:
                problems.append(f"{owner}: {sorted(extra)} on '*'")
        elif PROFILE_MODEL.match(text):
            # A foundation model in any destination region of a profile, and only through one of the profiles
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if "bedrock:InferenceProfileArn" not in condition:
                problems.append(f"{owner}: {text} without a bedrock:InferenceProfileArn condition")
        elif not any(re.match(pattern, text) for pattern, _ in JUSTIFIED_RESOURCE_WILDCARDS):
            problems.append(f"{owner}: {text}")
    return problems


def test_no_iam_allow_statement_uses_an_unjustified_resource_wildcard(transformed: dict[str, Any]) -> None:
    # Given every Allow statement of the transformed stack (SAM-generated and hand-written roles, policies)
    statements = [(o, s) for o, s in _all_policy_statements(transformed) if s["Effect"] == "Allow"]
    # Then none uses NotResource, and every resource wildcard is one the seed's examples or AWS's docs justify
    assert [owner for owner, statement in statements if "NotResource" in statement] == []
    problems = [problem for owner, statement in statements for problem in _unjustified_wildcards(owner, statement)]
    assert problems == []


def test_the_wildcard_check_catches_what_it_must() -> None:
    # Given statements a careless change could add
    bad = [
        {"Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${PayloadBucket}/*"}},
        {"Action": "bedrock:InvokeModel", "Resource": "*"},
        {
            "Action": "bedrock:InvokeModel",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:bedrock:*::foundation-model/x"},
        },
        {"Action": "states:StartExecution", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:states:*:*:stateMachine:*"}},
    ]
    # Then each is reported
    assert [len(_unjustified_wildcards("T", statement)) for statement in bad] == [1, 1, 1, 1]


def _packaged_chain_model_ids() -> set[str]:
    from companion.chains import CHAIN_LIBRARY, packaged_chain

    return {model for path in CHAIN_LIBRARY.glob("*.json") for model in packaged_chain(path.stem).model_ids()}


def test_every_model_a_packaged_chain_uses_is_granted_and_nothing_else(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    # Given the model ids of every packaged chain, and the chain role's InvokeModel grants with the default parameters
    profile_ids = {m for m in _packaged_chain_model_ids() if re.match(r"^(us|eu|apac|global)\.", m)}
    plain_ids = _packaged_chain_model_ids() - profile_ids
    statements = [
        s for s in role_statements(transformed, "PromptChainRole") if "bedrock:InvokeModel" in as_list(s["Action"])
    ]
    texts = {
        arn_text(r)
        for s in statements
        for r in as_list(s["Resource"])
        if isinstance(r, dict) and "Fn::Sub" in r and not isinstance(r["Fn::Sub"], list)
    }
    prefix = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/"
    # Then each inference profile is granted in the stack's region, with its foundation model in any region
    assert {t.removeprefix(prefix) for t in texts if t.startswith(prefix)} == profile_ids
    destination = "arn:${AWS::Partition}:bedrock:*::foundation-model/"
    assert {t.removeprefix(destination) for t in texts if t.startswith(destination)} == {
        m.split(".", 1)[1] for m in profile_ids
    }
    # And only through those profiles
    [conditioned] = [s for s in statements if "Condition" in s]
    allowed = {arn_text(a) for a in conditioned["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]}
    assert allowed == {prefix + m for m in profile_ids}
    # And plain foundation-model ids are among the AllowedModelIds defaults (the first four are granted)
    defaults = template["Parameters"]["AllowedModelIds"]["Default"].split(",")[:4]
    assert plain_ids <= set(defaults)


def test_extra_model_arns_are_granted_exactly_and_only_when_given(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    # Given the ExtraModelArns parameter (provisioned models, application profiles...), empty by default
    assert template["Parameters"]["ExtraModelArns"]["Default"] == ""
    # Then the chain role grants InvokeModel on exactly that list, under a condition that drops it when empty
    policies = transformed["Resources"]["PromptChainRole"]["Properties"]["Policies"]
    conditioned = [
        s for p in policies for s in as_list(p["PolicyDocument"]["Statement"]) if isinstance(s, dict) and "Fn::If" in s
    ]
    assert conditioned == [
        {
            "Fn::If": [
                "HasExtraModelArns",
                {
                    "Sid": "InvokeExtraModels",
                    "Effect": "Allow",
                    "Action": "bedrock:InvokeModel",
                    "Resource": {"Ref": "ExtraModelArns"},
                },
                {"Ref": "AWS::NoValue"},
            ]
        }
    ]
    assert template["Conditions"]["HasExtraModelArns"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ExtraModelArns"}]}, ""]}]
    }


def test_preprocess_prompt_may_only_write_requests_and_read_answers(transformed: dict[str, Any]) -> None:
    # Given the S3 permissions of the pre-processing function
    grants = _s3_grants(transformed, "PreprocessPromptFunction")

    # Then it may put objects under offload/requests/, read the answers a chain keeps under offload/responses/ and
    # a large map's variables and results under offload/maps/, and do nothing else in S3
    assert grants == {
        ("s3:PutObject", f"{BUCKET_ARN}/offload/requests/*", "{}"),
        ("s3:GetObject", f"{BUCKET_ARN}/offload/responses/*", "{}"),
        ("s3:GetObject", f"{BUCKET_ARN}/offload/maps/*", "{}"),
    }


def test_resolve_output_may_only_read_and_list_offloaded_responses(transformed: dict[str, Any]) -> None:
    # Given the S3 permissions of the resolving function
    grants = _s3_grants(transformed, "ResolveOutputFunction")

    # Then it may read objects under offload/responses/ and list that prefix only
    listing_condition = json.dumps({"StringLike": {"s3:prefix": "offload/responses/*"}}, sort_keys=True)
    listing_condition_as_list = json.dumps({"StringLike": {"s3:prefix": ["offload/responses/*"]}}, sort_keys=True)
    assert ("s3:GetObject", f"{BUCKET_ARN}/offload/responses/*", "{}") in grants
    listing = grants - {("s3:GetObject", f"{BUCKET_ARN}/offload/responses/*", "{}")}
    assert listing in (
        {("s3:ListBucket", BUCKET_ARN, listing_condition)},
        {("s3:ListBucket", BUCKET_ARN, listing_condition_as_list)},
    )


def test_postprocess_result_has_no_s3_access(transformed: dict[str, Any]) -> None:
    # Given the S3 permissions of the post-processing function
    grants = _s3_grants(transformed, "PostprocessResultFunction")

    # Then there are none: it only parses model output
    assert grants == set()


# ---------------------------------------------------------------- outputs and samconfig


def test_outputs_expose_every_function_arn_the_layer_and_the_bucket(template: dict[str, Any]) -> None:
    # Given the stack outputs
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}

    # Then tests and callers can find every function, the layer version and the bucket
    for function_name in {**FUNCTIONS, **OTHER_FUNCTIONS}:
        assert outputs[f"{function_name}Arn"] == {"Fn::GetAtt": [function_name, "Arn"]}
    assert outputs["CompanionRuntimeLayerArn"] == {"Ref": "CompanionRuntimeLayer"}
    assert outputs["PayloadBucketName"] == {"Ref": "PayloadBucket"}


def test_environment_parameter_defaults_to_dev(template: dict[str, Any]) -> None:
    # Given the Environment parameter
    parameter = template["Parameters"]["Environment"]

    # Then only dev and prod exist, and an unqualified deploy is dev
    assert sorted(parameter["AllowedValues"]) == ["dev", "prod"]
    assert parameter["Default"] == "dev"


def test_samconfig_builds_cached_and_lints_on_validate(samconfig: dict[str, Any]) -> None:
    # Given the SAM CLI configuration of each environment (default serves a bare `sam build` / `sam validate`)
    for environment in ("default", "dev", "prod"):
        # Then builds are cached and parallel, and `sam validate` lints offline
        assert samconfig[environment]["build"]["parameters"] == {"cached": True, "parallel": True}
        assert samconfig[environment]["validate"]["parameters"]["lint"] is True
        assert samconfig[environment]["validate"]["parameters"]["region"] == "us-east-1"


def test_samconfig_deploys_dev_and_prod_only_after_review(samconfig: dict[str, Any]) -> None:
    # Given the deploy settings of dev and prod
    dev = samconfig["dev"]["deploy"]["parameters"]
    prod = samconfig["prod"]["deploy"]["parameters"]

    # Then each deploys its own stack and environment
    assert (
        samconfig["dev"]["global"]["parameters"]["stack_name"]
        != samconfig["prod"]["global"]["parameters"]["stack_name"]
    )
    assert samconfig_overrides(dev)["Environment"] == "dev"
    assert samconfig_overrides(prod)["Environment"] == "prod"
    # And prod keeps logs longer and waits for a human to confirm the change set; dev does not ask
    assert int(samconfig_overrides(prod)["LogRetentionDays"]) > int(samconfig_overrides(dev)["LogRetentionDays"])
    assert prod["confirm_changeset"] is True
    assert dev["confirm_changeset"] is False
    for parameters in (dev, prod):
        assert parameters["capabilities"] == "CAPABILITY_IAM"
        assert parameters["resolve_s3"] is True
    # And only dev has `sam sync` settings; no environment deploys from `default`
    assert "sync" in samconfig["dev"]
    assert "sync" not in samconfig["prod"]
    assert "deploy" not in samconfig["default"]


def test_samconfig_gives_every_template_parameter_a_value(template: dict[str, Any], samconfig: dict[str, Any]) -> None:
    # Given the template's parameters
    parameters = template["Parameters"]

    for environment in ("dev", "prod"):
        overrides = samconfig_overrides(samconfig[environment]["deploy"]["parameters"])
        # Then each environment names every one (so a deploy asks nothing), and each value is one the template takes
        assert set(overrides) == set(parameters), environment
        assert samconfig[environment]["global"]["parameters"]["region"]
        for name, value in overrides.items():
            assert str(value) in {str(allowed) for allowed in parameters[name].get("AllowedValues", [value])}, name
    # And the schedules that bill Bedrock or a customization job stay off by default
    for environment in ("dev", "prod"):
        overrides = samconfig_overrides(samconfig[environment]["deploy"]["parameters"])
        assert overrides["BatchScheduleState"] == overrides["FineTuningScheduleState"] == "DISABLED"


# ---------------------------------------------------------------- state machines

STATE_MACHINE_DEFINITION = ROOT / "statemachines" / "prompt_chain.asl.yaml"
STATE_MACHINES = ("PromptChainStateMachine", "PromptChainExpressStateMachine")
FOUNDATION_MODEL_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${ModelId}"


def _state_machine_grants(transformed: dict[str, Any], machine: str) -> dict[str, list[Any]]:
    """Action -> resources (as written) that the state machine's role allows."""
    role = transformed["Resources"][machine]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    grants: dict[str, list[Any]] = {}
    for statement in role_statements(transformed, role):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            grants.setdefault(action, []).extend(as_list(statement["Resource"]))
    return grants


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_prompt_chain_roles_grant_exactly_what_the_definition_calls(transformed: dict[str, Any], machine: str) -> None:
    # Given the permissions of the prompt-chain state machine's role
    grants = _state_machine_grants(transformed, machine)

    # Then it may invoke exactly the three companion functions
    assert sorted(json.dumps(r, sort_keys=True) for r in grants.pop("lambda:InvokeFunction")) == sorted(
        json.dumps({"Fn::GetAtt": [name, "Arn"]}, sort_keys=True) for name in FUNCTIONS
    )
    # And Bedrock may read offloaded requests and write responses with its permissions, the machine write long
    # answers beside them, a failed chain's completed steps, and a large map's items, variables and result files
    # (multipart uploads), nothing else in S3
    maps = f"{BUCKET_ARN}/offload/maps/*"
    assert sorted(arn_text(r) for r in grants.pop("s3:GetObject")) == [maps, f"{BUCKET_ARN}/offload/requests/*"]
    assert sorted(arn_text(r) for r in grants.pop("s3:PutObject")) == [
        f"{BUCKET_ARN}/offload/failures/*",
        maps,
        f"{BUCKET_ARN}/offload/responses/*",
    ]
    for action in ("s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"):
        assert [arn_text(r) for r in grants.pop(action)] == [maps]
    # And the Standard machine may run its own Distributed Map children, and only those
    machine = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-PromptChain"
    children = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-PromptChain/*"
    assert [arn_text(r) for r in grants.pop("states:StartExecution")] == [machine]
    for action in ("states:DescribeExecution", "states:StopExecution"):
        assert [arn_text(r) for r in grants.pop(action)] == [children]
    # And it may invoke foundation models of this region picked from AllowedModelIds (the packaged chains'
    # inference profiles are checked by test_every_model_a_packaged_chain_uses_is_granted_and_nothing_else)
    models = grants.pop("bedrock:InvokeModel")
    slots = [resource for resource in models if isinstance(resource.get("Fn::Sub"), list)]
    assert len(slots) == 4
    for index, resource in enumerate(slots):
        template_text, variables = resource["Fn::Sub"]
        assert template_text == FOUNDATION_MODEL_ARN
        selected = variables["ModelId"]["Fn::Select"]
        assert selected[0] == index
        assert '{"Ref": "AllowedModelIds"}' in json.dumps(selected[1])
    # And whatever else SAM adds (logging, tracing) is not an S3, Lambda, Bedrock or Step Functions permission
    assert not [action for action in grants if action.split(":")[0] in {"s3", "lambda", "bedrock", "states"}]


def test_allowed_model_ids_default_to_plain_foundation_models(template: dict[str, Any]) -> None:
    # Given the AllowedModelIds parameter
    parameter = template["Parameters"]["AllowedModelIds"]
    # Then it is a list of plain model ids (inference profiles need the extra grants the template comments describe)
    assert parameter["Type"] == "CommaDelimitedList"
    ids = parameter["Default"].split(",")
    assert 1 <= len(ids) <= 4
    assert all(not re.match(r"^(us|eu|apac|global)\.", model_id) for model_id in ids)


@pytest.mark.parametrize(
    ("machine", "workflow", "level", "definition"),
    [
        ("PromptChainStateMachine", "STANDARD", "ERROR", "prompt_chain.asl.yaml"),
        ("PromptChainExpressStateMachine", "EXPRESS", "ALL", "prompt_chain_inline.asl.yaml"),
    ],
)
def test_prompt_chain_state_machines_are_generated_logged_traced_and_substituted(
    resources: dict[str, Any], machine: str, workflow: str, level: str, definition: str
) -> None:
    # Given the state machine resource
    properties = resources[machine]["Properties"]

    # Then it is a Standard or Express workflow defined in its generated ASL file (Express: without the Distributed
    # Map, which Step Functions runs in Standard workflows only), with every function ARN substituted
    assert properties["Type"] == workflow
    assert properties["DefinitionUri"] == f"statemachines/{definition}"
    assert properties["DefinitionSubstitutions"] == {
        **{f"{name}Arn": {"Fn::GetAtt": [name, "Arn"]} for name in FUNCTIONS},
        "PayloadBucketName": {"Ref": "PayloadBucket"},
    }
    # And it logs without execution data (prompts, answers) to its own log group with retention: errors only for
    # Standard, every event for Express (its only execution history)
    logging = properties["Logging"]
    assert logging["Level"] == level
    assert logging["IncludeExecutionData"] is False
    [destination] = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # And it is traced
    assert properties["Tracing"] == {"Enabled": True}


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_prompt_chain_definition_is_structurally_valid_with_every_placeholder_resolved(machine: str) -> None:
    # Given the template loaded the way the offline runner loads it (substituted and validated)
    from sfn_offline.template import load_template, validate_definition

    spec = load_template(TEMPLATE).state_machines[machine]

    # Then no ${...} is left, every Next/Default/Catch target exists, and validation passes again on the result
    validate_definition(spec.definition, "prompt_chain.asl.yaml")
    assert "${" not in json.dumps(spec.definition)
    # And each placeholder of the source file has a DefinitionSubstitutions entry
    source = STATE_MACHINE_DEFINITION.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(\w+)\}", source)) == {f"{name}Arn" for name in FUNCTIONS} | {"PayloadBucketName"}


def test_prompt_chain_definition_with_a_dangling_transition_is_rejected() -> None:
    # Given the definition with one transition renamed to a state that does not exist (statelint's blind spot)
    from sfn_offline.template import DefinitionError, validate_definition

    definition = yaml.safe_load(STATE_MACHINE_DEFINITION.read_text(encoding="utf-8"))
    definition["States"]["Run Stage Steps"]["ItemProcessor"]["States"]["Check Reprompt Budget"]["Default"] = "Fail Stpe"

    # Then validation names the broken place
    with pytest.raises(DefinitionError, match=re.escape("Check Reprompt Budget.Default")):
        validate_definition(definition, "prompt_chain.asl.yaml")


def test_prompt_chain_is_jsonata_throughout_with_one_invoke_state_and_the_named_retries() -> None:
    # Given the definition's states, the step flow (the Map's ItemProcessor) included
    from companion.retry_policies import retry_policy

    definition = yaml.safe_load(STATE_MACHINE_DEFINITION.read_text(encoding="utf-8"))
    step_flow = definition["States"]["Run Stage Steps"]["ItemProcessor"]["States"]
    states = {**definition["States"], **step_flow}
    # Then the query language is declared once, for the whole machine
    assert definition["QueryLanguage"] == "JSONata"
    assert not [name for name, state in states.items() if "QueryLanguage" in state]
    # And one state invokes the model, whatever the request form (Body or Input.S3Uri, with or without Output.S3Uri)
    invokes = [name for name, state in states.items() if state.get("Resource", "").endswith("bedrock:invokeModel")]
    assert invokes == ["Invoke Model"]
    # And every task retries with its service's named policy (companion.retry_policies)
    policies = {"bedrock": "bedrock_invoke_transient", "lambda": "lambda_transient", "aws-sdk": "s3_transient"}
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    for name, state in tasks.items():
        service = state["Resource"].split(":::")[1].split(":")[0]
        assert state["Retry"] == retry_policy(policies[service]), name
    # And any other error of the step flow goes to the step's failure record, with the error beside the step's input
    for name, state in tasks.items():
        if name in step_flow:
            catch = state["Catch"][-1]
            assert (catch["ErrorEquals"], catch["Next"]) == (["States.ALL"], "Describe Step Failure"), name
            assert catch["Output"] == '{% $merge([$states.input, {"error": $states.errorOutput}]) %}'


def test_outputs_expose_both_prompt_chain_state_machines(template: dict[str, Any]) -> None:
    for machine in STATE_MACHINES:
        assert template["Outputs"][f"{machine}Arn"]["Value"] == {"Ref": machine}


# ---------------------------------------------------------------- chain API


def test_chain_api_role_may_only_start_and_describe_the_chain_machines(transformed: dict[str, Any]) -> None:
    # Given the chain API function's role
    statements = role_statements(transformed, _function_role_name(transformed, "ChainApiFunction"))
    granted = {
        (action, arn_text(resource))
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if not action.startswith(("logs:", "xray:"))
    }

    # Then it may start the Standard machine, run the Express one synchronously, and describe Standard executions
    # (the only resource wildcard: execution names are chosen per request; the machine is fixed)
    describe = str(
        [
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${MachineName}:*",
            {"MachineName": {"Fn::GetAtt": ["PromptChainStateMachine", "Name"]}},
        ]
    )
    assert granted == {
        ("states:StartExecution", json.dumps({"Ref": "PromptChainStateMachine"}, sort_keys=True)),
        ("states:StartSyncExecution", json.dumps({"Ref": "PromptChainExpressStateMachine"}, sort_keys=True)),
        ("states:DescribeExecution", describe),
    }


def test_chain_api_function_knows_both_machines(transformed: dict[str, Any]) -> None:
    variables = transformed["Resources"]["ChainApiFunction"]["Properties"]["Environment"]["Variables"]

    assert variables["STANDARD_STATE_MACHINE_ARN"] == {"Ref": "PromptChainStateMachine"}
    assert variables["EXPRESS_STATE_MACHINE_ARN"] == {"Ref": "PromptChainExpressStateMachine"}


def test_chain_api_routes_require_iam_by_default_and_can_be_opened(template: dict[str, Any]) -> None:
    # Given the chain API, its function's events and the ApiAuth parameter
    api = template["Resources"]["ChainApi"]["Properties"]
    events = template["Resources"]["ChainApiFunction"]["Properties"]["Events"]
    parameter = template["Parameters"]["ApiAuth"]

    # Then both routes are on the v1 stage of that API
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert routes == {("post", "/chains"), ("get", "/chains/{id}")}
    assert all(e["Properties"]["RestApiId"] == {"Ref": "ChainApi"} for e in events.values())
    assert api["StageName"] == "v1"
    # And authorization is IAM unless the stack is deployed with ApiAuth=NONE
    assert api["Auth"]["DefaultAuthorizer"] == {"Ref": "ApiAuth"}
    assert parameter["Default"] == "AWS_IAM"
    assert set(parameter["AllowedValues"]) == {"AWS_IAM", "NONE"}


def test_chain_api_methods_are_signed_with_sigv4_by_default(transformed: dict[str, Any]) -> None:
    # Given the generated OpenAPI body with the default parameters
    paths = transformed["Resources"]["ChainApi"]["Properties"]["Body"]["paths"]

    # Then every method asks for SigV4 (IAM) authorization
    methods = [paths["/chains"]["post"], paths["/chains/{id}"]["get"]]
    assert all(method.get("security") for method in methods)
