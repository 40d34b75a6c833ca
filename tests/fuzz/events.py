"""Hostile events per function: valid sample events with hostile parts, and targeted shapes per function.

``event_for(function, seed, index)`` is a pure function of its arguments, so a failing event is replayed exactly
(``python -m tests.fuzz.run --replay Function:seed:index``).
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable
from typing import Any

from tests.fuzz import hostile
from tests.fuzz.hostile import BUCKET

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:FuzzChain"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:FuzzChain:"
CLAUDE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"

PREPROCESS = {
    "execution_name": "fuzz-exec",
    "step": "outline",
    "model_id": CLAUDE,
    "prompt": {
        "system": "You plan articles.",
        "messages": [{"role": "user", "content": "Outline {{ input.topic }}; notes: {{ steps.research.text | json }}"}],
    },
    "variables": {"input": {"topic": "chains"}, "steps": {"research": {"text": "notes"}}},
    "inference": {"max_tokens": 100, "temperature": 0.4, "top_p": 0.9},
    "offload": {"output_to_s3": True},
}
RESOLVE = {
    "model_id": CLAUDE,
    "output_s3_uri": f"s3://{BUCKET}/offload/responses/fuzz-exec/outline.json",
    "task_result": {"Body": {"S3Uri": f"s3://{BUCKET}/offload/responses/fuzz-exec/outline.json"}},
    "preview_chars": 2000,
}
OUTLINE_SCHEMA = {
    "type": "object",
    "required": ["title", "points"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "points": {"type": "array", "items": {"type": "string"}},
    },
}
POSTPROCESS = {
    "model_id": "cohere.command-text-v14",
    "result": {"text": '{"title": "t", "points": ["a", "b", "c"]}', "finish_reason": "COMPLETE"},
    "output": {"format": "json", "schema": OUTLINE_SCHEMA, "on_truncation": "report"},
}
ONE_STEP_CHAIN = {
    "name": "fuzz-chain",
    "steps": [
        {
            "name": "answer",
            "model_id": "amazon.nova-lite-v1:0",
            "prompt": "Answer: {{ input.question }}",
            "output": {"format": "json", "schema": {"type": "object"}},
        }
    ],
}
PREPARE_BATCH = {"chain": "outline-draft-critique", "prompt_set": "prompt-sets/good.jsonl", "max_concurrency": 5}
SUMMARIZE_BATCH = {
    "execution_name": "nightly",
    "chain": "c",
    "prompt_set": {"bucket": BUCKET, "key": "prompt-sets/good.jsonl"},
    "items": 3,
    "tolerated_failure_percentage": 50,
    "map": {"ResultWriterDetails": {"Bucket": BUCKET, "Key": "batches/results/nightly/manifest.json"}},
}
VALIDATE_DATASET = {
    "execution_name": "fine-tune-fuzz",
    "base_model_id": "amazon.nova-lite-v1:0:300k",
    "customization_type": "FINE_TUNING",
    "training_data_s3_uri": f"s3://{BUCKET}/fine-tuning/datasets/train.jsonl",
    "hyperparameters": {"epochCount": 2, "learningRate": 0.00001},
    "max_reported_errors": 20,
}
PREPARE_EVALUATION = {
    "execution_name": "run-1",
    "base_model_id": "amazon.nova-lite-v1:0",
    "fine_tuned_from": "amazon.nova-lite-v1:0:300k",
    "custom_model_id": "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123",
    "evaluation": {"prompts": [{"prompt": "Where is my invoice?", "reference": "Billing, then History."}]},
}
SCORE_EVALUATION = {
    "execution_name": "run-1",
    "prompts_s3_uri": f"s3://{BUCKET}/fine-tuning/reports/run-1/evaluation-prompts.json",
    "chains": [
        {"model": "base", "model_id": "amazon.nova-lite-v1:0", "execution_arn": EXECUTION + "base"},
        {"model": "custom", "model_id": "amazon.nova-lite-v1:0", "execution_arn": EXECUTION + "custom"},
    ],
}
START_CHAIN_BODY = {"chain": "outline-draft-critique", "variables": {"topic": "t", "audience": "a"}, "mode": "async"}
START_FINE_TUNE_BODY = {
    "training_data_s3_uri": f"s3://{BUCKET}/fine-tuning/datasets/train.jsonl",
    "hyperparameters": {"epochCount": 2},
    "evaluation": {"prompts": [{"prompt": "p", "reference": "r"}]},
}

BASES: dict[str, dict[str, Any]] = {
    "PreprocessPromptFunction": PREPROCESS,
    "ResolveOutputFunction": RESOLVE,
    "PostprocessResultFunction": POSTPROCESS,
    "PrepareBatchFunction": PREPARE_BATCH,
    "SummarizeBatchFunction": SUMMARIZE_BATCH,
    "ValidateDatasetFunction": VALIDATE_DATASET,
    "PrepareEvaluationFunction": PREPARE_EVALUATION,
    "ScoreEvaluationFunction": SCORE_EVALUATION,
}


# ---------------------------------------------------------------- generic mutations


def _paths(value: Any, max_depth: int = 8) -> list[tuple[Any, ...]]:
    """Every path into ``value`` down to ``max_depth`` (iterative: earlier mutations may have nested it deeply)."""
    found: list[tuple[Any, ...]] = []
    pending: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while pending:
        prefix, node = pending.pop()
        if prefix:
            found.append(prefix)
        if len(prefix) >= max_depth:
            continue
        if isinstance(node, dict):
            pending.extend(((*prefix, key), item) for key, item in node.items())
        elif isinstance(node, list):
            pending.extend(((*prefix, index), item) for index, item in enumerate(node))
    return sorted(found, key=repr)


def _replace(event: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> None:
    node = event
    for part in path[:-1]:
        node = node[part]
    if drop and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value


def mutate(base: Any, rng: random.Random, value: Callable[[random.Random], Any] = hostile.hostile_value) -> Any:
    """One to three parts of ``base`` replaced by hostile values (or dropped), sometimes a hostile extra key."""
    event = copy.deepcopy(base)
    for _ in range(rng.randrange(1, 4)):
        paths = _paths(event)
        if not paths or rng.random() < 0.1:
            if isinstance(event, dict):
                event[hostile.odd_string(rng)] = value(rng)
            continue
        _replace(event, rng.choice(paths), value(rng), drop=rng.random() < 0.15)
    return event


def whole_event(rng: random.Random) -> Any:
    return rng.choice([None, [], "text", 3, 1.5, True, hostile.nested(100_000), {}, {"\x00": None}])


# ---------------------------------------------------------------- targeted shapes


def postprocess_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(POSTPROCESS)
    pick = rng.randrange(4)
    if pick in (0, 1):
        event["result"]["text"] = hostile.hostile_answer_text(rng)
    if pick in (1, 2):
        event["output"]["schema"] = hostile.hostile_schema(rng)
    if pick == 2:
        event["result"]["text"] = rng.choice(["a" * 40 + "!", '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"', '{"a": 1}'])
    if pick == 3:
        event["model_id"] = rng.choice([CLAUDE, "amazon.nova-lite-v1:0", "meta.llama3-8b-instruct-v1:0"])
        event["result"] = hostile.hostile_value(rng)
    return event


def preprocess_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(PREPROCESS)
    depth = rng.choice(hostile.STACK_DEPTHS)
    event["variables"]["steps"]["research"]["text"] = rng.choice(
        [hostile.nested(depth, kind=rng.choice(["list", "dict"])), hostile.huge_int(rng), hostile.odd_float(rng)]
    )
    if rng.random() < 0.3:
        event["prompt"] = rng.choice(hostile.STRINGS) or "x"
    return event


def resolve_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(RESOLVE)
    uri = hostile.invalid_s3_uri(rng)
    if rng.random() < 0.5:
        event["output_s3_uri"] = uri
    else:
        del event["output_s3_uri"]
        event["task_result"] = rng.choice([{"Body": {"S3Uri": uri}}, hostile.nested(5_000, leaf=uri), uri])
    return event


def score_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(SCORE_EVALUATION)
    event["chains"][rng.randrange(2)]["execution_arn"] = hostile.invalid_arn(rng)
    if rng.random() < 0.3:
        event["prompts_s3_uri"] = hostile.invalid_s3_uri(rng)
    return event


def uri_targeted(base: dict[str, Any], field: str) -> Callable[[random.Random], dict[str, Any]]:
    def build(rng: random.Random) -> dict[str, Any]:
        event = copy.deepcopy(base)
        event[field] = hostile.invalid_s3_uri(rng)
        return event

    return build


def prepare_evaluation_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(PREPARE_EVALUATION)
    event["evaluation"] = {"prompts_s3_uri": hostile.invalid_s3_uri(rng)}
    if rng.random() < 0.3:
        event["custom_model_id"] = hostile.invalid_arn(rng)
    return event


def summarize_targeted(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(SUMMARIZE_BATCH)
    event["map"] = rng.choice(
        [
            {"ResultWriterDetails": {"Bucket": BUCKET, "Key": rng.choice(["batches/results/bad/manifest.json", ""])}},
            {"ResultWriterDetails": {"Bucket": "other", "Key": "batches/results/x/manifest.json"}},
            {"Error": hostile.odd_string(rng), "Cause": hostile.hostile_answer_text(rng)},
            {"ResultWriterDetails": hostile.hostile_value(rng)},
        ]
    )
    return event


# ---------------------------------------------------------------- API Gateway proxy events


def proxy_event(method: str, path: str, resource: str, body: Any, path_parameters: Any = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "198.51.100.7"},
            "accountId": "123456789012",
            "apiId": "abcdef1234",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def hostile_chain(rng: random.Random) -> Any:
    chain = copy.deepcopy(ONE_STEP_CHAIN)
    step = chain["steps"][0]
    pick = rng.randrange(5)
    if pick == 0:
        step["output"]["schema"] = hostile.hostile_schema(rng)
    elif pick == 1:
        step["prompt"] = hostile.odd_string(rng) or "x"
    elif pick == 2:
        step["model_id"] = rng.choice([hostile.invalid_arn(rng), hostile.odd_string(rng)])
    elif pick == 3:
        chain["steps"] = [copy.deepcopy(step) for _ in range(rng.choice([2, 300]))]
    else:
        return mutate(chain, rng)
    return chain


def api_event(collection: str, base_body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """An event API Gateway can deliver to the proxy integration (and some it cannot, as a broken test client sends)."""
    pick = rng.randrange(10)
    if pick <= 1:
        body: Any = hostile.hostile_json_text(rng)
    elif pick == 2:
        payload = copy.deepcopy(base_body)
        payload["chain" if collection == "chains" else "evaluation"] = hostile_chain(rng)
        payload["mode"] = rng.choice(["sync", "async"])
        body = _dumps(payload)
    elif pick == 3:
        body = _dumps(mutate(base_body, rng))
    elif pick == 4:
        identifier = rng.choice(
            [hostile.odd_string(rng), "a" * 64, "..%2F..", "%00", hostile.invalid_arn(rng), "0" * 81]
        )
        return proxy_event("GET", f"/{collection}/{identifier}", f"/{collection}/{{id}}", None, {"id": identifier})
    elif pick == 5:
        event = proxy_event("POST", f"/{collection}", f"/{collection}", _dumps(base_body))
        event["isBase64Encoded"] = True
        event["body"] = rng.choice(["@@not base64@@", base64.b64encode(b"\xff\xfe\x00").decode(), "e30="])
        return event
    elif pick == 6:
        event = proxy_event("POST", f"/{collection}", f"/{collection}", _dumps(base_body))
        event["headers"] = rng.choice(
            [
                None,
                {},
                {"Idempotency-Key": hostile.odd_string(rng)},
                {"idempotency-key": "k" * 300},
                {"Idempotency-Key": ""},
            ]
        )
        event["multiValueHeaders"] = rng.choice([None, {}, {"Idempotency-Key": ["a", "b"]}])
        return event
    elif pick == 7:
        event = proxy_event("POST", f"/{collection}", f"/{collection}", _dumps(base_body))
        return mutate(event, rng, hostile.hostile_scalar)
    elif pick == 8:
        return proxy_event(
            rng.choice(["PUT", "DELETE", "OPTIONS", "HEAD", "get", "", "\x00"]),
            rng.choice([f"/{collection}", "/", "/other", f"/{collection}/x/y", ""]),
            f"/{collection}",
            _dumps(base_body),
        )
    else:
        body = rng.choice([hostile.hostile_value(rng), b"{}", 17, ["x"]])
    return proxy_event("POST", f"/{collection}", f"/{collection}", body)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return "{}"


# ---------------------------------------------------------------- per function


GENERATORS: dict[str, Callable[[random.Random], Any]] = {
    "PreprocessPromptFunction": preprocess_targeted,
    "ResolveOutputFunction": resolve_targeted,
    "PostprocessResultFunction": postprocess_targeted,
    "PrepareBatchFunction": uri_targeted(PREPARE_BATCH, "prompt_set"),
    "SummarizeBatchFunction": summarize_targeted,
    "ValidateDatasetFunction": uri_targeted(VALIDATE_DATASET, "training_data_s3_uri"),
    "PrepareEvaluationFunction": prepare_evaluation_targeted,
    "ScoreEvaluationFunction": score_targeted,
    "ChainApiFunction": lambda rng: api_event("chains", START_CHAIN_BODY, rng),
    "FineTuneApiFunction": lambda rng: api_event("fine-tunes", START_FINE_TUNE_BODY, rng),
}
FUNCTIONS = list(GENERATORS)


def event_for(function: str, seed: int, index: int) -> Any:
    """The ``index``-th hostile event for ``function`` in run ``seed``: targeted, mutated, or not an object at all."""
    rng = random.Random(f"{function}:{seed}:{index}")
    roll = rng.random()
    if roll < 0.05:
        return whole_event(rng)
    if function in BASES and roll < 0.40:
        return mutate(BASES[function], rng)
    return GENERATORS[function](rng)
