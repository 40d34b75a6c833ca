"""The template's resources in the emulated account (moto), created from their properties before anything runs.

Each resource of :data:`~sfn_offline.template.EMULATED_RESOURCE_TYPES` exists under the physical name the template
resolves (``!Ref``, ``!GetAtt ...Arn`` and the offline ARNs agree with what is created here): S3 buckets, SNS topics
(FIFO too), SQS queues (FIFO, content-based deduplication, visibility, delay, retention, redrive), DynamoDB tables
(key schema, attribute definitions, global and local secondary indexes, billing mode, streams, TTL), EventBridge
buses, SSM parameters and Secrets Manager secrets (``SecretString``, or a value generated as
``GenerateSecretString`` describes it). Properties that only matter to the real service (encryption keys, policies,
tags) are not applied.

Also: seeding buckets from folders (``--s3-dir``) and writing every bucket's objects to a folder (``--s3-out``).

Call everything here inside an active ``moto.mock_aws()``.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

from sfn_offline.template import REGION, ResourceSpec, Template

# The services whose resources the template can declare: boto3's stubs type a client by its service name's literal.
Service = Literal["s3", "sns", "sqs", "dynamodb", "events", "ssm", "secretsmanager"]
ClientFor = Callable[[Service], Any]


class ResourceSeedError(ValueError):
    """``--s3-dir`` names a folder that cannot seed the template's buckets: the message says which and why."""


def create_resources(template: Template) -> None:
    """Create every resource of ``template`` in moto (buckets and topics from older templates' fields too)."""
    import boto3  # noqa: PLC0415  (dev tooling: keep importing this module cheap)

    clients: dict[Service, Any] = {}

    def client(service: Service) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, region_name=REGION)
        return clients[service]

    specs = dict(template.resources)
    for logical_id, name in template.buckets.items():
        specs.setdefault(logical_id, ResourceSpec(logical_id, "AWS::S3::Bucket", name, {}))
    for logical_id, name in template.topics.items():
        specs.setdefault(logical_id, ResourceSpec(logical_id, "AWS::SNS::Topic", name, {}))
    for spec in specs.values():
        _CREATORS[spec.type](client, spec)


def _bucket(client: ClientFor, spec: ResourceSpec) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=spec.name)
    versioning = (spec.properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        s3.put_bucket_versioning(Bucket=spec.name, VersioningConfiguration={"Status": versioning})


def _topic(client: ClientFor, spec: ResourceSpec) -> None:
    attributes = _string_attributes(spec.properties, ("FifoTopic", "ContentBasedDeduplication"))
    client("sns").create_topic(Name=spec.name, Attributes=attributes)


_QUEUE_ATTRIBUTES: Final[tuple[str, ...]] = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)


def _queue(client: ClientFor, spec: ResourceSpec) -> None:
    attributes = _string_attributes(spec.properties, _QUEUE_ATTRIBUTES)
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in spec.properties:
            value = spec.properties[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    client("sqs").create_queue(QueueName=spec.name, Attributes=attributes)


def _table(client: ClientFor, spec: ResourceSpec) -> None:
    properties = spec.properties
    billing = str(properties.get("BillingMode") or ("PROVISIONED" if "ProvisionedThroughput" in properties else ""))
    request: dict[str, Any] = {
        "TableName": spec.name,
        "KeySchema": properties.get("KeySchema") or [],
        "AttributeDefinitions": properties.get("AttributeDefinitions") or [],
        "BillingMode": billing or "PAY_PER_REQUEST",
    }
    provisioned = request["BillingMode"] == "PROVISIONED"
    if provisioned:
        request["ProvisionedThroughput"] = _throughput(properties.get("ProvisionedThroughput"))
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        indexes = [dict(index) for index in properties.get(key) or []]
        for index in indexes:
            index.pop("ContributorInsightsSpecification", None)
            if key == "GlobalSecondaryIndexes":
                if provisioned:
                    index["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                else:
                    index.pop("ProvisionedThroughput", None)
        if indexes:
            request[key] = indexes
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, **stream}
    dynamodb = client("dynamodb")
    dynamodb.create_table(**request)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=spec.name, TimeToLiveSpecification=ttl)


def _simple_table(client: ClientFor, spec: ResourceSpec) -> None:
    key = spec.properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    kind = {"String": "S", "Number": "N", "Binary": "B"}.get(str(key.get("Type")), "S")
    table = {
        "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
    }
    if "ProvisionedThroughput" in spec.properties:
        table["ProvisionedThroughput"] = spec.properties["ProvisionedThroughput"]
    _table(client, ResourceSpec(spec.logical_id, "AWS::DynamoDB::Table", spec.name, table))


def _throughput(value: Any) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _event_bus(client: ClientFor, spec: ResourceSpec) -> None:
    if spec.name != "default":  # every account has the default bus
        client("events").create_event_bus(Name=spec.name)


def _parameter(client: ClientFor, spec: ResourceSpec) -> None:
    value = spec.properties.get("Value")
    if isinstance(value, list):
        value = ",".join(str(item) for item in value)
    request = {
        "Name": spec.name,
        "Value": str(value if value is not None else ""),
        "Type": str(spec.properties.get("Type") or "String"),
    }
    for key in ("Description", "AllowedPattern", "Tier", "DataType"):
        if key in spec.properties:
            request[key] = str(spec.properties[key])
    client("ssm").put_parameter(**request)


def _secret(client: ClientFor, spec: ResourceSpec) -> None:
    value = spec.properties.get("SecretString")
    if value is None:
        value = generated_secret(spec.properties.get("GenerateSecretString") or {})
    client("secretsmanager").create_secret(Name=spec.name, SecretString=str(value))


def generated_secret(options: Mapping[str, Any]) -> str:
    """A secret value as CloudFormation's ``GenerateSecretString`` describes it: a random password (length 32 by
    default, without ``ExcludeCharacters``), or ``SecretStringTemplate`` with ``GenerateStringKey`` set to one."""
    alphabet = ""
    if not options.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not options.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not options.get("ExcludeNumbers"):
        alphabet += string.digits
    if not options.get("ExcludePunctuation"):
        alphabet += string.punctuation
    if options.get("IncludeSpace"):
        alphabet += " "
    excluded = set(str(options.get("ExcludeCharacters") or ""))
    alphabet = "".join(character for character in alphabet if character not in excluded) or string.ascii_letters
    password = "".join(secrets.choice(alphabet) for _ in range(int(options.get("PasswordLength", 32))))
    template, key = options.get("SecretStringTemplate"), options.get("GenerateStringKey")
    if template and key:
        document = json.loads(template)
        document[str(key)] = password
        return json.dumps(document)
    return password


def _string_attributes(properties: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return {key: text(properties[key]) for key in keys if key in properties}


_CREATORS: Final[dict[str, Callable[[ClientFor, ResourceSpec], None]]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
    "AWS::DynamoDB::Table": _table,
    "AWS::Serverless::SimpleTable": _simple_table,
    "AWS::Events::EventBus": _event_bus,
    "AWS::SSM::Parameter": _parameter,
    "AWS::SecretsManager::Secret": _secret,
}


# ---------------------------------------------------------------- buckets <-> folders


def seed_buckets(template: Template | None, folder: Path, bucket: str | None = None) -> dict[str, int]:
    """Upload files under ``folder`` into emulated buckets; bucket name -> objects written.

    Which bucket gets which file:

    - ``bucket`` given (``--s3-dir BUCKET=DIR``): that bucket (a template bucket's logical id or name, else a bucket
      of that name, created here), every file's path below ``folder`` as its key;
    - else a top-level subfolder named after a bucket of the template (its name or logical id) seeds that bucket,
      its path below the subfolder as the key; when any subfolder is so named, every top-level entry must be a
      folder, and those named after no template bucket are buckets of that name (created here);
    - else a template with exactly one bucket gets the whole folder (its path below ``folder`` as the key);
    - else (a bare definition, or a template with no or several buckets) each top-level folder is a bucket.

    Raises
    ------
    ResourceSeedError
        ``folder`` is not a directory, or files lie outside any bucket's folder.
    """
    import boto3  # noqa: PLC0415

    if not folder.is_dir():
        raise ResourceSeedError(f"{folder}: --s3-dir must name a directory")
    buckets = dict(template.buckets) if template is not None else {}
    by_folder = {**{name: name for name in buckets.values()}, **buckets}
    entries = sorted(folder.iterdir())
    if bucket is not None:
        plan = {by_folder.get(bucket, bucket): folder}
    elif len(buckets) == 1 and not any(entry.is_dir() and entry.name in by_folder for entry in entries):
        plan = {next(iter(buckets.values())): folder}
    else:
        loose = [entry.name for entry in entries if not entry.is_dir()]
        if loose:
            raise ResourceSeedError(
                f"{folder}: {', '.join(loose)}: files outside a bucket's folder (one folder per bucket, named after "
                f"its name or logical id; the template's buckets: {_listed(buckets)})"
            )
        plan = {by_folder.get(entry.name, entry.name): entry for entry in entries}
    s3 = boto3.client("s3", region_name=REGION)
    existing = {item["Name"] for item in s3.list_buckets().get("Buckets", [])}
    written: dict[str, int] = {}
    for name, root in plan.items():
        if name not in existing:
            s3.create_bucket(Bucket=name)
        files = sorted(path for path in root.rglob("*") if path.is_file())
        for path in files:
            s3.put_object(Bucket=name, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())
        written[name] = len(files)
    return written


def write_buckets(folder: Path) -> dict[str, int]:
    """Write every object of every emulated bucket under ``folder/<bucket>/<key>``; bucket name -> objects written.

    A key that would leave the bucket's folder (``..`` parts, an absolute path) is refused.
    """
    import boto3  # noqa: PLC0415

    s3 = boto3.client("s3", region_name=REGION)
    written: dict[str, int] = {}
    for bucket in sorted(item["Name"] for item in s3.list_buckets().get("Buckets", [])):
        root = (folder / bucket).resolve()
        count = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                target = (root / item["Key"]).resolve()
                if not target.is_relative_to(root) or item["Key"].endswith("/"):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                count += 1
        written[bucket] = count
    return written


def _listed(buckets: Mapping[str, str]) -> str:
    return ", ".join(f"{logical_id} ({name})" for logical_id, name in sorted(buckets.items())) or "none"
