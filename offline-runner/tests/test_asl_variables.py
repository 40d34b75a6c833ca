"""Variables (Assign) and JSONata (AWS Developer Guide: "Passing data between states with variables",
"Transforming data with JSONata")."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from sfn_offline.engine import run_definition


def test_assigned_variables_are_read_in_later_jsonpath_states() -> None:
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {
                "Type": "Pass",
                "Assign": {"user.$": "$.user", "greeting": "hello", "count.$": "States.ArrayLength($.items)"},
                "Next": "Use",
            },
            "Use": {
                "Type": "Pass",
                "Parameters": {"who.$": "$user.name", "greeting.$": "$greeting", "count.$": "$count"},
                "End": True,
            },
        },
    }
    result = run_definition(definition, {"user": {"name": "Ada"}, "items": [1, 2]})
    assert (result.status, result.output) == ("SUCCEEDED", {"who": "Ada", "greeting": "hello", "count": 2})


def test_assign_sees_the_state_input_and_the_result_not_the_new_variables() -> None:
    # Assign is evaluated against the state's input/result, and all assignments see the variables' previous values
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Second"},
            "Second": {"Type": "Pass", "Assign": {"x": 2, "before.$": "$x"}, "Next": "Show"},
            "Show": {"Type": "Pass", "Parameters": {"x.$": "$x", "before.$": "$before"}, "End": True},
        },
    }
    result = run_definition(definition, {})
    assert result.output == {"x": 2, "before": 1}


def test_jsonata_arguments_output_and_states_result() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {
            "Shape": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": "Sum",
                    "Payload": {
                        "values": "{% $states.input.numbers %}",
                        "label": "{% $uppercase($states.input.name) %}",
                    },
                },
                "Assign": {"label": "{% $states.result.Payload.label %}"},
                "Output": {"total": "{% $states.result.Payload.total %}", "input": "{% $states.input %}"},
                "Next": "Report",
            },
            "Report": {
                "Type": "Pass",
                "Output": "{% $label & ': ' & $string($states.input.total) %}",
                "End": True,
            },
        },
    }

    def total(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"total": sum(event["values"]), "label": event["label"]}

    result = run_definition(definition, {"numbers": [1, 2, 3], "name": "sum"}, functions={"Sum": total})
    assert (result.status, result.output) == ("SUCCEEDED", "SUM: 6")


def test_jsonata_choice_condition() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Output": "big", "End": True},
            "Small": {"Type": "Pass", "Output": "small", "End": True},
        },
    }
    assert run_definition(definition, {"n": 11}).output == "big"
    assert run_definition(definition, {"n": 1}).output == "small"


def test_jsonata_map_over_items_with_item_selector() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input.values %}",
                "ItemSelector": {
                    "v": "{% $states.context.Map.Item.Value %}",
                    "i": "{% $states.context.Map.Item.Index %}",
                },
                "ItemProcessor": {
                    "StartAt": "Square",
                    "States": {
                        "Square": {
                            "Type": "Pass",
                            "Output": "{% $states.input.v * $states.input.v + $states.input.i %}",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    result = run_definition(definition, {"values": [2, 3]})
    assert (result.status, result.output) == ("SUCCEEDED", [4, 10])


def test_jsonata_error_fails_with_states_query_evaluation_error() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Bad",
        "States": {"Bad": {"Type": "Pass", "Output": "{% $number('not a number') + $undefinedFn() %}", "End": True}},
    }
    result = run_definition(definition, {})
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_jsonata_hash_is_step_functions_hex_digest(algorithm: str) -> None:
    # Given Step Functions' own JSONata function $hash (the equivalent of States.Hash)
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Digest",
        "States": {
            "Digest": {"Type": "Pass", "Output": f"{{% $hash($states.input.text, '{algorithm}') %}}", "End": True}
        },
    }
    result = run_definition(definition, {"text": "input data"})
    expected = hashlib.new(algorithm.replace("-", "").lower(), b"input data").hexdigest()
    assert (result.status, result.output) == ("SUCCEEDED", expected)
