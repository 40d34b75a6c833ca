"""A template's other resources exist in the emulated account from their properties; functions load when called."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sfn_offline.template import load_template

from tests.conformance.paths import ROOT, SAMPLES

CliRun = Callable[..., tuple[int, str, str]]
ORDERS = SAMPLES / "order-pipeline"
ORDER_RUN = (
    "run",
    "OrderStateMachine",
    "--template",
    ORDERS / "template.yaml",
    "--input",
    ORDERS / "input.json",
    "--s3-dir",
    ORDERS / "seed",
)


def test_the_sample_runs_against_every_resource_its_template_declares(cli: CliRun, tmp_path: Path) -> None:
    """Resources are created from their properties (CloudFormation): an SSM parameter's Value, a generated secret's
    SecretStringTemplate, a table's GSI, a FIFO queue (content-based deduplication), an event bus, a topic and two
    buckets; only the Node.js function's task is answered by the mock config a user would write."""
    # Given the order pipeline sample, its inbox bucket seeded, the Node.js task mocked
    # When it runs and writes the buckets out afterwards
    status, out, err = cli(
        *ORDER_RUN,
        "--mock-config",
        ORDERS / "mock-config.json",
        "--test-case",
        "NodeMocked",
        "--s3-out",
        tmp_path,
        "--json",
    )
    # Then it succeeds with what each resource answered
    document = json.loads(out)
    assert status == 0, (document, err)
    assert document["output"] == {
        "orderId": "o-1",
        "threshold": "100",
        "user": "orders",
        "customerOrders": 1,
        "recorded": "o-1",
        "failedEvents": 0,
        "sent": True,
    }
    # And the archive bucket's object was written out under its bucket name
    assert json.loads((tmp_path / "offline-archivebucket" / "archive" / "o-1.json").read_text()) == {
        "customer": "c-42",
        "items": 3,
    }
    assert (tmp_path / "offline-inboxbucket" / "orders" / "o-1.json").is_file()


def test_a_function_that_cannot_run_in_process_fails_only_when_called(cli: CliRun) -> None:
    """On AWS the Node.js function would run; offline, the execution fails naming the state and the function
    (no Catch on States.ALL may hide it), and the Python function and every other state ran before it."""
    # Given the same sample without a mock config
    status, out, err = cli(*ORDER_RUN, "--json")
    # Then it fails at the Node.js task with a clear cause, no traceback
    document = json.loads(out)
    assert (status, document["status"], document["error"]) == (1, "FAILED", "States.Runtime")
    assert "state 'Notify Customer'" in document["cause"]
    assert "NotifyFunction: Runtime: nodejs20.x cannot run in-process" in document["cause"]
    assert "--mock-config" in document["cause"]
    assert "<- Record Order" in err
    assert "Traceback" not in err


def test_fifo_queue_and_generated_names_agree_with_the_template_refs(cli: CliRun) -> None:
    """CloudFormation names a FIFO queue it names itself with the required .fifo suffix; !Ref of a queue is its
    URL, of a secret its ARN, of a parameter its name: the machine reaches each by what the template resolved."""
    # Given the sample template
    template = load_template(ORDERS / "template.yaml")
    # Then the resources are declared with the names the machine's substitutions carry
    names = {logical_id: spec.name for logical_id, spec in template.resources.items()}
    assert names["OrdersQueue"].endswith(".fifo")
    assert names["ThresholdParameter"] == "/orders/threshold"
    assert names["OrdersBus"] == "orders-bus"
    substitutions = json.dumps(template.state_machines["OrderStateMachine"].definition)
    assert f"/123456789012/{names['OrdersQueue']}" in substitutions
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/api-key" in substitutions


@pytest.mark.parametrize("layout", ["logical-ids", "names"])
def test_s3_dir_seeds_any_number_of_buckets(cli: CliRun, tmp_path: Path, layout: str) -> None:
    """--s3-dir DIR: one folder per bucket, named after its logical id or its name."""
    # Given a two-bucket template and a folder per bucket
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  InBucket: {Type: AWS::S3::Bucket}\n"
        "  OutBucket: {Type: AWS::S3::Bucket, Properties: {BucketName: out-bucket}}\n"
        "  CopyMachine:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionSubstitutions: {In: !Ref InBucket, Out: !Ref OutBucket}\n"
        "      Definition:\n"
        "        StartAt: Copy\n"
        "        States:\n"
        "          Copy:\n"
        "            Type: Task\n"
        "            Resource: arn:aws:states:::aws-sdk:s3:copyObject\n"
        "            Parameters: {Bucket: '${Out}', Key: b.txt, CopySource: '${In}/a.txt'}\n"
        "            Next: Read\n"
        "          Read:\n"
        "            Type: Task\n"
        "            Resource: arn:aws:states:::aws-sdk:s3:getObject\n"
        "            Parameters: {Bucket: '${Out}', Key: seeded.txt}\n"
        "            ResultSelector: {body.$: $.Body}\n"
        "            End: true\n"
    )
    seed = tmp_path / "seed"
    folders = ("InBucket", "OutBucket") if layout == "logical-ids" else ("offline-inbucket", "out-bucket")
    (seed / folders[0]).mkdir(parents=True)
    (seed / folders[0] / "a.txt").write_text("copied")
    (seed / folders[1]).mkdir()
    (seed / folders[1] / "seeded.txt").write_text("in the second bucket")
    out_dir = tmp_path / "out"
    # When the machine runs with both seeded and the buckets written out
    status, out, err = cli(
        "run", "CopyMachine", "--template", tmp_path / "template.yaml", "--s3-dir", seed, "--s3-out", out_dir, "--json"
    )
    # Then both buckets held their files
    assert status == 0, err
    assert json.loads(out)["output"] == {"body": "in the second bucket"}
    assert (out_dir / "out-bucket" / "b.txt").read_text() == "copied"


def test_invoke_seeds_a_named_bucket(cli: CliRun) -> None:
    """invoke --s3-dir BUCKET=DIR: the resolve-output function reads the model answer its sample event names."""
    # Given the sample event as written, and the sample bucket contents holding the answer it points at
    event = json.loads((ROOT / "events" / "lambda" / "resolve_output.json").read_text())
    key = event["output_s3_uri"].split("/", 3)[3]
    answer = json.loads((ROOT / "events" / "s3" / key).read_text())["content"][0]["text"]
    # When the function is invoked with the payload bucket seeded by logical id
    status, out, err = cli(
        "invoke",
        "ResolveOutputFunction",
        "--template",
        ROOT / "template.yaml",
        "--event",
        ROOT / "events" / "lambda" / "resolve_output.json",
        "--s3-dir",
        f"PayloadBucket={ROOT / 'events' / 's3'}",
    )
    # Then it read that answer from the seeded bucket
    assert status == 0, out + err
    assert json.loads(out)["text"] == answer
