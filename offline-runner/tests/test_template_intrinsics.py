"""Intrinsic functions and Globals: SAM CLI's and samtranslator's code where it covers the case, the runner's where not.

Each test of a piece the runner keeps first shows what SAM CLI's stock ``IntrinsicResolver`` (as ``sam local`` uses it)
answers for the same template, then what the runner answers: the difference is why the piece is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from sfn_offline.template import TemplateError, load_template


def _template(tmp_path: Path, environment: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """A template with one function whose environment variables are ``environment`` (and more top-level keys)."""
    (tmp_path / "fn").mkdir(exist_ok=True)
    document: dict[str, Any] = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Size": {"Type": "Number", "Default": "3"}, "Names": {"Type": "CommaDelimitedList"}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "fn/",
                    "Handler": "app.handler",
                    "Runtime": "python3.12",
                    "Environment": {"Variables": environment},
                },
            },
            "Notes": {"Type": "AWS::S3::Bucket"},
            "Jobs": {"Type": "AWS::SQS::Queue"},
        },
    }
    for key, value in (extra or {}).items():
        document[key] = document.get(key, {}) | value if isinstance(value, dict) else value
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _environment(path: Path, **overrides: str) -> dict[str, str]:
    return dict(load_template(path, {"Names": "a,b", **overrides}).functions["Fn"].environment)


def _sam_cli(path: Path, value: Any, parameters: dict[str, Any] | None = None) -> Any:
    """What SAM CLI's stock resolver and symbol table answer for ``value`` in the template at ``path``."""
    from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import (  # type: ignore[import-untyped]
        IntrinsicResolver,
    )
    from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import (  # type: ignore[import-untyped]
        IntrinsicsSymbolTable,
    )

    document = yaml.safe_load(path.read_text())
    symbols = IntrinsicsSymbolTable(template=document, logical_id_translator=parameters or {})
    return IntrinsicResolver(template=document, symbol_resolver=symbols).intrinsic_property_resolver(value, False)


def test_sam_cli_evaluates_the_functions_it_covers(tmp_path: Path) -> None:
    # Given values built with Join, Split, FindInMap, Base64, GetAZs and conditions with And, Or, Not (SAM CLI's)
    path = _template(
        tmp_path,
        {
            "JOINED": {"Fn::Join": ["-", [{"Ref": "AWS::Region"}, {"Ref": "Size"}]]},
            "SECOND": {"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]},
            "FIRST_NAME": {"Fn::Select": [0, {"Ref": "Names"}]},
            "MAPPED": {"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Memory"]},
            "ENCODED": {"Fn::Base64": "hi"},
            "ZONE": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "WHEN": {"Fn::If": ["Both", "yes", "no"]},
        },
        {
            "Mappings": {"Sizes": {"us-east-1": {"Memory": "512"}}},
            "Conditions": {
                "Big": {"Fn::Equals": [{"Ref": "Size"}, "3"]},
                "Small": {"Fn::Not": [{"Condition": "Big"}]},
                "Both": {"Fn::And": [{"Condition": "Big"}, {"Fn::Or": [{"Condition": "Small"}, True]}]},
            },
        },
    )

    # When the template loads
    environment = _environment(path)

    # Then each value is what CloudFormation gives in the offline account and region
    assert environment == {
        "JOINED": "us-east-1-3",
        "SECOND": "y",
        "FIRST_NAME": "a",
        "MAPPED": "512",
        "ENCODED": "aGk=",
        "ZONE": "us-east-1a",
        "WHEN": "yes",
    }


def test_refs_to_resources_are_the_runners_physical_names(tmp_path: Path) -> None:
    # SAM CLI's table answers a bucket's logical id and a Lambda function ARN for any Arn; the runner creates the
    # bucket and the queue under names of its own, which Ref and GetAtt must give.
    path = _template(tmp_path, {"BUCKET": {"Ref": "Notes"}, "QUEUE": {"Fn::GetAtt": ["Jobs", "Arn"]}})
    assert _sam_cli(path, {"Ref": "Notes"}) == "Notes"
    assert _sam_cli(path, {"Fn::GetAtt": ["Jobs", "Arn"]}) == "arn:aws:lambda:us-east-1:123456789012:function:Jobs"

    assert _environment(path) == {"BUCKET": "offline-notes", "QUEUE": "arn:aws:sqs:us-east-1:123456789012:offline-Jobs"}


def test_no_value_removes_the_property(tmp_path: Path) -> None:
    # SAM CLI's table answers None for AWS::NoValue and the property stays; CloudFormation removes it.
    path = _template(tmp_path, {"KEPT": "1", "GONE": {"Ref": "AWS::NoValue"}})
    assert _sam_cli(path, {"GONE": {"Ref": "AWS::NoValue"}}) == {"GONE": None}

    assert _environment(path) == {"KEPT": "1"}


def test_sub_keeps_literal_placeholders_and_names_with_dots(tmp_path: Path) -> None:
    # SAM CLI's Fn::Sub leaves ${!Literal} as written; CloudFormation writes ${Literal}.
    text = "${!Literal} ${AWS::Region} ${Notes} ${Jobs.QueueName}"
    path = _template(tmp_path, {"TEXT": {"Fn::Sub": text}})
    assert _sam_cli(path, {"Fn::Sub": "${!Literal}"}) == "${!Literal}"

    assert _environment(path) == {"TEXT": "${Literal} us-east-1 offline-notes offline-Jobs"}


def test_if_evaluates_only_the_chosen_branch(tmp_path: Path) -> None:
    # SAM CLI's Fn::If evaluates both branches, so an untaken branch that cannot resolve offline fails the template.
    untaken = {"Fn::ImportValue": "OtherStackTable"}
    value = {"Fn::If": ["Local", "local-table", untaken]}
    path = _template(tmp_path, {"TABLE": value}, {"Conditions": {"Local": {"Fn::Equals": ["a", "a"]}}})
    with pytest.raises(Exception, match="ImportValue"):
        _sam_cli(path, value)

    assert _environment(path) == {"TABLE": "local-table"}


def test_equals_compares_as_text(tmp_path: Path) -> None:
    # SAM CLI's Fn::Equals compares Python values: the Number parameter "3" is not 3. CloudFormation compares strings.
    condition = {"Fn::Equals": [{"Ref": "Size"}, 3]}
    path = _template(tmp_path, {"BIG": {"Fn::If": ["Big", "yes", "no"]}}, {"Conditions": {"Big": condition}})
    assert _sam_cli(path, condition, {"Size": "3"}) is False

    assert _environment(path) == {"BIG": "yes"}


def test_select_takes_a_text_index(tmp_path: Path) -> None:
    # SAM CLI's Fn::Select refuses a text index; AWS's own example writes !Select ["1", [...]], and a Ref to a Number
    # parameter is text.
    by_text = {"Fn::Select": ["1", ["apples", "grapes"]]}
    by_parameter = {"Fn::Select": [{"Ref": "Size"}, ["a", "b", "c", "d"]]}
    path = _template(tmp_path, {"FRUIT": by_text, "LETTER": by_parameter})
    with pytest.raises(Exception, match="must resolve to a <class 'int'> type"):
        _sam_cli(path, by_text)

    assert _environment(path) == {"FRUIT": "grapes", "LETTER": "d"}


def test_a_select_index_out_of_range_names_its_place(tmp_path: Path) -> None:
    path = _template(tmp_path, {"X": {"Fn::Select": ["2", ["a", "b"]]}})

    with pytest.raises(TemplateError, match=r"Variables.X.Fn::Select: index '2' is not one of the 2 values"):
        _environment(path)


def test_parameters_are_checked_against_their_declaration(tmp_path: Path) -> None:
    # SAM CLI's table takes any override as is; CloudFormation refuses a Number that is not one.
    path = _template(tmp_path, {"SIZE": {"Ref": "Size"}})
    assert _sam_cli(path, {"Ref": "Size"}, {"Size": "big"}) == "big"

    with pytest.raises(TemplateError, match=r"Parameters.Size: 'big' is not a Number"):
        _environment(path, Size="big")


def test_globals_merge_through_the_sam_transform(tmp_path: Path) -> None:
    # Given Globals with environment variables and a timeout, and a function with its own variable and timeout
    path = _template(
        tmp_path,
        {"OWN": "1", "SHARED": "local"},
        {"Globals": {"Function": {"Timeout": 30, "Environment": {"Variables": {"SHARED": "global", "G": "2"}}}}},
    )
    document = yaml.safe_load(path.read_text())
    document["Resources"]["Fn"]["Properties"]["Timeout"] = 5
    path.write_text(yaml.safe_dump(document))

    # When the template loads
    function = load_template(path, {"Names": "a"}).functions["Fn"]

    # Then maps merge key by key with the function's own value winning, and the function's scalar wins
    assert dict(function.environment) == {"OWN": "1", "SHARED": "local", "G": "2"}
    assert function.timeout == 5.0


def test_a_globals_property_sam_does_not_take_is_refused(tmp_path: Path) -> None:
    # Given a Globals section with a property SAM does not take globally
    path = _template(tmp_path, {}, {"Globals": {"Function": {"FunctionName": "shared"}}})

    # Then loading names the section, as sam build does
    with pytest.raises(
        TemplateError, match=r"template.yaml: Globals: .*'FunctionName' is not a supported property of 'Function'"
    ):
        load_template(path, {"Names": "a"})
