"""Map (inline and distributed over S3), ItemBatcher, ToleratedFailurePercentage, ResultWriter, and S3 SDK tasks.

Formats follow the AWS Developer Guide pages "ItemReader (Map)", "ItemBatcher (Map)" and "ResultWriter (Map)".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sfn_offline.engine import run_definition

BUCKET = "runner-test-payloads"  # created by the s3 fixture
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def processor(state: dict[str, Any] | None = None, *, distributed: bool = False) -> dict[str, Any]:
    processor_: dict[str, Any] = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True, **(state or {})}}}
    if distributed:
        processor_["ProcessorConfig"] = DISTRIBUTED
    return processor_


def one_state(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {**state, "End": True}}}


# --- inline ------------------------------------------------------------------------------------------------------


def test_inline_map_items_path_item_selector_and_result_path() -> None:
    definition = one_state(
        "Each",
        {
            "Type": "Map",
            "ItemsPath": "$.orders",
            "MaxConcurrency": 2,
            "ItemSelector": {"id.$": "$$.Map.Item.Value.id", "currency.$": "$.currency"},
            "ItemProcessor": processor({"Parameters": {"label.$": "States.Format('{}-{}', $.id, $.currency)"}}),
            "ResultPath": "$.labels",
        },
    )
    result = run_definition(definition, {"orders": [{"id": 1}, {"id": 2}, {"id": 3}], "currency": "EUR"})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["labels"] == [{"label": "1-EUR"}, {"label": "2-EUR"}, {"label": "3-EUR"}]
    assert result.output["currency"] == "EUR"


def test_inline_map_fails_with_the_iteration_error() -> None:
    failing = {"Type": "Fail", "Error": "Item.Rejected", "Cause": "bad item"}
    definition = one_state(
        "Each",
        {"Type": "Map", "ItemProcessor": {"StartAt": "Reject", "States": {"Reject": failing}}},
    )
    result = run_definition(definition, [1])
    assert (result.status, result.error, result.cause) == ("FAILED", "Item.Rejected", "bad item")


# --- distributed over S3 -----------------------------------------------------------------------------------------


def distributed_over(key: str, reader_config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return one_state(
        "Each",
        {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": reader_config,
                "Parameters": {"Bucket": BUCKET, "Key": key},
            },
            "ItemProcessor": processor(distributed=True),
            **extra,
        },
    )


def test_distributed_map_reads_a_json_array(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": 1}, {"n": 2}]).encode())
    result = run_definition(distributed_over("items.json", {"InputType": "JSON"}), {})
    assert (result.status, result.output) == ("SUCCEEDED", [{"n": 1}, {"n": 2}])


def test_distributed_map_reads_a_csv_with_a_header_row(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="ratings.csv", Body=b"userId,rating\n1,5\n2,3\n")
    reader = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    result = run_definition(distributed_over("ratings.csv", reader), {})
    # Every CSV value is a string
    assert (result.status, result.output) == (
        "SUCCEEDED",
        [{"userId": "1", "rating": "5"}, {"userId": "2", "rating": "3"}],
    )


def test_distributed_map_reads_json_lines(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=b'{"n": 1}\n{"n": 2}\n\n{"n": 3}\n')
    result = run_definition(distributed_over("items.jsonl", {"InputType": "JSONL"}), {})
    assert (result.status, result.output) == ("SUCCEEDED", [{"n": 1}, {"n": 2}, {"n": 3}])


def test_distributed_map_reader_config_max_items(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=b'{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    result = run_definition(distributed_over("items.jsonl", {"InputType": "JSONL", "MaxItems": 2}), {})
    assert (result.status, result.output) == ("SUCCEEDED", [{"n": 1}, {"n": 2}])


def test_distributed_map_lists_objects(s3: Any) -> None:
    for key in ("in/a.txt", "in/b.txt", "other/c.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    definition = one_state(
        "Each",
        {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:listObjectsV2",
                "Parameters": {"Bucket": BUCKET, "Prefix": "in/"},
            },
            "ItemSelector": {"key.$": "$$.Map.Item.Value.Key"},
            "ItemProcessor": processor(distributed=True),
        },
    )
    result = run_definition(definition, {})
    assert (result.status, result.output) == ("SUCCEEDED", [{"key": "in/a.txt"}, {"key": "in/b.txt"}])


def test_item_batcher_groups_items_and_adds_batch_input() -> None:
    definition = one_state(
        "Each",
        {
            "Type": "Map",
            "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run": "r1"}},
            "ItemProcessor": processor(distributed=True),
        },
    )
    result = run_definition(definition, [1, 2, 3])
    assert (result.status, result.output) == (
        "SUCCEEDED",
        [{"BatchInput": {"run": "r1"}, "Items": [1, 2]}, {"BatchInput": {"run": "r1"}, "Items": [3]}],
    )


def failing_on_odd_items(**extra: Any) -> dict[str, Any]:
    return one_state(
        "Each",
        {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": DISTRIBUTED,
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.odd", "BooleanEquals": True, "Next": "Reject"}],
                        "Default": "Accept",
                    },
                    "Reject": {"Type": "Fail", "Error": "Item.Odd", "Cause": "odd item"},
                    "Accept": {"Type": "Pass", "End": True},
                },
            },
            **extra,
        },
    )


ITEMS = [{"n": n, "odd": n % 2 == 1} for n in range(4)]  # two of four fail: 50 %


def test_distributed_map_fails_when_failures_exceed_the_tolerance() -> None:
    result = run_definition(failing_on_odd_items(ToleratedFailurePercentage=25.0), ITEMS)
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_distributed_map_without_tolerance_fails_on_one_failure() -> None:
    result = run_definition(failing_on_odd_items(), ITEMS)
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_distributed_map_succeeds_within_the_tolerance() -> None:
    result = run_definition(failing_on_odd_items(ToleratedFailurePercentage=50.0), ITEMS)
    assert result.status == "SUCCEEDED", result.cause


def test_an_integer_tolerated_failure_percentage_is_accepted() -> None:
    result = run_definition(failing_on_odd_items(ToleratedFailurePercentage=50), ITEMS)
    assert result.status == "SUCCEEDED"


def test_tolerance_breach_can_be_caught() -> None:
    definition = failing_on_odd_items(ToleratedFailureCount=1)
    definition["States"]["Each"].update(
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Handled"}], Next="Handled"
    )
    del definition["States"]["Each"]["End"]
    definition["States"]["Handled"] = {"Type": "Pass", "Result": "handled", "End": True}
    result = run_definition(definition, ITEMS)
    assert (result.status, result.output) == ("SUCCEEDED", "handled")


def test_result_writer_writes_a_manifest_and_the_result_files(s3: Any) -> None:
    # Given a distributed Map tolerating its failures and exporting results under a prefix
    definition = failing_on_odd_items(
        ToleratedFailurePercentage=100.0,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET, "Prefix": "out"}},
    )
    # When it runs
    result = run_definition(definition, ITEMS)
    # Then the state output points at manifest.json under <prefix>/<map run id>/
    assert result.status == "SUCCEEDED", result.cause
    details = result.output["ResultWriterDetails"]
    map_run_id = result.output["MapRunArn"].split(":")[-1]
    assert details == {"Bucket": BUCKET, "Key": f"out/{map_run_id}/manifest.json"}
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=details["Key"])["Body"].read())
    assert manifest["DestinationBucket"] == BUCKET
    assert manifest["MapRunArn"] == result.output["MapRunArn"]
    files = manifest["ResultFiles"]
    assert [entry["Key"] for entry in files["SUCCEEDED"]] == [f"out/{map_run_id}/SUCCEEDED_0.json"]
    assert [entry["Key"] for entry in files["FAILED"]] == [f"out/{map_run_id}/FAILED_0.json"]
    assert files["PENDING"] == []
    # And each result file holds one record per child execution, Input/Output as JSON text
    succeeded_raw = s3.get_object(Bucket=BUCKET, Key=files["SUCCEEDED"][0]["Key"])["Body"].read()
    assert files["SUCCEEDED"][0]["Size"] == len(succeeded_raw)
    succeeded = json.loads(succeeded_raw)
    assert sorted(json.loads(record["Output"])["n"] for record in succeeded) == [0, 2]
    assert all(record["Status"] == "SUCCEEDED" for record in succeeded)
    assert all(json.loads(record["Input"]) == json.loads(record["Output"]) for record in succeeded)
    failed = json.loads(s3.get_object(Bucket=BUCKET, Key=files["FAILED"][0]["Key"])["Body"].read())
    assert sorted(json.loads(record["Input"])["n"] for record in failed) == [1, 3]
    assert {(record["Status"], record["Error"], record["Cause"]) for record in failed} == {
        ("FAILED", "Item.Odd", "odd item")
    }


def test_result_writer_omits_empty_result_files(s3: Any) -> None:
    definition = one_state(
        "Each",
        {
            "Type": "Map",
            "ItemProcessor": processor(distributed=True),
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": BUCKET, "Prefix": ""},
            },
        },
    )
    result = run_definition(definition, [1, 2])
    assert result.status == "SUCCEEDED", result.cause
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=result.output["ResultWriterDetails"]["Key"])["Body"].read())
    assert len(manifest["ResultFiles"]["SUCCEEDED"]) == 1
    assert manifest["ResultFiles"]["FAILED"] == []


# --- distributed in JSONata ---------------------------------------------------------------------------------------


def jsonata_distributed(
    item_processor_states: dict[str, Any], start_at: str, *, execution_type: str = "EXPRESS", **extra: Any
) -> dict[str, Any]:
    """A JSONata Distributed Map reading the JSON list at ``$states.input.key`` and exporting under ``out/``."""
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.limit %}"},
                    "Arguments": {"Bucket": BUCKET, "Key": "{% $states.input.key %}"},
                },
                "ItemSelector": {
                    "value": "{% $states.context.Map.Item.Value %}",
                    "index": "{% $states.context.Map.Item.Index %}",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                    "StartAt": start_at,
                    "States": item_processor_states,
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Arguments": {"Bucket": BUCKET, "Prefix": "{% 'out/' & $states.input.key %}"},
                    "WriterConfig": {"OutputType": "JSON", "Transformation": "NONE"},
                },
                "End": True,
                **extra,
            }
        },
    }


ECHO = {"Echo": {"Type": "Pass", "Output": "{% $states.input %}", "End": True}}
REJECT_ODD = {
    "Check": {
        "Type": "Choice",
        "Choices": [{"Condition": "{% $states.input.value.n % 2 = 1 %}", "Next": "Reject"}],
        "Default": "Accept",
    },
    "Reject": {"Type": "Fail", "Error": "Item.Odd", "Cause": "odd item"},
    "Accept": {"Type": "Pass", "End": True},
}


def result_files(s3: Any, output: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The records of each result file the manifest at ``output``'s ResultWriterDetails lists, by status."""
    details = output["ResultWriterDetails"]
    manifest = json.loads(s3.get_object(Bucket=details["Bucket"], Key=details["Key"])["Body"].read())
    assert manifest["MapRunArn"] == output["MapRunArn"]
    return {
        status: [
            record
            for entry in entries
            for record in json.loads(s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read())
        ]
        for status, entries in manifest["ResultFiles"].items()
    }


def test_jsonata_distributed_map_reads_s3_and_writes_its_results_there(s3: Any) -> None:
    # Given a JSON list of five items in S3 and a JSONata Distributed Map reading at most four of them
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": n} for n in range(5)]).encode())
    # When it runs
    result = run_definition(jsonata_distributed(ECHO, "Echo"), {"key": "items.json", "limit": 4})
    # Then its output points at the manifest under the evaluated prefix and the map run's id
    assert result.status == "SUCCEEDED", result.cause
    map_run_id = result.output["MapRunArn"].rsplit(":", 1)[-1]
    assert result.output["ResultWriterDetails"] == {
        "Bucket": BUCKET,
        "Key": f"out/items.json/{map_run_id}/manifest.json",
    }
    # And the result file holds each child's output (the ItemSelector's), as the JSONPath path writes them
    files = result_files(s3, result.output)
    outputs = sorted((json.loads(record["Output"]) for record in files["SUCCEEDED"]), key=lambda o: o["index"])
    assert outputs == [{"value": {"n": n}, "index": n} for n in range(4)]
    # And each record's Input is the child's input: the ItemSelector's output, not the raw item
    assert all(record["Input"] == record["Output"] for record in files["SUCCEEDED"])
    assert files["FAILED"] == []


def test_express_children_run_as_express_executions(s3: Any) -> None:
    # Given a Distributed Map whose ItemProcessor declares EXPRESS children
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": 1}, {"n": 2}]).encode())
    # When it runs
    result = run_definition(jsonata_distributed(ECHO, "Echo"), {"key": "items.json", "limit": 0})
    # Then every child is reported as an Express execution
    assert result.status == "SUCCEEDED", result.cause
    arns = [record["ExecutionArn"] for record in result_files(s3, result.output)["SUCCEEDED"]]
    assert len(arns) == 2
    assert all(":express:" in arn for arn in arns), arns


def test_standard_children_keep_standard_execution_arns(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": 1}]).encode())
    definition = jsonata_distributed(ECHO, "Echo", execution_type="STANDARD")
    result = run_definition(definition, {"key": "items.json", "limit": 0})
    assert result.status == "SUCCEEDED", result.cause
    [record] = result_files(s3, result.output)["SUCCEEDED"]
    assert ":execution:" in record["ExecutionArn"]


def test_an_express_child_times_out_at_its_duration_limit(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Express: "Maximum execution duration: 5 minutes" holds for each child workflow; lowered here to 0.2 s."""
    # Given EXPRESS children that wait 30 s in real time, and a 0.2-second duration limit
    from sfn_offline import moto_fidelity

    monkeypatch.setattr(moto_fidelity, "EXPRESS_DURATION_SECONDS", 0.2)
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": 1}]).encode())
    slow = {"Hold": {"Type": "Wait", "Seconds": 30, "End": True}}
    definition = jsonata_distributed(slow, "Hold", ToleratedFailurePercentage=100)
    # When it runs with time not compressed
    result = run_definition(definition, {"key": "items.json", "limit": 0}, time_scale=1.0, timeout=20)
    # Then the child timed out at the limit and is exported as TIMED_OUT
    assert result.status == "SUCCEEDED", result.cause
    files = result_files(s3, result.output)
    assert [record["Status"] for record in files["TIMED_OUT"]] == ["TIMED_OUT"]


@pytest.mark.parametrize(("tolerated", "status"), [("{% 1 %}", "FAILED"), ("{% 2 %}", "SUCCEEDED")])
def test_jsonata_tolerated_failure_count_is_a_count(s3: Any, tolerated: str, status: str) -> None:
    # Given four items of which two fail, and a tolerated failure count written in JSONata
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": n} for n in range(4)]).encode())
    definition = jsonata_distributed(REJECT_ODD, "Check", ToleratedFailureCount=tolerated)
    # When it runs
    result = run_definition(definition, {"key": "items.json", "limit": 0})
    # Then the map run fails only past the count (moto had parsed it as a percentage)
    assert result.status == status, result.cause
    if status == "FAILED":
        assert result.error == "States.ExceedToleratedFailureThreshold"
    else:
        files = result_files(s3, result.output)
        assert sorted(json.loads(record["Input"])["value"]["n"] for record in files["FAILED"]) == [1, 3]
        assert {(record["Error"], record["Cause"]) for record in files["FAILED"]} == {("Item.Odd", "odd item")}


def test_jsonata_tolerated_failure_percentage(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="items.json", Body=json.dumps([{"n": n} for n in range(4)]).encode())
    definition = jsonata_distributed(REJECT_ODD, "Check", ToleratedFailurePercentage="{% 25 %}")
    result = run_definition(definition, {"key": "items.json", "limit": 0})
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_a_child_workflow_has_variables_of_its_own_and_its_item_selector_reads_the_parents() -> None:
    # Given a parent variable, read by the ItemSelector, and children assigning a variable of the same name
    children = {
        "Own": {"Type": "Pass", "Assign": {"greeting": "{% 'child ' & $string($states.input.v) %}"}, "Next": "Read"},
        "Read": {"Type": "Pass", "Output": "{% {'selected': $states.input.g, 'mine': $greeting} %}", "End": True},
    }
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"greeting": "hi"}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "Items": "{% [1, 2] %}",
                "ItemSelector": {"g": "{% $greeting %}", "v": "{% $states.context.Map.Item.Value %}"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Own",
                    "States": children,
                },
                "End": True,
            },
        },
    }
    # When it runs
    result = run_definition(definition, {})
    # Then each child assigned its own variable (an inline Map's iteration may not), the selector read the parent's
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"selected": "hi", "mine": "child 1"}, {"selected": "hi", "mine": "child 2"}]


def test_a_distributed_map_over_2000_items_keeps_every_result_out_of_the_state(s3: Any) -> None:
    """The scale a Distributed Map is for: 2,000 EXPRESS children, their results only in S3, the parent's history
    a handful of events, and the failed items exported beside the ones that completed."""
    # Given 2,000 items in S3, children refusing every 500th one, and a tolerance of those four failures
    count = 2000
    s3.put_object(Bucket=BUCKET, Key="many.json", Body=json.dumps([{"n": n} for n in range(count)]).encode())
    work = {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $states.input.n % 500 = 0 %}", "Next": "Refuse"}],
            "Default": "Double",
        },
        "Refuse": {"Type": "Fail", "Error": "Item.Refused", "Cause": "every 500th item"},
        "Double": {"Type": "Pass", "Output": "{% {'double': 2 * $states.input.n} %}", "End": True},
    }
    definition = jsonata_distributed(work, "Check", ToleratedFailureCount=4)
    del definition["States"]["Each"]["ItemSelector"]  # two JSONata evaluations fewer per child: the test's time
    # When it runs
    result = run_definition(definition, {"key": "many.json", "limit": 0}, timeout=120)
    # Then it succeeds with only the manifest's location in its output and the Map Run's events in its history
    assert result.status == "SUCCEEDED", result.cause
    assert set(result.output) == {"MapRunArn", "ResultWriterDetails"}
    assert len(result.history) < 20
    # And every completed item's result, and every failed one, is in the result files
    files = result_files(s3, result.output)
    doubled = sorted(json.loads(record["Output"])["double"] for record in files["SUCCEEDED"])
    assert doubled == [2 * n for n in range(count) if n % 500]
    assert sorted(json.loads(record["Input"])["n"] for record in files["FAILED"]) == [0, 500, 1000, 1500]


@pytest.mark.parametrize(
    "writer_config",
    [{"Transformation": "COMPACT", "OutputType": "JSON"}, {"Transformation": "NONE", "OutputType": "JSONL"}],
)
def test_a_writer_config_the_runner_cannot_write_is_refused_by_name(writer_config: dict[str, str]) -> None:
    from sfn_offline.engine import DefinitionRejectedError

    definition = jsonata_distributed(ECHO, "Echo")
    definition["States"]["Each"]["ResultWriter"]["WriterConfig"] = writer_config
    with pytest.raises(DefinitionRejectedError, match="WriterConfig"):
        run_definition(definition, {"key": "items.json", "limit": 0})


def test_the_grammar_rewrite_sets_aside_what_moto_refuses() -> None:
    # Given a JSONata Distributed Map with EXPRESS children and a ResultWriter with Arguments
    from sfn_offline.moto_fidelity import rewrite_definition

    document = jsonata_distributed(ECHO, "Echo")
    # When it is rewritten for moto's parser
    rewritten, aside = rewrite_definition(document)
    # Then the parsed text has STANDARD children and no ResultWriter; both are kept for the Map state at its path
    each = rewritten["States"]["Each"]
    assert "ResultWriter" not in each
    assert each["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    fields = aside[("Each",)]
    assert fields.execution_type == "EXPRESS"
    assert fields.result_writer == {
        "Resource": "arn:aws:states:::s3:putObject",
        "Arguments": {"Bucket": BUCKET, "Prefix": "{% 'out/' & $states.input.key %}"},
    }
    # And the document itself is left as it was
    assert document["States"]["Each"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "EXPRESS"


# --- aws-sdk:s3 --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "stored"),
    [({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}), ("plain text", "plain text")],
)
def test_s3_put_object_serializes_a_json_body(s3: Any, body: Any, stored: Any) -> None:
    definition = one_state(
        "Store",
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Key": "stored.json", "Body.$": "$.body"},
            "ResultSelector": {"ETag.$": "$.ETag"},
        },
    )
    result = run_definition(definition, {"body": body})
    assert result.status == "SUCCEEDED", result.cause
    raw = s3.get_object(Bucket=BUCKET, Key="stored.json")["Body"].read().decode()
    assert (json.loads(raw) if isinstance(stored, dict) else raw) == stored


def test_s3_get_object_returns_the_body_as_text(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="doc.json", Body=b'{"k": "v"}')
    definition = one_state(
        "Load",
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": BUCKET, "Key": "doc.json"},
            "ResultSelector": {"parsed.$": "States.StringToJson($.Body)"},
        },
    )
    result = run_definition(definition, {})
    assert (result.status, result.output) == ("SUCCEEDED", {"parsed": {"k": "v"}})
