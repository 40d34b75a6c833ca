"""Records an order in the audit table (a sample function: boto3 at module scope, as Lambda samples write it)."""

import os

import boto3

dynamodb = boto3.client("dynamodb")


def handler(event, context):
    dynamodb.put_item(
        TableName=os.environ["AUDIT_TABLE"],
        Item={"orderId": {"S": event["orderId"]}, "status": {"S": "recorded"}},
    )
    return {"recorded": event["orderId"]}
