"""Logger and Metrics, created once per process and configured by the ``POWERTOOLS_*`` environment variables.

No Tracer: Lambda's and Step Functions' active tracing record every invocation and state at the service level, and
Powertools' Tracer would import the X-Ray SDK into every cold start (see benchmarks/lambda_overhead.py for the cost).
Prompts and model text are user data: log sizes, counts and names, never the text.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from companion.codec.models import NormalizedResult

# At DEBUG, botocore logs every request's parameters and every response body: the prompts a step offloads, the
# executions' input and output, the answers read back. Lambda's ApplicationLogLevel sets the root logger, so these
# loggers are pinned here, whatever level a deployment chooses.
QUIET_LIBRARY_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")
for _name in QUIET_LIBRARY_LOGGERS:
    logging.getLogger(_name).setLevel(logging.WARNING)

logger = Logger()
metrics = Metrics()

__all__ = ["QUIET_LIBRARY_LOGGERS", "MetricUnit", "logger", "metrics", "record_result_metrics"]


def record_result_metrics(result: NormalizedResult) -> None:
    """Token counts per model family; families that report no usage add nothing rather than a misleading zero."""
    metrics.add_dimension(name="ModelFamily", value=result.family.value)
    # Always one metric beside the dimension: Powertools keeps dimensions of a flush that had no metrics.
    metrics.add_metric(name="Answers", unit=MetricUnit.Count, value=1)
    if result.input_tokens is not None:
        metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=result.input_tokens)
    if result.output_tokens is not None:
        metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=result.output_tokens)
    if result.stop_reason == "max_tokens":
        metrics.add_metric(name="TruncatedAnswers", unit=MetricUnit.Count, value=1)
