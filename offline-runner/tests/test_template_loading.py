"""Loading SAM templates: fixture templates, and `sam build` output laid out by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sfn_offline.functions import load_function
from sfn_offline.template import ACCOUNT, REGION, TemplateError, load_template

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHAIN = FIXTURES / "chain" / "template.yaml"


def test_a_parameter_without_default_needs_a_value(tmp_path: Path) -> None:
    # Given a template whose parameter has no default
    (tmp_path / "template.yaml").write_text(
        "Parameters:\n  Owner:\n    Type: String\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        "    Properties:\n      BucketName: !Sub ${Owner}-bucket\n"
    )

    # Then loading without a value fails, and with one it resolves
    with pytest.raises(TemplateError, match=r"Parameters\.Owner: no value given and no Default"):
        load_template(tmp_path / "template.yaml")
    assert load_template(tmp_path / "template.yaml", {"Owner": "team"}).buckets == {"Bucket": "team-bucket"}


# ---------------------------------------------------------------- fixture templates


def test_fixture_resolves_names_conditions_and_globals() -> None:
    # Given the chain fixture in prod
    template = load_template(CHAIN, {"Stage": "prod"})

    # Then names come from Sub over pseudo parameters and parameters
    hello = template.functions["HelloFunction"]
    assert hello.name == "offline-hello-prod"
    assert hello.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:offline-hello-prod"
    # And Globals merge with the function's own environment; Ref/GetAtt of a bucket give its name and ARN
    assert dict(hello.environment) == {
        "STAGE": "prod",
        "RESULTS_BUCKET": "offline-resultsbucket",
        "RESULTS_ARN": "arn:aws:s3:::offline-resultsbucket",
    }
    assert (hello.runtime, hello.timeout, hello.memory_mb) == ("python3.13", 10.0, 128)
    # And a bucket's own BucketName wins; a bucket whose Condition holds exists
    assert template.buckets == {
        "ResultsBucket": "offline-resultsbucket",
        "NamedBucket": "fixture-prod-archive",
        "ProdOnlyBucket": "offline-prodonlybucket",
    }


def test_resources_whose_condition_is_false_do_not_exist() -> None:
    # When loading the chain fixture in dev
    template = load_template(CHAIN)

    # Then the prod-only bucket is not created
    assert "ProdOnlyBucket" not in template.buckets
    assert template.functions["HelloFunction"].name == "offline-hello-dev"


def test_api_events_of_functions_and_state_machines_become_routes() -> None:
    # When loading a template with Api events on a state machine and on a function
    routes = {(route.method, route.path): route for route in load_template(CHAIN).apis}

    # Then each is a route to its target
    assert set(routes) == {("POST", "/chains"), ("GET", "/hello")}
    assert (routes["POST", "/chains"].target, routes["POST", "/chains"].target_kind) == (
        "ChainStateMachine",
        "state_machine",
    )
    assert (routes["GET", "/hello"].target, routes["GET", "/hello"].target_kind) == ("HelloApiFunction", "function")


def test_unknown_references_name_their_place(tmp_path: Path) -> None:
    # Given a function whose environment refers to nothing
    (tmp_path / "fn").mkdir()
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn/\n"
        "      Handler: app.handler\n      Runtime: python3.11\n      Environment:\n        Variables:\n"
        "          TABLE: !GetAtt Nowhere.Arn\n"
    )

    # Then the error names the file and the property path
    with pytest.raises(TemplateError) as raised:
        load_template(tmp_path / "template.yaml")
    assert (
        "Resources.Fn.Properties.Environment.Variables.TABLE.Fn::GetAtt: no parameter or resource named 'Nowhere'"
        in str(raised.value)
    )


def test_code_that_is_not_on_disk_is_refused_when_the_function_is_loaded(tmp_path: Path) -> None:
    # Given a function whose code is in S3
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: s3://bucket/code.zip\n      Handler: app.handler\n      Runtime: python3.11\n"
    )
    # When the template loads, Then only loading that function fails (its task may be mocked or never reached)
    template = load_template(tmp_path / "template.yaml")
    with pytest.raises(TemplateError, match=r"Fn: CodeUri: code in S3 cannot run in-process"):
        load_function(template.functions["Fn"])


# ---------------------------------------------------------------- sam build output


def _sam_build_layout(project: Path) -> Path:
    """What `sam build` leaves behind, written by hand: built code folders, a built layer with python/, and a
    template that keeps DefinitionUri (rewritten relative to the build folder) and long-form Fn::GetAtt."""
    build = project / ".aws-sam" / "build"
    (build / "HelloFunction").mkdir(parents=True)
    (build / "HelloFunction" / "app.py").write_text(
        "from offline_built_layer_lib import LABEL\n\n\ndef handler(event, context):\n    return {'built': LABEL}\n"
    )
    (build / "SharedLayer" / "python" / "offline_built_layer_lib").mkdir(parents=True)
    (build / "SharedLayer" / "python" / "offline_built_layer_lib" / "__init__.py").write_text("LABEL = 'built layer'\n")
    (project / "statemachines").mkdir()
    shutil.copy(FIXTURES / "chain" / "statemachines" / "echo.asl.yaml", project / "statemachines" / "echo.asl.yaml")
    (project / "statemachines" / "call.asl.json").write_text(
        json.dumps(
            {
                "StartAt": "Call",
                "States": {"Call": {"Type": "Task", "Resource": "${HelloArn}", "End": True}},
            }
        )
    )
    (build / "template.yaml").write_text(
        """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Layers:
    - Ref: SharedLayer
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: SharedLayer
    Metadata:
      BuildMethod: python3.11
      SamResourceId: SharedLayer
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: HelloFunction
      Handler: app.handler
    Metadata:
      SamResourceId: HelloFunction
  CallStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: ../../statemachines/call.asl.json
      DefinitionSubstitutions:
        HelloArn:
          Fn::GetAtt:
          - HelloFunction
          - Arn
    Metadata:
      SamResourceId: CallStateMachine
"""
    )
    return build / "template.yaml"


def test_sam_build_output_points_at_built_code_and_the_layers_python_folder(tmp_path: Path) -> None:
    # Given sam build output
    built = _sam_build_layout(tmp_path)

    # When loading the built template
    template = load_template(built)

    # Then the function runs the built code with the built layer's python/ folder on the import path
    hello = template.functions["HelloFunction"]
    assert hello.code_uri == (tmp_path / ".aws-sam" / "build" / "HelloFunction").resolve()
    assert hello.layers == ((tmp_path / ".aws-sam" / "build" / "SharedLayer" / "python").resolve(),)
    # And the definition is read from the source tree, with long-form GetAtt substituted
    machine = template.state_machines["CallStateMachine"]
    assert machine.definition_path == (tmp_path / "statemachines" / "call.asl.json").resolve()
    assert machine.definition["States"]["Call"]["Resource"] == hello.arn


def test_sam_build_output_functions_load_and_import_from_the_built_layer(tmp_path: Path) -> None:
    from sfn_offline.functions import handlers_for

    # Given sam build output loaded
    template = load_template(_sam_build_layout(tmp_path))

    # When calling its function by ARN
    handlers = handlers_for(template)

    # Then it imports the library from the built layer
    assert handlers[template.functions["HelloFunction"].arn]({}, None) == {"built": "built layer"}
