"""Running hostile events against the real handlers: one worker process, a deadline per event.

The worker imports the ten handlers, starts moto once (S3 and Step Functions, seeded with the objects and
executions the events point at) and answers ``(function, seed, index)`` requests: it builds the event itself, so
nothing deep or huge crosses the pipe, and reports how the handler ended. The parent waits at most ``deadline``
seconds; a worker that does not answer in time is a hang, is killed and replaced.

Outcomes: ``ok`` (a result, JSON that Step Functions accepts), ``named`` (a project error for a task, a 4xx for an
API), ``unhandled`` (any other exception, a 5xx, an answer that leaks a stack trace or is not valid JSON), ``hang``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from companion.chains import CHAIN_LIBRARY
from tests.fuzz.events import FUNCTIONS, MACHINE, event_for
from tests.fuzz.hostile import BUCKET, nested_text

MODULES = {
    "PreprocessPromptFunction": "preprocess_prompt",
    "ResolveOutputFunction": "resolve_output",
    "PostprocessResultFunction": "postprocess_result",
    "PrepareBatchFunction": "prepare_batch",
    "SummarizeBatchFunction": "summarize_batch",
    "ValidateDatasetFunction": "validate_dataset",
    "PrepareEvaluationFunction": "prepare_evaluation",
    "ScoreEvaluationFunction": "score_evaluation",
    "ChainApiFunction": "chain_api",
    "FineTuneApiFunction": "fine_tune_api",
}
API_FUNCTIONS = {"ChainApiFunction", "FineTuneApiFunction"}
DEFAULT_DEADLINE_SECONDS = 5.0
_LEAK_MARKERS = ("Traceback", 'File "', '.py"', "stackTrace")

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "OFFLOAD_BUCKET": BUCKET,
    "OFFLOAD_PREFIX": "offload/",
    "STANDARD_STATE_MACHINE_ARN": MACHINE,
    "EXPRESS_STATE_MACHINE_ARN": MACHINE + "Express",
    "CHAIN_STATE_MACHINE_ARN_PREFIX": MACHINE.replace("FuzzChain", "fuzz-chain-"),
    "FINE_TUNING_STATE_MACHINE_ARN": MACHINE.replace("FuzzChain", "FuzzFineTuning"),
    "POWERTOOLS_SERVICE_NAME": "sfn-bedrock-companion",
    "POWERTOOLS_METRICS_NAMESPACE": "SfnBedrockCompanionFuzz",
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
}

CLAUDE_ANSWER = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": '{"title": "t", "points": ["a", "b", "c"]}'}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 10, "output_tokens": 5},
}
SEEDED_OBJECTS: dict[str, bytes] = {
    "offload/responses/fuzz-exec/outline.json": json.dumps(CLAUDE_ANSWER).encode(),
    "offload/responses/other-exec/answer.json": json.dumps(CLAUDE_ANSWER).encode(),
    "offload/responses/not-json.json": b"\xff\xfe not json",
    "offload/responses/deep.json": nested_text(100_000).encode(),
    "offload/responses/huge-number.json": json.dumps(CLAUDE_ANSWER).replace("10", "9" * 5000).encode(),
    "offload/requests/other-exec/step.json": b'{"keep": 1}',
    "prompt-sets/good.jsonl": b'{"topic": "a", "audience": "b"}\n{"topic": "c", "audience": "d"}\n',
    "prompt-sets/bad.jsonl": (nested_text(100_000) + "\n" + "9" * 5000 + '\n{"a": NaN}\n{"\\ud800": 1}\n').encode(),
    "fine-tuning/datasets/train.jsonl": b'{"prompt": "p", "completion": "c"}\n' * 5,
    "fine-tuning/evaluation/deep.json": nested_text(100_000).encode(),
    "fine-tuning/evaluation/huge-number.json": b'[{"prompt": "p", "reference": ' + b"9" * 5000 + b"}]",
    "fine-tuning/reports/run-1/evaluation-prompts.json": b'[{"prompt": "p", "reference": "r"}]',
    "batches/results/nightly/manifest.json": json.dumps(
        {"ResultFiles": {"SUCCEEDED": [{"Key": "batches/results/nightly/SUCCEEDED_0.json", "Size": 10}]}}
    ).encode(),
    "batches/results/nightly/SUCCEEDED_0.json": b"[" + nested_text(100_000).encode() + b"]",
    "batches/results/bad/manifest.json": nested_text(100_000).encode(),
}


@dataclass
class Tally:
    """Outcomes of one function's events, with the first examples of each unhandled error type."""

    events: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    named: Counter[str] = field(default_factory=Counter)
    unhandled: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- worker side


def _seed_aws() -> Any:
    import boto3
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for key, body in SEEDED_OBJECTS.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    role = "arn:aws:iam::123456789012:role/fuzz"
    # The stack's machines: the interpreter pair, fine-tuning, and each packaged chain's own machine.
    packaged = [f"fuzz-chain-{path.stem}" for path in CHAIN_LIBRARY.glob("*.json")]
    for name in ("FuzzChain", "FuzzChainExpress", "FuzzFineTuning", *packaged):
        sfn.create_state_machine(name=name, definition=definition, roleArn=role)
    for name in ("base", "custom"):
        sfn.start_execution(stateMachineArn=MACHINE, name=name, input="{}")
    _simulate_sync_runs()
    return mock


def _simulate_sync_runs() -> None:
    """moto has no StartSyncExecution: a stand-in answers it the way AWS reports a chain whose Lambda step failed,
    with the Lambda's error JSON (stack trace included) as the cause."""
    from companion.adapters import stepfunctions
    from companion.executions import ExecutionRecord

    def start_sync_execution(self: Any, name: str, document: str) -> ExecutionRecord:
        json.loads(document)
        cause = {
            "errorMessage": "boom",
            "errorType": "ValueError",
            "stackTrace": ['  File "/var/task/app.py", line 3, in lambda_handler\n    raise ValueError("boom")\n'],
        }
        arn = f"{MACHINE}Express:{name}"
        return ExecutionRecord(name, arn, "FAILED", input=document, error="ValueError", cause=json.dumps(cause))

    stepfunctions.StepFunctionsMachines.start_sync_execution = start_sync_execution  # type: ignore[method-assign]


def _classify(function: str, handler: Any, event: Any, context: Any) -> tuple[str, str, str]:
    from companion.errors import CompanionError

    try:
        result = handler(event, context)
    except CompanionError as exc:
        return "named", type(exc).__name__, ""
    except BaseException as exc:  # noqa: BLE001  (the point: anything else is counted, whatever it is)
        return "unhandled", type(exc).__name__, str(exc)[:200]
    try:
        json.dumps(result, allow_nan=False)
    except (ValueError, TypeError, RecursionError) as exc:
        return "unhandled", "OutputNotJson", str(exc)[:200]
    if function not in API_FUNCTIONS:
        return "ok", "", ""
    status = result.get("statusCode", 0) if isinstance(result, dict) else 0
    body = result.get("body") if isinstance(result, dict) else None
    body_text = body if isinstance(body, str) else ""
    if any(marker in body_text for marker in _LEAK_MARKERS):
        return "unhandled", f"Leak{status}", body_text[:200]
    if status >= 500 or status < 200:
        return "unhandled", f"Http{status}", body_text[:200]
    if status >= 400:
        try:
            name = json.loads(body_text).get("error", f"Http{status}")
        except (ValueError, AttributeError):
            name = f"Http{status}"
        return "named", str(name), ""
    return "ok", "", ""


def worker_main(connection: Connection) -> None:
    """Serve requests until the pipe closes: set up the environment, moto, the handlers, then classify events."""
    os.environ.update(ENVIRONMENT)

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("network access in the fuzz run")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from tools.local_lambda import LocalLambdaContext

    _mock = _seed_aws()
    handlers = {name: importlib.import_module(f"{module}.app").lambda_handler for name, module in MODULES.items()}
    connection.send("ready")
    while True:
        try:
            function, seed, index = connection.recv()
        except EOFError:
            return
        try:
            event = event_for(function, seed, index)
        except Exception as exc:  # noqa: BLE001  (a generator bug must be reported, not kill the worker)
            connection.send(("unhandled", f"FuzzGenerator{type(exc).__name__}", str(exc)[:200]))
            continue
        context = LocalLambdaContext(function_name=function)
        connection.send(_classify(function, handlers[function], event, context))


# ---------------------------------------------------------------- parent side


class Worker:
    """One worker process and its pipe; replaced after a hang or a crash."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        if not self.connection.poll(120) or self.connection.recv() != "ready":
            self.stop()
            raise RuntimeError("the fuzz worker did not start")

    def run(self, function: str, seed: int, index: int, deadline: float) -> tuple[str, str, str] | None:
        """The outcome, or None when the worker did not answer within ``deadline`` (or died)."""
        self.connection.send((function, seed, index))
        try:
            if self.connection.poll(deadline):
                outcome: tuple[str, str, str] = self.connection.recv()
                return outcome
        except (EOFError, OSError):
            return ("unhandled", "WorkerDied", f"exit code {self.process.exitcode}")
        return None

    def stop(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


def fuzz(
    events_per_function: int,
    *,
    seed: int,
    functions: list[str] | None = None,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
) -> dict[str, Tally]:
    """Run ``events_per_function`` hostile events against each function; the tallies per function."""
    tallies = {name: Tally() for name in functions or FUNCTIONS}
    worker = Worker()
    try:
        for index in range(events_per_function):
            for function, tally in tallies.items():
                outcome = worker.run(function, seed, index, deadline)
                if outcome is None or outcome[1] == "WorkerDied":
                    worker.stop()
                    worker = Worker()
                    outcome = outcome or ("hang", "Timeout", f"over {deadline} s")
                kind, name, detail = outcome
                tally.events += 1
                tally.outcomes[kind] += 1
                if kind == "named":
                    tally.named[name] += 1
                elif kind in {"unhandled", "hang"}:
                    tally.unhandled[name] += 1
                    tally.examples.setdefault(name, f"{function}:{seed}:{index} {detail}")
    finally:
        with contextlib.suppress(Exception):
            worker.stop()
    return tallies


def replay(function: str, seed: int, index: int) -> tuple[str, str, str]:
    """Run one event in this process (for a debugger): environment and moto as in the worker."""
    os.environ.update(ENVIRONMENT)
    from tools.local_lambda import LocalLambdaContext

    _mock = _seed_aws()
    handler = importlib.import_module(f"{MODULES[function]}.app").lambda_handler
    started = time.monotonic()
    outcome = _classify(function, handler, event_for(function, seed, index), LocalLambdaContext(function))
    return (*outcome[:2], f"{outcome[2]} ({time.monotonic() - started:.2f} s)")
