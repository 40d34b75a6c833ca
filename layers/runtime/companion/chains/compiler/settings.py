"""The limits the compiler designs a machine for: they decide, per step, what stays inline and what goes through S3."""

from __future__ import annotations

from dataclasses import dataclass

STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024


@dataclass(frozen=True)
class CompileSettings:
    """Budgets a compiled chain machine is built for.

    Parameters
    ----------
    max_input_bytes
        The chain input's JSON may be at most this large; ``Check Input`` refuses a larger one (``ChainInputError``),
        which is what lets the compiler bound a prompt that uses the input.
    body_budget_bytes
        A Body whose bound is over this is rendered by the pre-process Lambda, which sends it through
        ``Input.S3Uri`` when it really is too large; under it, the Body is built in the invoke state itself.
    answer_budget_bytes
        An answer that may be larger goes to S3 through ``Output.S3Uri`` even when the step did not ask for it.
    bytes_per_token
        Bytes of JSON-escaped UTF-8 per token, the factor that bounds an answer of ``max_tokens`` tokens.
    offload_prefix
        The payload bucket's prefix the functions read and write under (their ``OFFLOAD_PREFIX``).
    """

    max_input_bytes: int = 32 * 1024
    body_budget_bytes: int = 160 * 1024
    answer_budget_bytes: int = 64 * 1024
    bytes_per_token: int = 6
    offload_prefix: str = "offload/"
