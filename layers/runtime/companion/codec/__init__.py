"""Model-family codec: one provider-neutral request in, each family's InvokeModel Body out, and any form of the
answer back into one normalized result.

Pure functions only (no I/O, no boto3), so it is cheap to import at Lambda cold start and safe to call anywhere.
"""

from companion.codec.decoding import decode
from companion.codec.encoding import encode, encode_json
from companion.codec.ids import resolve_family
from companion.codec.models import ModelFamily, NeutralRequest, NormalizedResult, StopReason, ToolCall, Turn

__all__ = [
    "ModelFamily",
    "NeutralRequest",
    "NormalizedResult",
    "StopReason",
    "ToolCall",
    "Turn",
    "decode",
    "encode",
    "encode_json",
    "resolve_family",
]
