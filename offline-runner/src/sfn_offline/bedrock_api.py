"""The contract between the engine (which runs Bedrock task states) and whatever answers them offline."""

from __future__ import annotations

from typing import Any, Protocol


class BedrockServiceError(Exception):
    """A Bedrock API error as the service reports it; the engine surfaces it as ``Bedrock.<error_name>``.

    ``error_name`` is the API's exception name, e.g. ``ThrottlingException`` or ``ValidationException``.
    """

    def __init__(self, error_name: str, message: str) -> None:
        self.error_name = error_name
        self.message = message
        super().__init__(f"{error_name}: {message}")


class BedrockBackend(Protocol):
    """What a Bedrock task state may call. Every method raises ``BedrockServiceError`` for service errors.

    ``state_name`` and ``attempt`` (0 for the first try, as in AWS's mock-config format) let a backend script
    answers per state and retry.
    """

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        """Return the model's native response body (a JSON object) for a request ``body`` (parsed JSON)."""
        ...

    def converse(self, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        """Answer ``aws-sdk:bedrockruntime:converse``; ``request`` and result in the SDK integration's PascalCase."""
        ...

    def control_plane(self, action: str, request: dict[str, Any], *, state_name: str, attempt: int) -> dict[str, Any]:
        """Answer a Bedrock control-plane action (PascalCase request and result), e.g. ``CreateModelCustomizationJob``,
        ``GetModelCustomizationJob``, ``StopModelCustomizationJob``, ``CreateProvisionedModelThroughput``,
        ``GetProvisionedModelThroughput``, ``DeleteProvisionedModelThroughput``."""
        ...
