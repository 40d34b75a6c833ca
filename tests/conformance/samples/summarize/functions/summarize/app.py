"""Summarizes a document with Claude through boto3 (the pattern of the public Lambda + Bedrock samples)."""

import json
import os

import boto3

bedrock = boto3.client("bedrock-runtime")


def handler(event, context):
    response = bedrock.invoke_model(
        modelId=os.environ["MODEL_ID"],
        body=json.dumps(
            {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 200,
                "messages": [{"role": "user", "content": f"Summarize: {event['text']}"}],
            }
        ),
    )
    answer = json.loads(response["body"].read())
    follow_up = bedrock.converse(
        modelId=os.environ["MODEL_ID"],
        messages=[{"role": "user", "content": [{"text": "Give it a title"}]}],
    )
    return {
        "summary": answer["content"][0]["text"],
        "title": follow_up["output"]["message"]["content"][0]["text"],
        "tokens": answer["usage"]["output_tokens"],
    }
