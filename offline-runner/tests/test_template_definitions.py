"""State machine definitions: DefinitionUri and inline, substitutions, and the checks moto does not make."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.template import (
    ACCOUNT,
    REGION,
    DefinitionError,
    DefinitionWarning,
    load_template,
    validate_definition,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHAIN = FIXTURES / "chain" / "template.yaml"


def test_definition_uri_substitutions_resolve_ref_getatt_sub_if_join_and_parameters() -> None:
    # Given the chain fixture in prod, with a parameter override
    template = load_template(CHAIN, {"Stage": "prod", "ModelId": "amazon.nova-lite-v1:0"})

    # When reading its state machine
    machine = template.state_machines["ChainStateMachine"]

    # Then every placeholder is replaced by the value CloudFormation would substitute
    states = machine.definition["States"]
    assert states["Invoke Hello"]["Parameters"] == {
        "FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:offline-hello-prod",
        "Payload.$": "$",
    }
    assert states["Invoke Model"]["Parameters"] == {
        "ModelId": f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0",
        "Output": {"S3Uri": f"s3://offline-resultsbucket/out/prod/{ACCOUNT}.json"},
        "Body": {"mode": "strict", "retries": "2", "by": "offline-hello-prod"},
    }
    assert states["Start Child"]["Parameters"] == {
        "StateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:InlineStateMachine"
    }
    # And the rest of the document is untouched
    assert states["Invoke Hello"]["Retry"] == [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "BackoffRate": 2.0}]
    assert machine.name == "chain-prod"
    assert machine.arn == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:chain-prod"
    assert machine.type == "STANDARD"
    assert machine.definition_path == (FIXTURES / "chain" / "statemachines" / "chain.asl.json").resolve()


def test_inline_definition_resolves_intrinsics() -> None:
    # When reading the fixture's inline definition
    machine = load_template(CHAIN).state_machines["InlineStateMachine"]

    # Then its GetAtt became the function's ARN, and its type is kept
    assert machine.definition == {
        "StartAt": "Say Hello",
        "States": {
            "Say Hello": {
                "Type": "Task",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:offline-hello-dev",
                "End": True,
            }
        },
    }
    assert machine.definition_path is None
    assert machine.type == "EXPRESS"


def test_yaml_definition_files_are_read() -> None:
    machine = load_template(CHAIN).state_machines["YamlStateMachine"]
    assert machine.definition["States"]["Echo"]["Result"] == {"greeting": f"hello from {REGION}"}


def test_an_unresolved_placeholder_names_the_file_the_state_and_the_placeholder() -> None:
    # Given a definition using ${ModelArn}, which DefinitionSubstitutions does not define
    with pytest.raises(DefinitionError) as raised:
        load_template(FIXTURES / "unresolved" / "template.yaml")

    # Then the error points at the file, the JSON path inside the Parallel branch, the state and the placeholder
    message = str(raised.value)
    assert message.split(": ", maxsplit=1)[0].endswith("unresolved/statemachines/broken.asl.json")
    assert "$.States.Fan Out.Branches[0].States.Call Model.Parameters.ModelId" in message
    assert "${ModelArn}" in message
    assert "'Call Model'" in message
    # And only the unknown placeholder is reported
    assert len(raised.value.problems) == 1


def test_a_dangling_next_in_a_definition_file_fails_the_load() -> None:
    with pytest.raises(DefinitionError, match=r"\$\.States\.First\.Next: 'Secnod' is not a state in this scope"):
        load_template(FIXTURES / "dangling" / "template.yaml")


VALID: dict[str, Any] = {
    "StartAt": "Fan Out",
    "States": {
        "Fan Out": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Right",
                    "States": {"Right": {"Type": "Pass", "Next": "Right Done"}, "Right Done": {"Type": "Succeed"}},
                },
            ],
            "Next": "Each Item",
        },
        "Each Item": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}},
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Failed",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "Broken"},
    },
}


def test_a_valid_definition_passes() -> None:
    validate_definition(copy.deepcopy(VALID), "valid.asl.json")


def _broken(change: Any) -> dict[str, Any]:
    definition = copy.deepcopy(VALID)
    change(definition["States"])
    return definition


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["Fan Out"].update(Next="Each Itme"),
            "$.States.Fan Out.Next: 'Each Itme' is not a state in this scope",
        ),
        (
            lambda s: s["Decide"].update(Default="Nowhere"),
            "$.States.Decide.Default: 'Nowhere' is not a state in this scope",
        ),
        (
            lambda s: s["Decide"]["Choices"][0].update(Next="Don"),
            "$.States.Decide.Choices[0].Next: 'Don' is not a state in this scope",
        ),
        (
            lambda s: s["Each Item"]["Catch"][0].update(Next="Fail"),
            "$.States.Each Item.Catch[0].Next: 'Fail' is not a state in this scope",
        ),
        (
            lambda s: s["Each Item"]["ItemProcessor"]["States"]["Work"].update(End=False, Next="Done"),
            "$.States.Each Item.ItemProcessor.States.Work.Next: 'Done' is not a state in this scope",
        ),
        (
            lambda s: s["Fan Out"]["Branches"][1]["States"]["Right"].update(Next="Left"),
            "$.States.Fan Out.Branches[1].States.Right.Next: 'Left' is not a state in this scope",
        ),
        (
            lambda s: s["Each Item"]["ItemProcessor"]["States"]["Work"].pop("Resource"),
            "$.States.Each Item.ItemProcessor.States.Work.Resource: a Task state needs Resource",
        ),
        (lambda s: s["Done"].update(Type="Succed"), "$.States.Done.Type: 'Succed' is not a state type"),
        (
            lambda s: s["Fan Out"]["Branches"][0]["States"]["Left"].update(Parameters={"Arn": "${FunctionArn}"}),
            "$.States.Fan Out.Branches[0].States.Left.Parameters.Arn: unresolved placeholder ${FunctionArn}",
        ),
        (lambda s: s["Done"].update(Type="Pass"), "$.States.Done: a Pass state needs exactly one of Next and End"),
    ],
)
def test_broken_definitions_are_refused_with_the_path_to_the_problem(change: Any, expected: str) -> None:
    # Given a valid definition with one thing broken
    definition = _broken(change)

    # Then validation names the file and the place
    with pytest.raises(DefinitionError) as raised:
        validate_definition(definition, "flow.asl.json")
    assert f"flow.asl.json: {expected}" in str(raised.value)


def test_a_missing_start_state_is_refused() -> None:
    definition = copy.deepcopy(VALID)
    definition["StartAt"] = "Begin"
    with pytest.raises(DefinitionError, match=r"\$\.StartAt: 'Begin' is not a state in this scope"):
        validate_definition(definition, "flow.asl.json")


def test_unreachable_states_are_a_warning_not_an_error() -> None:
    definition = copy.deepcopy(VALID)
    definition["States"]["Orphan"] = {"Type": "Succeed"}
    with pytest.warns(DefinitionWarning, match=r"\$\.States\.Orphan"):
        validate_definition(definition, "flow.asl.json")


def test_yaml_definitions_resolve_anchors_and_aliases(tmp_path: Path) -> None:
    # Given a YAML definition whose second state reuses the first one's Retry through an alias
    (tmp_path / "twice.asl.yaml").write_text(
        "StartAt: First\nStates:\n"
        "  First:\n    Type: Task\n    Resource: ${Fn}\n    Retry: &twice\n"
        "    - ErrorEquals: [States.Timeout]\n      MaxAttempts: 2\n    Next: Second\n"
        "  Second:\n    Type: Task\n    Resource: ${Fn}\n    Retry: *twice\n    End: true\n"
    )
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  TwiceStateMachine:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
        "      DefinitionUri: twice.asl.yaml\n      DefinitionSubstitutions:\n        Fn: arn:aws:lambda:x\n"
    )

    # When loading the template
    states = load_template(tmp_path / "template.yaml").state_machines["TwiceStateMachine"].definition["States"]

    # Then both states carry the same policy, written once
    policy = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}]
    assert states["First"]["Retry"] == states["Second"]["Retry"] == policy


def test_a_yaml_syntax_error_is_one_problem_naming_the_line(tmp_path: Path) -> None:
    # Given a YAML definition with a tab-indented line 3
    (tmp_path / "tabs.asl.yaml").write_text("StartAt: A\nStates:\n\tA: {Type: Succeed}\n")
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  TabsStateMachine:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n"
        "      DefinitionUri: tabs.asl.yaml\n"
    )

    # When loading the template
    with pytest.raises(DefinitionError) as raised:
        load_template(tmp_path / "template.yaml")

    # Then one single-line problem: the file, line 3, and what YAML objected to
    [problem] = raised.value.problems
    assert problem.startswith("line 3 column 1: not YAML: ")
    assert "\n" not in str(raised.value)
    assert str(raised.value).split(": ", maxsplit=1)[0].endswith("tabs.asl.yaml")
