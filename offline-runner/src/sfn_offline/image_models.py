"""SIMULATED image models for the Bedrock stand-in: Stable Diffusion XL, Titan Image Generator (v1, v2), Nova Canvas.

Each family's request is checked the way Bedrock checks it (required fields, ranges, image sizes) and answered in
the family's response shape, with base64 PNG images. The images are small solid squares whose colour derives from
the request: placeholders for exercising state machines, never generated pictures (and small enough to stay far
below the 256 KiB state payload quota, which real images would not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from typing import Any, Final

from sfn_offline.bedrock_api import BedrockServiceError

_SDXL: Final[str] = "stability.stable-diffusion-xl"
_TITAN_IMAGE: Final[str] = "amazon.titan-image-generator"
_NOVA_CANVAS: Final[str] = "amazon.nova-canvas"
_SIDE: Final[int] = 16
_TASK_TYPES: Final[frozenset[str]] = frozenset(
    {"TEXT_IMAGE", "INPAINTING", "OUTPAINTING", "IMAGE_VARIATION", "COLOR_GUIDED_GENERATION", "BACKGROUND_REMOVAL"}
)


def _base_id(model_id: str) -> str:
    # A cross-region inference profile (us.amazon.nova-canvas-v1:0) names the same model.
    parts = model_id.rsplit("/", 1)[-1].split(".")
    return ".".join(parts[1:]) if len(parts) > 2 and len(parts[0]) == 2 else model_id.rsplit("/", 1)[-1]


def is_image_model(model_id: str) -> bool:
    """Whether ``model_id`` (id, ARN or inference profile) names one of the simulated image models."""
    base = _base_id(model_id)
    return base.startswith((_SDXL, _TITAN_IMAGE, _NOVA_CANVAS))


def _malformed(detail: str) -> BedrockServiceError:
    return BedrockServiceError(
        "ValidationException", f"Malformed input request: {detail}, please reformat your input and try again."
    )


def png(seed: str) -> str:
    """A base64 PNG: a small square of one colour derived from ``seed``."""
    red, green, blue = hashlib.sha256(seed.encode()).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * _SIDE
    raw = row * _SIDE

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", _SIDE, _SIDE, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def image_answer(model_id: str, body: Any) -> dict[str, Any]:
    """The family's native response to ``body``; raises ``BedrockServiceError`` as Bedrock's validation would."""
    if not isinstance(body, dict):
        raise _malformed("expected type: JSONObject")
    seed = model_id + json.dumps(body, sort_keys=True)
    if _base_id(model_id).startswith(_SDXL):
        return _stable_diffusion(body, seed)
    return _titan_or_canvas(body, seed, canvas=_base_id(model_id).startswith(_NOVA_CANVAS))


def _stable_diffusion(body: dict[str, Any], seed: str) -> dict[str, Any]:
    prompts = body.get("text_prompts")
    if not isinstance(prompts, list) or not prompts:
        raise _malformed("#: required key [text_prompts] not found")
    for index, prompt in enumerate(prompts):
        if not isinstance(prompt, dict) or not isinstance(prompt.get("text"), str) or not prompt["text"]:
            raise _malformed(f"#/text_prompts/{index}: required key [text] not found")
    for side in ("width", "height"):
        value = body.get(side, 1024)
        if not isinstance(value, int) or value < 128 or value % 64:
            raise _malformed(f"#/{side}: {value} is not a multiple of 64 of at least 128")
    steps = body.get("steps", 30)
    if not isinstance(steps, int) or not 10 <= steps <= 150:
        raise _malformed(f"#/steps: {steps} is not between 10 and 150")
    image_seed = body.get("seed", 0) or int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    return {"result": "success", "artifacts": [{"seed": image_seed, "base64": png(seed), "finishReason": "SUCCESS"}]}


def _titan_or_canvas(body: dict[str, Any], seed: str, *, canvas: bool) -> dict[str, Any]:
    task = body.get("taskType")
    if task not in _TASK_TYPES:
        raise _malformed(f"#/taskType: {task} is not a valid enum value")
    if task == "TEXT_IMAGE":
        params = body.get("textToImageParams")
        if not isinstance(params, dict):
            raise _malformed("#: required key [textToImageParams] not found")
        text = params.get("text")
        limit = 1024 if canvas else 512
        if not isinstance(text, str) or not 1 <= len(text) <= limit:
            raise _malformed(f"#/textToImageParams/text: expected a string of 1 to {limit} characters")
    config = body.get("imageGenerationConfig") or {}
    count = config.get("numberOfImages", 1)
    if not isinstance(count, int) or not 1 <= count <= 5:
        raise _malformed(f"#/imageGenerationConfig/numberOfImages: {count} is not between 1 and 5")
    images = [png(f"{seed}/{index}") for index in range(count)]
    return {"images": images} if canvas else {"images": images, "error": None}
