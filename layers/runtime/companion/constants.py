"""Limits and locations that several capabilities share; each is defined here and nowhere else."""

from __future__ import annotations

STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024
"""Step Functions' quota for a state's input or output, an execution's input, and an inline invokeModel Body."""

DEFAULT_PAYLOAD_BUDGET_BYTES = STATE_PAYLOAD_LIMIT_BYTES - 32 * 1024
"""Headroom for the rest of the state (execution input, earlier step results) next to one step's payload."""

DATASET_PREFIX = "fine-tuning/datasets/"
"""Where fine-tuning datasets live in the payload bucket: the only prefix the Bedrock customization role may read."""
