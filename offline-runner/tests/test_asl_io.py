"""Input and output processing (InputPath, Parameters, ResultSelector, ResultPath, OutputPath, context object).

Worked examples are the AWS Step Functions Developer Guide's, pages "Processing input and output" (InputPath,
Parameters and ResultSelector), "Specifying state output using ResultPath" and "Filtering state output using
InputPath, ResultPath and OutputPath".
"""

from __future__ import annotations

from typing import Any

from sfn_offline.engine import run_definition

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction"


def machine(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Chain ``states`` in order; the last one ends the execution."""
    body: dict[str, Any] = {}
    for index, (name, state) in enumerate(states):
        chained = dict(state)
        if chained["Type"] not in {"Choice", "Succeed", "Fail"} and not {"Next", "End"} & chained.keys():
            chained.update({"End": True} if index + 1 == len(states) else {"Next": states[index + 1][0]})
        body[name] = chained
    return {"StartAt": states[0][0], "States": body}


def hello(event: dict[str, Any], context: Any) -> str:
    return f"Hello, {event['who']}!"


def test_input_path_selects_part_of_the_input() -> None:
    # Given the guide's InputPath example
    document = {
        "comment": "Example for InputPath.",
        "dataset1": {"val1": 1, "val2": 2, "val3": 3},
        "dataset2": {"val1": "a", "val2": "b", "val3": "c"},
    }
    # When a Pass state selects $.dataset2
    result = run_definition(machine(("Select", {"Type": "Pass", "InputPath": "$.dataset2"})), document)
    # Then only that part goes on
    assert result.output == {"val1": "a", "val2": "b", "val3": "c"}


def test_parameters_build_a_new_input_from_paths_and_static_values() -> None:
    # Given the guide's Parameters example
    document = {
        "comment": "Example for Parameters.",
        "product": {
            "details": {"color": "blue", "size": "small", "material": "cotton"},
            "availability": "in stock",
            "sku": "2317",
            "cost": "$23",
        },
    }
    parameters = {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"},
    }
    # When a Pass state applies them
    result = run_definition(machine(("Pick", {"Type": "Pass", "Parameters": parameters})), document)
    # Then .$ keys are resolved and lose their suffix, static values pass through
    assert result.output == {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
    }


def test_parameters_read_the_context_object() -> None:
    parameters = {"execution.$": "$$.Execution.Name", "state.$": "$$.State.Name", "input.$": "$$.Execution.Input"}
    result = run_definition(
        machine(("Describe Context", {"Type": "Pass", "Parameters": parameters})), {"a": 1}, execution_name="ctx-run"
    )
    assert result.output == {"execution": "ctx-run", "state": "Describe Context", "input": {"a": 1}}


def test_result_selector_shapes_the_task_result_before_result_path() -> None:
    # Given the guide's ResultSelector example (an EMR CreateCluster result), returned here by a Lambda function
    emr_result = {
        "resourceType": "elasticmapreduce",
        "resource": "createCluster.sync",
        "output": {
            "SdkHttpMetadata": {"HttpHeaders": {"Content-Length": "1112"}, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": "1234-5678-9012"},
            "ClusterId": "j-3SD91U2E1L2QX",
        },
    }
    task = {
        "Type": "Task",
        "Resource": FUNCTION_ARN,
        "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
        "ResultPath": "$.EMROutput",
    }
    # When it runs
    result = run_definition(
        machine(("Create Cluster", task)), {"x": 1}, functions={"HelloFunction": lambda e, c: emr_result}
    )
    # Then only the selected fields were merged into the input
    assert result.output == {
        "x": 1,
        "EMROutput": {"ClusterId": "j-3SD91U2E1L2QX", "ResourceType": "elasticmapreduce"},
    }


RESULT_PATH_INPUT = {
    "comment": "This is a test of the input and output of a Task state.",
    "details": "Default example",
    "who": "AWS Step Functions",
}


def test_result_path_defaults_to_replacing_the_input_with_the_result() -> None:
    result = run_definition(
        machine(("Hello", {"Type": "Task", "Resource": FUNCTION_ARN})),
        RESULT_PATH_INPUT,
        functions={"HelloFunction": hello},
    )
    assert result.output == "Hello, AWS Step Functions!"


def test_result_path_merges_the_result_into_the_input() -> None:
    # The guide's "Use ResultPath to include the result with the input" example
    task = {"Type": "Task", "Resource": FUNCTION_ARN, "ResultPath": "$.taskresult"}
    result = run_definition(machine(("Hello", task)), RESULT_PATH_INPUT, functions={"HelloFunction": hello})
    assert result.output == {**RESULT_PATH_INPUT, "taskresult": "Hello, AWS Step Functions!"}


def test_result_path_null_discards_the_result() -> None:
    task = {"Type": "Task", "Resource": FUNCTION_ARN, "ResultPath": None}
    result = run_definition(machine(("Hello", task)), RESULT_PATH_INPUT, functions={"HelloFunction": hello})
    assert result.output == RESULT_PATH_INPUT


def test_result_path_updates_a_nested_node_of_the_input() -> None:
    # The guide's "Update a node in input with the result" example: an existing key is overwritten
    document = {"master": {"detail": [1, 2, 3]}}
    task = {"Type": "Pass", "Result": "overwritten", "ResultPath": "$.master.detail"}
    result = run_definition(machine(("Update", task)), document)
    assert result.output == {"master": {"detail": "overwritten"}}


def test_input_path_result_path_and_output_path_together() -> None:
    # The guide's combined example: InputPath feeds the function, ResultPath writes into the raw input,
    # OutputPath filters what goes on.
    document = {
        "comment": "An input comment.",
        "data": {"val1": 23, "val2": 17},
        "extra": "foo",
        "lambda": {"who": "AWS Step Functions"},
    }
    task = {
        "Type": "Task",
        "Resource": FUNCTION_ARN,
        "InputPath": "$.lambda",
        "ResultPath": "$.data.lambdaresult",
        "OutputPath": "$.data",
    }
    result = run_definition(machine(("Hello", task)), document, functions={"HelloFunction": hello})
    assert result.output == {"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}


def test_output_path_null_sends_an_empty_object() -> None:
    result = run_definition(machine(("Drop", {"Type": "Pass", "OutputPath": None})), {"a": 1})
    assert result.output == {}


def test_input_path_null_gives_an_empty_object_as_input() -> None:
    result = run_definition(machine(("Drop", {"Type": "Pass", "InputPath": None, "ResultPath": "$.seen"})), {"a": 1})
    # ResultPath still writes into the raw input; the effective input (and so the Pass result) was {}
    assert result.output == {"a": 1, "seen": {}}


def test_map_item_selector_reads_the_map_context() -> None:
    definition = machine(
        (
            "Each",
            {
                "Type": "Map",
                "ItemsPath": "$.letters",
                "ItemSelector": {
                    "value.$": "$$.Map.Item.Value",
                    "index.$": "$$.Map.Item.Index",
                    "prefix.$": "$.prefix",
                },
                "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
            },
        )
    )
    result = run_definition(definition, {"letters": ["a", "b"], "prefix": "p"})
    assert result.output == [{"value": "a", "index": 0, "prefix": "p"}, {"value": "b", "index": 1, "prefix": "p"}]
