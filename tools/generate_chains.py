"""Regenerate what the packaged chains compile to: ``statemachines/chains/<name>.asl.yaml``, the packaged-chain batch
machine (``statemachines/packaged_chain_batch.asl.yaml``) and their block of ``template.yaml`` (between the
``# BEGIN generated chain machines`` and ``# END generated chain machines`` lines); and the generic interpreter for
inline chains (``statemachines/prompt_chain.asl.yaml``), its family facts taken from the codec.

Run ``make generate`` after changing a packaged chain, the compiler or the codec; ``--check`` exits 1 when a
committed file differs from what this would write (tests/unit/test_generated_chains.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from companion.chains import CHAIN_LIBRARY, Chain, MapSteps, packaged_chain
from companion.chains.compiler import compile_chain, to_yaml
from companion.chains.compiler.batch import batch_definition
from companion.chains.compiler.interpreter import interpreter_definition

ROOT = Path(__file__).resolve().parents[1]
MACHINES = Path("statemachines") / "chains"
BATCH = Path("statemachines") / "packaged_chain_batch.asl.yaml"
INTERPRETER = Path("statemachines") / "prompt_chain.asl.yaml"
INTERPRETER_INLINE_MAPS = Path("statemachines") / "prompt_chain_inline.asl.yaml"
TEMPLATE = Path("template.yaml")
BEGIN = "  # BEGIN generated chain machines (make generate; do not edit by hand)\n"
END = "  # END generated chain machines\n"
_GEO_PROFILE = re.compile(r"^(us|eu|apac|global|us-gov|ca|jp|au)\.(.+)$")
_SUBSTITUTIONS = {
    "PreprocessPromptFunctionArn": "!GetAtt PreprocessPromptFunction.Arn",
    "PostprocessResultFunctionArn": "!GetAtt PostprocessResultFunction.Arn",
    "ResolveOutputFunctionArn": "!GetAtt ResolveOutputFunction.Arn",
    "PayloadBucketName": "!Ref PayloadBucket",
    "PrepareBatchFunctionArn": "!GetAtt PrepareBatchFunction.Arn",
    "SummarizeBatchFunctionArn": "!GetAtt SummarizeBatchFunction.Arn",
}
_FUNCTIONS = {
    "PreprocessPromptFunctionArn": "PreprocessPromptFunction",
    "PostprocessResultFunctionArn": "PostprocessResultFunction",
    "ResolveOutputFunctionArn": "ResolveOutputFunction",
    "PrepareBatchFunctionArn": "PrepareBatchFunction",
    "SummarizeBatchFunctionArn": "SummarizeBatchFunction",
}


def logical_prefix(chain_name: str) -> str:
    """``outline-draft-critique`` -> ``OutlineDraftCritique`` (the chain's resources are ``<prefix>Chain...``)."""
    return "".join(part.capitalize() for part in chain_name.split("-"))


def machine_name(chain_name: str) -> str:
    """The deployed state machine's name, after the stack's: ``<stack>-chain-<chain name>``."""
    return f"${{AWS::StackName}}-chain-{chain_name}"


@dataclass(frozen=True)
class Grants:
    """InvokeModel resources for a chain's model ids, as CloudFormation ``!Sub`` ARN texts."""

    direct: list[str]
    profile_destinations: list[str]
    profiles: list[str]


def model_grants(model_ids: Iterable[str]) -> Grants:
    """The exact ARNs a chain's models need: an inference profile in the stack's region and its foundation model in
    any destination region (only through that profile), a plain model id in the stack's region, an ARN as written."""
    direct: list[str] = []
    destinations: list[str] = []
    profiles: list[str] = []
    for model_id in sorted(set(model_ids)):
        profile = _GEO_PROFILE.match(model_id)
        if model_id.startswith("arn:"):
            direct.append(model_id)
        elif profile is not None:
            arn = f"arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}:${{AWS::AccountId}}:inference-profile/{model_id}"
            direct.append(arn)
            profiles.append(arn)
            destinations.append(f"arn:${{AWS::Partition}}:bedrock:*::foundation-model/{profile.group(2)}")
        else:
            direct.append(f"arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}::foundation-model/{model_id}")
    return Grants(direct, destinations, profiles)


def packaged_chains() -> list[Chain]:
    return [packaged_chain(path.stem) for path in sorted(CHAIN_LIBRARY.glob("*.json"))]


def definition_text(chain: Chain) -> str:
    return to_yaml(compile_chain(chain))


def _sub(text: str) -> str:
    return f"!Sub {text}" if "${" in text else text


def resources(chain: Chain, definition: str) -> str:
    """The chain's role, log group and Standard state machine as template YAML (short-form intrinsics)."""
    prefix = logical_prefix(chain.name)
    distributed = any(isinstance(stage, MapSteps) and stage.distributed for stage in chain.step_order())
    maps = distributed_map_statements(machine_name(chain.name), "offload/maps/") if distributed else []
    lines = [
        f"  # Packaged chain {chain.name}: statemachines/chains/{chain.name}.asl.yaml, compiled from",
        f"  # companion/chains/library/{chain.name}.json. Its role may invoke exactly the chain's models.",
        *_role(f"{prefix}ChainRole", f"Packaged chain {chain.name}", chain.model_ids(), definition, maps),
        *_log_group(f"{prefix}ChainStateMachine", f"{prefix}ChainLogGroup"),
        f"  {prefix}ChainStateMachine:",
        "    Type: AWS::Serverless::StateMachine",
        "    Properties:",
        "      Type: STANDARD",
        f"      Name: !Sub {machine_name(chain.name)}",
        f"      DefinitionUri: statemachines/chains/{chain.name}.asl.yaml",
        *_machine_tail(definition, f"{prefix}ChainLogGroup", f"{prefix}ChainRole"),
    ]
    return "\n".join(lines) + "\n"


BATCH_MACHINE_NAME = "${AWS::StackName}-PackagedChainBatch"


def api_policy(chains: list[Chain]) -> str:
    """What the chain API may do with the packaged chains' machines: start them and read their executions."""
    lines = [
        "  # The chain API starts packaged chains on their own machines (ChainApiFunction's Policies refer to this).",
        "  PackagedChainsApiPolicy:",
        "    Type: AWS::IAM::ManagedPolicy",
        "    Properties:",
        "      Description: Start the packaged chains' state machines and describe their executions",
        "      PolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - Sid: StartPackagedChains",
        "            Effect: Allow",
        "            Action: states:StartExecution",
        "            Resource:",
        *[f"              - !Ref {logical_prefix(chain.name)}ChainStateMachine" for chain in chains],
        "          # Execution names are chosen per request, so each execution ARN ends in a wildcard (machine fixed).",
        "          - Sid: DescribePackagedChainExecutions",
        "            Effect: Allow",
        "            Action: states:DescribeExecution",
        "            Resource:",
        *[
            "              - !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
            f"{machine_name(chain.name)}:*"
            for chain in chains
        ],
    ]
    return "\n".join(lines) + "\n"


def distributed_map_statements(machine_name: str, results_prefix: str) -> list[str]:
    """What a machine's role needs to run a Distributed Map: start and follow its child workflows (executions of the
    machine itself) and write the ResultWriter's files (read back: the manifest) under ``results_prefix``."""
    arn = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    return [
        "              # The ResultWriter writes result files in multipart uploads.",
        "              - Sid: WriteMapResults",
        "                Effect: Allow",
        "                Action:",
        "                  - s3:PutObject",
        "                  - s3:GetObject",
        "                  - s3:ListMultipartUploadParts",
        "                  - s3:AbortMultipartUpload",
        f"                Resource: !Sub arn:${{AWS::Partition}}:s3:::${{PayloadBucket}}/{results_prefix}*",
        "              # Distributed Map: child workflow executions of this machine (names generated per map run).",
        "              - Sid: RunMapChildWorkflows",
        "                Effect: Allow",
        "                Action: states:StartExecution",
        f"                Resource: !Sub {arn}:stateMachine:{machine_name}",
        "              - Sid: FollowMapChildWorkflows",
        "                Effect: Allow",
        "                Action:",
        "                  - states:DescribeExecution",
        "                  - states:StopExecution",
        f"                Resource: !Sub {arn}:execution:{machine_name}/*",
    ]


def batch_resources(chains: list[Chain], definition: str) -> str:
    """The packaged-chain batch machine (EXPRESS children), its role and log group, and the schedule that runs it."""
    models = sorted({model for chain in chains for model in chain.model_ids()})
    batch_statements = [
        "              - Sid: ReadPromptSets",
        "                Effect: Allow",
        "                Action: s3:GetObject",
        "                Resource: !Sub arn:${AWS::Partition}:s3:::${PayloadBucket}/prompt-sets/*",
        *distributed_map_statements(BATCH_MACHINE_NAME, "batches/results/"),
    ]
    lines = [
        "  # The packaged chains over a prompt set: statemachines/packaged_chain_batch.asl.yaml. Each line runs as",
        "  # an EXPRESS child executing the compiled chain (at most 5 minutes; longer: ChainBatchStateMachine).",
        *_role("PackagedChainBatchRole", "Packaged chain batches", models, definition, batch_statements),
        *_log_group("PackagedChainBatchStateMachine", "PackagedChainBatchLogGroup"),
        "  PackagedChainBatchStateMachine:",
        "    Type: AWS::Serverless::StateMachine",
        "    Properties:",
        "      Type: STANDARD",
        f"      Name: !Sub {BATCH_MACHINE_NAME}",
        f"      DefinitionUri: {BATCH.as_posix()}",
        *_machine_tail(definition, "PackagedChainBatchLogGroup", "PackagedChainBatchRole"),
        "      Events:",
        "        ScheduledBatch:",
        "          Type: ScheduleV2",
        "          Properties:",
        "            Description: Runs the configured chain over the configured prompt set",
        "            ScheduleExpression: !Ref BatchScheduleExpression",
        "            State: !Ref BatchScheduleState",
        "            # A start still failing after the retries (throttled, machine updating) goes to the queue.",
        "            RetryPolicy:",
        "              MaximumRetryAttempts: 3",
        "              MaximumEventAgeInSeconds: 3600",
        "            DeadLetterConfig:",
        "              Arn: !GetAtt ScheduleDeadLetterQueue.Arn",
        "            Input: !Sub >-",
        '              {"chain": "${ScheduledChainName}", "prompt_set": "${ScheduledPromptSetKey}",',
        '              "max_concurrency": ${BatchMaxConcurrency},',
        '              "tolerated_failure_percentage": ${BatchToleratedFailurePercentage}}',
    ]
    return "\n".join(lines) + "\n"


def _role(logical_id: str, subject: str, model_ids: list[str], definition: str, extra: list[str]) -> list[str]:
    used = [name for name in _SUBSTITUTIONS if f"${{{name}}}" in definition]
    grants = model_grants(model_ids)
    lines = [
        f"  {logical_id}:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        f"      Description: {subject} - the models, the step functions, offloaded payloads in S3",
        "      AssumeRolePolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - Effect: Allow",
        "            Principal:",
        "              Service: states.amazonaws.com",
        "            Action: sts:AssumeRole",
        "            Condition:",
        "              StringEquals:",
        "                aws:SourceAccount: !Ref AWS::AccountId",
        "      Policies:",
        "        - PolicyName: InvokeChainModels",
        "          PolicyDocument:",
        '            Version: "2012-10-17"',
        "            Statement:",
        "              - Sid: InvokeChainModels",
        "                Effect: Allow",
        "                Action: bedrock:InvokeModel",
        "                Resource:",
        *[f"                  - {_sub(arn)}" for arn in grants.direct],
    ]
    if grants.profiles:
        lines += [
            "              - Sid: InvokeProfileDestinationModels",
            "                Effect: Allow",
            "                Action: bedrock:InvokeModel",
            "                Resource:",
            *[f"                  - {_sub(arn)}" for arn in grants.profile_destinations],
            "                Condition:",
            "                  StringEquals:",
            "                    bedrock:InferenceProfileArn:",
            *[f"                      - {_sub(arn)}" for arn in grants.profiles],
        ]
    steps: list[str] = []
    functions = [_FUNCTIONS[name] for name in used if name in _FUNCTIONS]
    if functions:
        steps += [
            "              - Sid: InvokeStepFunctions",
            "                Effect: Allow",
            "                Action: lambda:InvokeFunction",
            "                Resource:",
            *[f"                  - !GetAtt {function}.Arn" for function in functions],
        ]
    if "PreprocessPromptFunctionArn" in used:
        steps += [
            "              # Bedrock reads Input.S3Uri with the state machine role's permissions.",
            "              - Sid: ReadOffloadedRequests",
            "                Effect: Allow",
            "                Action: s3:GetObject",
            "                Resource: !Sub arn:${AWS::Partition}:s3:::${PayloadBucket}/offload/requests/*",
        ]
    if "s3://${PayloadBucketName}/offload/responses/" in definition:
        steps += [
            "              # Bedrock writes Output.S3Uri with the state machine role's permissions.",
            "              - Sid: WriteOffloadedResponses",
            "                Effect: Allow",
            "                Action: s3:PutObject",
            "                Resource: !Sub arn:${AWS::Partition}:s3:::${PayloadBucket}/offload/responses/*",
        ]
    if "offload/failures/" in definition:
        steps += [
            "              # A failing chain writes its completed steps here before it fails.",
            "              - Sid: WriteFailedChainResults",
            "                Effect: Allow",
            "                Action: s3:PutObject",
            "                Resource: !Sub arn:${AWS::Partition}:s3:::${PayloadBucket}/offload/failures/*",
        ]
    steps += extra
    if steps:
        lines += [
            "        - PolicyName: RunSteps",
            "          PolicyDocument:",
            '            Version: "2012-10-17"',
            "            Statement:",
            *steps,
        ]
    lines += [
        "        - PolicyName: LogsAndTraces",
        "          PolicyDocument:",
        '            Version: "2012-10-17"',
        "            Statement:",
        "              # CloudWatch Logs delivery and X-Ray actions support no resource-level permissions.",
        "              - Sid: DeliverExecutionLogs",
        "                Effect: Allow",
        "                Action:",
        *[
            f"                  - logs:{action}"
            for action in (
                "CreateLogDelivery",
                "GetLogDelivery",
                "UpdateLogDelivery",
                "DeleteLogDelivery",
                "ListLogDeliveries",
                "PutResourcePolicy",
                "DescribeResourcePolicies",
                "DescribeLogGroups",
            )
        ],
        '                Resource: "*"',
        "              - Sid: WriteTraces",
        "                Effect: Allow",
        "                Action:",
        *[
            f"                  - xray:{action}"
            for action in ("PutTraceSegments", "PutTelemetryRecords", "GetSamplingRules", "GetSamplingTargets")
        ],
        '                Resource: "*"',
    ]
    return lines


def _log_group(machine_id: str, logical_id: str) -> list[str]:
    return [
        f"  {logical_id}:",
        "    Type: AWS::Logs::LogGroup",
        "    DeletionPolicy: Delete",
        "    UpdateReplacePolicy: Delete",
        "    Properties:",
        f"      LogGroupName: !Sub /aws/vendedlogs/states/${{AWS::StackName}}/{machine_id}",
        "      RetentionInDays: !Ref LogRetentionDays",
    ]


def _machine_tail(definition: str, log_group: str, role: str) -> list[str]:
    used = [name for name in _SUBSTITUTIONS if f"${{{name}}}" in definition]
    lines = ["      DefinitionSubstitutions:", *[f"        {name}: {_SUBSTITUTIONS[name]}" for name in used]]
    return [
        *(lines if used else []),
        "      Logging:",
        "        Level: ERROR",
        "        IncludeExecutionData: false",
        "        Destinations:",
        "          - CloudWatchLogsLogGroup:",
        f"              LogGroupArn: !GetAtt {log_group}.Arn",
        "      Tracing:",
        "        Enabled: true",
        f"      Role: !GetAtt {role}.Arn",
    ]


def generated_files(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file (relative path -> text) as the current chains, compiler and codec produce it."""
    files: dict[Path, str] = {}
    block = ""
    chains = packaged_chains()
    for chain in chains:
        definition = definition_text(chain)
        files[MACHINES / f"{chain.name}.asl.yaml"] = definition
        block += resources(chain, definition)
    block += api_policy(chains)
    batch = to_yaml(batch_definition([(chain, compile_chain(chain)) for chain in chains]))
    files[BATCH] = batch
    files[INTERPRETER] = to_yaml(interpreter_definition())
    files[INTERPRETER_INLINE_MAPS] = to_yaml(interpreter_definition(distributed_maps=False))
    block += batch_resources(chains, batch)
    template = (root / TEMPLATE).read_text(encoding="utf-8")
    if BEGIN not in template or END not in template:
        raise SystemExit(
            f"{TEMPLATE}: the generated block's markers are missing ({BEGIN.strip()!r} ... {END.strip()!r})"
        )
    head, rest = template.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    files[TEMPLATE] = head + BEGIN + block + END + tail
    return files


def stale_files(root: Path = ROOT) -> list[Path]:
    """Generated files whose committed text differs from what :func:`generated_files` gives, and strays."""
    files = generated_files(root)
    stale = {path for path, text in files.items() if _read(root / path) != text}
    stale |= {path.relative_to(root) for path in (root / MACHINES).glob("*.asl.yaml")} - set(files)
    return sorted(stale)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed generated file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path} (run make generate)", file=sys.stderr)
        return 1 if stale else 0
    (ROOT / MACHINES).mkdir(parents=True, exist_ok=True)
    files = generated_files()
    for stray in sorted((ROOT / MACHINES).glob("*.asl.yaml")):
        if stray.relative_to(ROOT) not in files:
            stray.unlink()
    for path, text in files.items():
        if _read(ROOT / path) != text:
            (ROOT / path).write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
