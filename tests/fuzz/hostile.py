"""Hostile values: what an attacker, a broken client or a model's answer can put into an event.

Every generator takes a ``random.Random`` so that an event is reproduced exactly from its seed and index.
Deeply nested values are built iteratively: building them must not be what overflows the stack.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

Gen = Callable[[random.Random], Any]

STACK_DEPTHS = (50, 990, 1_000, 5_000, 10_000, 100_000)
DIGITS = (20, 400, 4_301, 5_000, 50_000)
BUCKET = "fuzz-payloads"


def nested(depth: int, *, kind: str = "list", leaf: Any = 0) -> Any:
    """``depth`` lists (or objects under key "a") around ``leaf``."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def nested_text(depth: int, *, kind: str = "list", closed: bool = True) -> str:
    """The JSON text of :func:`nested`, optionally left unclosed (an answer cut short)."""
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return opening * depth + "0" + (closing * depth if closed else "")


def huge_int(rng: random.Random) -> int:
    digits = rng.choice(DIGITS)
    return int("9" * min(digits, 4_300)) if digits <= 4_300 else 10 ** (digits - 1)


def huge_number_text(rng: random.Random) -> str:
    digits = rng.choice(DIGITS)
    return rng.choice(["", "-"]) + "9" * digits + rng.choice(["", ".5", "e999999", "E-99999"])


def odd_float(rng: random.Random) -> float:
    return rng.choice([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324])


STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff{}",
    "../../etc/passwd",
    "%00",
    "{{ input.__class__ }}",
    "{{ x() }}",
    "{{",
    "}}{{",
    "{{ a | json }}" * 50,
    "${jndi:ldap://x}",
    "<script>",
    "NaN",
    "Infinity",
    "null",
    "[" * 990,
    "\u202e\u2066",
    "a" * 70_000,
    "é" * 1000,
    "\n" * 500,
]


def odd_string(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.6:
        return rng.choice(STRINGS)
    if choice < 0.8:
        return "".join(chr(rng.randrange(0, 0x110000)) for _ in range(rng.randrange(1, 40)))
    return rng.choice(STRINGS) * rng.randrange(2, 50)


def invalid_arn(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "arn",
            "arn:aws",
            "arn:aws:states",
            "arn:aws:states:us-east-1:123456789012:execution",
            "arn:aws:states:us-east-1:123456789012:execution:M",
            "arn:aws:states:us-east-1:123456789012:execution:M:",
            "arn:aws:states:us-east-1:12345:execution:M:x",
            "arn:aws:states:::execution:M:x",
            "arn:aws:s3:::bucket/key",
            "arn:aws:states:us-east-1:123456789012:stateMachine:M",
            "arn:aws:states:us-east-1:123456789012:execution:M:" + "x" * 5000,
            "arn:aws:states:us-east-1:123456789012:execution:M:\x00",
            "arn:aws:states:us-east-1:123456789012:execution:M:\ud800",
            "arn:aws:states:us-east-1:123456789012:execution:M:a b",
            "arn:aws:states:us-east-1:123456789012:express:M:x:y",
            "arn:aws:states:us-east-1:123456789012:execution:Missing:nope",
            "not-an-arn",
            "arn:aws:states:us-east-1:123456789012:execution:M:x/../y",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        ]
    )


def invalid_s3_uri(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "s3://",
            "s3:///key",
            f"s3://{BUCKET}",
            f"s3://{BUCKET}/",
            f"s3://{BUCKET}/offload/",
            f"s3://{BUCKET}/offload/responses",
            f"s3://{BUCKET}/offload/responses/",
            f"s3://{BUCKET}/offload/responses/other-exec",
            f"s3://{BUCKET}/offload/requests/other-exec/step.json",
            f"s3://{BUCKET}/offload/../secrets.json",
            f"s3://{BUCKET}/offload/responses/../../x",
            f"s3://{BUCKET}/offload/responses/\x00.json",
            f"s3://{BUCKET}/offload/responses/\ud800.json",
            f"s3://{BUCKET}/offload/responses/" + "k" * 2000,
            f"s3://{BUCKET}/offload/responses/missing.json",
            f"s3://{BUCKET}/offload/responses/not-json.json",
            f"s3://{BUCKET}/offload/responses/deep.json",
            f"s3://{BUCKET}/offload/responses/huge-number.json",
            f"s3://{BUCKET}/prompt-sets/bad.jsonl",
            f"s3://{BUCKET}/prompt-sets/missing.jsonl",
            f"s3://{BUCKET}/fine-tuning/datasets/missing.jsonl",
            f"s3://{BUCKET}/fine-tuning/evaluation/deep.json",
            f"s3://{BUCKET}/fine-tuning/evaluation/huge-number.json",
            "s3://other-bucket/offload/x.json",
            "s3://UPPER/offload/x.json",
            "https://example.com/x.json",
            "file:///etc/passwd",
            "s3://" + "b" * 70 + "/k",
            f"S3://{BUCKET}/offload/x",
        ]
    )


def hostile_scalar(rng: random.Random) -> Any:
    pick = rng.randrange(8)
    if pick == 0:
        return huge_int(rng)
    if pick == 1:
        return odd_float(rng)
    if pick == 2:
        return invalid_arn(rng)
    if pick == 3:
        return invalid_s3_uri(rng)
    if pick == 4:
        return rng.choice([None, True, False, 0, -1, 2**63, -(2**63) - 1, 1.5])
    return odd_string(rng)


def hostile_value(rng: random.Random) -> Any:
    """Any JSON-ish value an event could carry, biased towards what breaks parsers."""
    pick = rng.randrange(10)
    if pick == 0:
        return nested(rng.choice(STACK_DEPTHS), kind=rng.choice(["list", "dict"]), leaf=hostile_scalar(rng))
    if pick == 1:
        return {odd_string(rng): hostile_scalar(rng) for _ in range(rng.randrange(1, 4))}
    if pick == 2:
        return [hostile_scalar(rng) for _ in range(rng.randrange(0, 5))]
    if pick == 3:
        return {"\x00": 1, "\ud800": 2, "": 3}
    return hostile_scalar(rng)


HOSTILE_SCHEMAS: list[Any] = [
    {"type": "string", "pattern": "^(a+)+$"},
    {"type": "string", "pattern": "^(a|aa)+$"},
    {"type": "string", "pattern": "(x+x+)+y"},
    {"type": "object", "patternProperties": {"^(a+)+$": {"type": "string"}}},
    {"type": "string", "pattern": "(a)\\1"},
    {"type": "string", "pattern": "(?=a)a"},
    {"type": "string", "pattern": "["},
    {"type": "string", "pattern": "a{1000}{1000}{1000}"},
    {"type": "string", "pattern": "\x00"},
    {"type": "string", "pattern": "\ud800"},
    {"$ref": "#"},
    {"properties": {"a": {"$ref": "#"}}, "$ref": "#/properties/a"},
    {"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"},
    {"$ref": "#/definitions/missing"},
    {"$ref": "http://example.com/schema.json"},
    {"type": "string", "maxLength": math.nan},
    {"type": "string", "maxLength": math.inf},
    {"type": "string", "minLength": -1},
    {"type": "number", "multipleOf": 0},
    {"type": "number", "maximum": math.nan},
    {"type": "array", "maxItems": "three"},
    {"type": "array", "items": nested(3000, kind="list", leaf={})},
    nested(2000, kind="dict", leaf={"type": "object"}),
    {"properties": 1},
    {"required": "x"},
    {"type": "unknown"},
    {"enum": list(range(100_000))},
    {"format": "regex"},
    {"type": "string", "format": "email"},
    {"allOf": [{"type": "object"}] * 5000},
    {"type": "object", "properties": {str(i): {"type": "string"} for i in range(20_000)}},
    {"dependencies": {"a": 1}},
    {"if": {"const": 1}, "then": {"$ref": "#"}},
    {"const": math.nan},
    {"\x00": {}, "\ud800": {}},
]


def hostile_schema(rng: random.Random) -> Any:
    if rng.random() < 0.85:
        return rng.choice(HOSTILE_SCHEMAS)
    return hostile_value(rng)


def hostile_answer_text(rng: random.Random) -> str:
    """What a model (or an injected prompt) can make an answer say."""
    pick = rng.randrange(14)
    if pick == 0:
        return nested_text(rng.choice(STACK_DEPTHS), closed=rng.random() < 0.5)
    if pick == 1:
        return nested_text(rng.choice(STACK_DEPTHS), kind="dict", closed=rng.random() < 0.5)
    if pick == 2:
        return "[" * rng.choice([990, 5_000, 100_000])
    if pick == 3:
        return '{"title": ' + huge_number_text(rng) + ', "points": []}'
    if pick == 4:
        return huge_number_text(rng)
    if pick == 5:
        return rng.choice(['{"a": NaN}', '{"a": Infinity}', "[-Infinity]", "NaN"])
    if pick == 6:
        return '{"title": "' + "a" * rng.choice([30, 5_000, 100_000]) + '!", "points": ["x", "y", "z"]}'
    if pick == 7:
        return "```json\n" * rng.randrange(1, 3_000)
    if pick == 8:
        return "{" * 64 + "[" * 64 + "prose " * 1_000
    if pick == 9:
        return json.dumps({"\x00": "\ud800", "title": "t", "points": ["a", "b", "c"]})
    if pick == 10:
        return '{"a": "\\ud800"}'
    if pick == 11:
        return "{" + ",".join(f'"k{i}": {i}' for i in range(rng.choice([10, 50_000]))) + "}"
    if pick == 12:
        return "\x00" * rng.randrange(1, 1000)
    return odd_string(rng)


def hostile_json_text(rng: random.Random) -> str:
    """A request body: JSON text built to break a parser (or not JSON at all)."""
    pick = rng.randrange(8)
    if pick == 0:
        return nested_text(rng.choice(STACK_DEPTHS), kind=rng.choice(["list", "dict"]))
    if pick == 1:
        return '{"chain": "outline-draft-critique", "variables": {"n": ' + huge_number_text(rng) + "}}"
    if pick == 2:
        return '{"chain": "outline-draft-critique", "variables": {"n": NaN, "m": -Infinity}}'
    if pick == 3:
        return '{"chain": "outline-draft-critique", "variables": {"\\u0000": "\\ud800"}}'
    if pick == 4:
        return rng.choice(["", "null", "[]", "1", '"x"', "{", "{}", "\ufeff{}", "\x00", "{'a': 1}"])
    if pick == 5:
        return '{"a": 1, "a": 2, "chain": {"name": "x"}}'
    return hostile_answer_text(rng)
