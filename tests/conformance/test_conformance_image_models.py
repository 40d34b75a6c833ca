"""Image models through the bedrock:invokeModel integration (Bedrock user guide, "Amazon Titan Image Generator",
"Amazon Nova Canvas", "Stability AI Stable Diffusion XL" request and response bodies). The images are SIMULATED."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import run_definition

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def invoke(model_id: str, body: dict[str, Any]) -> Any:
    definition = {
        "StartAt": "Draw",
        "States": {
            "Draw": {
                "Type": "Task",
                "Resource": "arn:aws:states:::bedrock:invokeModel",
                "Parameters": {"ModelId": model_id, "Body": body},
                "ResultSelector": {"body.$": "$.Body"},
                "End": True,
            }
        },
    }
    return run_definition(definition, {}, bedrock=BedrockStandIn())


TITAN_BODY = {
    "taskType": "TEXT_IMAGE",
    "textToImageParams": {"text": "a lighthouse at dawn"},
    "imageGenerationConfig": {"numberOfImages": 2, "height": 512, "width": 512, "cfgScale": 8.0, "seed": 42},
}


@pytest.mark.parametrize(
    ("model_id", "keys"),
    [
        ("amazon.titan-image-generator-v2:0", {"images", "error"}),
        ("amazon.nova-canvas-v1:0", {"images"}),
        ("us.amazon.nova-canvas-v1:0", {"images"}),
    ],
)
def test_titan_and_nova_canvas_answer_base64_images(model_id: str, keys: set[str]) -> None:
    """Response body: "images": an array of base64-encoded images, one per numberOfImages (Titan adds "error")."""
    # When a TEXT_IMAGE request asks for two images
    result = invoke(model_id, TITAN_BODY)
    # Then two base64 PNG images come back in the family's shape
    assert result.status == "SUCCEEDED", result.cause
    body = result.output["body"]
    assert set(body) == keys
    assert len(body["images"]) == 2
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in body["images"])


def test_stable_diffusion_xl_answers_artifacts() -> None:
    """SDXL response: {"result": "success", "artifacts": [{"seed", "base64", "finishReason"}]}."""
    # When a text_prompts request is made
    result = invoke(
        "stability.stable-diffusion-xl-v1", {"text_prompts": [{"text": "a lighthouse"}], "cfg_scale": 7, "steps": 30}
    )
    # Then one artifact with a base64 PNG comes back
    assert result.status == "SUCCEEDED", result.cause
    [artifact] = result.output["body"]["artifacts"]
    assert artifact["finishReason"] == "SUCCESS"
    assert base64.b64decode(artifact["base64"]).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("model_id", "body", "detail"),
    [
        ("amazon.titan-image-generator-v2:0", {"taskType": "TEXT_IMAGE"}, "textToImageParams"),
        (
            "amazon.nova-canvas-v1:0",
            {**TITAN_BODY, "imageGenerationConfig": {"numberOfImages": 6}},
            "numberOfImages",
        ),
        ("stability.stable-diffusion-xl-v1", {"text_prompts": [{"text": "x"}], "width": 1000}, "width"),
    ],
)
def test_invalid_image_requests_fail_with_bedrock_validation(model_id: str, body: dict[str, Any], detail: str) -> None:
    """Bedrock validates the body against the family's schema: "Malformed input request: ..." (ValidationException)."""
    # When an invalid request is made
    result = invoke(model_id, body)
    # Then the task fails with Bedrock's validation error naming the field
    assert (result.status, result.error) == ("FAILED", "Bedrock.ValidationException")
    assert detail in (result.cause or "")
