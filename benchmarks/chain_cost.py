"""What 1,000 executions of a 3-step prompt chain cost around the model, before and after chain compilation.

Figures, no assertions. Run as ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/chain_cost.py``.

Each chain runs once in the offline runner (real handlers, the SIMULATED Bedrock stand-in, S3 emulated by moto) on
two machines: *before*, the generic interpreter (the template's PromptChainStateMachine, which runs any chain's plan
in a loop, its results in workflow variables; inline chains still run on it); *after*, the chain compiled to its own
machine (companion.chains.compiler; a packaged chain's generated machine from the template). Transitions and Lambda
invocations are counted from the execution's history, exactly as Standard bills them, and scaled to 1,000 executions;
*hand* is what a machine written by hand for that chain needs (one state per model call, one per JSON check or S3
read, one Lambda to render and offload a prompt too large to send inline). Lambda duration is the offline wall time
of each handler (in-process, no network): treat it as a floor. S3 requests are priced from the path (an offloaded
step: pre-process PUT, Bedrock GET, Bedrock PUT, resolve GET) plus the machine's own putObject tasks counted in its
history (the interpreter keeps an answer over 2,048 characters in S3 itself). Model tokens are left out: they depend
on the model, not on this project.

- *sample*: outline-draft-critique (outline JSON -> draft through Output.S3Uri -> critique JSON).
- *inline*: three small text steps, Body and answers inline.
- *offload*: three steps whose rendered prompt exceeds the payload budget (Input.S3Uri) and whose answers go to S3.

The batch line prices one prompt of a scheduled batch: *before*, the Distributed Map's child starts a Standard chain
execution (.sync:2) per prompt, so every transition of the child and of the chain is billed; *after*, the compiled
chain runs as an Express child (billed per request and GB-second, not per transition). Express duration is not
measurable offline (the models are simulated): it is priced at ``MODEL_SECONDS`` per model call, the assumption
printed beside it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXECUTIONS = 1000
S3_PUT_PER_1000 = 0.005  # USD, us-east-1 S3 Standard PUT requests, as of 2026-11-25
S3_GET_PER_1000 = 0.0004  # USD, GET requests
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
MODEL_SECONDS = 5.0  # assumed wall time of one model call, for Express duration
BATCH_CHILD_TRANSITIONS = 2  # the Distributed Map child that starts a Standard chain: Run Chain entered, and ended
SAMPLE_INPUT = {"topic": "Step Functions", "audience": "developers"}
OUTLINE = {"title": "Chains on Step Functions", "sections": ["Why", "How", "Limits"]}
CRITIQUE = {"score": 7, "strengths": ["clear"], "issues": ["short"]}
HAND_WRITTEN = {"sample": (6, 3), "inline": (3, 0), "offload": (9, 6)}


@dataclass(frozen=True)
class Figures:
    transitions: int
    lambda_invocations: int
    step_functions: float
    lambda_cost: float
    s3: float
    express: float
    model_calls: int

    @property
    def total(self) -> float:
        return self.step_functions + self.lambda_cost + self.s3


def _chain(offload: bool) -> dict[str, Any]:
    # A 60 KiB document rendered four times: a Body above the default payload budget (224 KiB) goes to S3, while the
    # execution input stays well under 256 KiB.
    quoted = "\n---\n".join(["{{ input.document }}"] * 4)
    prompt = f"{quoted}\n\nStep {{{{ input.n }}}}: summarize." if offload else "Step {{ input.n }}: say hi."
    step = {"model_id": CLAUDE, "prompt": prompt, "offload": {"output_to_s3": offload}}
    return {
        "name": "cost-" + ("offload" if offload else "inline"),
        "steps": [{"name": f"s{i}", **step} for i in (1, 2, 3)],
    }


def _measure(path: str, *, compiled: bool) -> Figures:
    # Imported here: tools/ is importable only once main() has put the repository on sys.path.
    import json  # noqa: PLC0415

    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415
    from sfn_offline import report  # noqa: PLC0415
    from sfn_offline.chain_standin import JsonAnswers  # noqa: PLC0415
    from sfn_offline.cli import memory_of  # noqa: PLC0415
    from sfn_offline.engine import run_definition  # noqa: PLC0415
    from sfn_offline.functions import handlers_for  # noqa: PLC0415
    from sfn_offline.session import offline_environment  # noqa: PLC0415
    from sfn_offline.template import load_template  # noqa: PLC0415

    from companion.adapters.s3 import default_client  # noqa: PLC0415
    from companion.chains import execution_input, load_chain, packaged_chain  # noqa: PLC0415
    from companion.chains.compiler import CompileSettings, compile_chain, machine_input  # noqa: PLC0415
    from tools.generate_chains import logical_prefix  # noqa: PLC0415

    template = load_template(ROOT / "template.yaml")
    if path == "sample":
        chain = packaged_chain("outline-draft-critique")
        chain_input: dict[str, Any] = SAMPLE_INPUT
    else:
        chain = load_chain(_chain(path == "offload"))
        chain_input = {"n": 1, "document": "lorem ipsum " * (60 * 1024 // 12)} if path == "offload" else {"n": 1}
    if not compiled:
        definition = template.state_machines["PromptChainStateMachine"].definition
        document: Any = execution_input(chain, chain_input)
    elif path == "sample":
        definition = template.state_machines[f"{logical_prefix(chain.name)}ChainStateMachine"].definition
        document = machine_input(chain_input)
    else:
        text = json.dumps(compile_chain(chain, settings=CompileSettings(max_input_bytes=64 * 1024)))
        values = {f"{spec.logical_id}Arn": spec.arn for spec in template.functions.values()}
        values["PayloadBucketName"] = template.buckets["PayloadBucket"]
        for name, value in values.items():
            text = text.replace(f"${{{name}}}", value)
        definition = json.loads(text)
        document = machine_input(chain_input)
    recorder = report.RunRecorder()
    with offline_environment(), mock_aws():
        default_client.cache_clear()
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in template.buckets.values():
            s3.create_bucket(Bucket=bucket)
        bedrock = recorder.wrap_bedrock(JsonAnswers({"Write an outline": OUTLINE, "Critique this draft": CRITIQUE}))
        handlers = recorder.wrap_functions(handlers_for(template), memory_of(template))
        result = run_definition(definition, document, functions=handlers, bedrock=bedrock, time_scale=0, timeout=120)
        default_client.cache_clear()
    if result.status != "SUCCEEDED":
        raise SystemExit(f"the {path} chain did not succeed ({'after' if compiled else 'before'}): {result.error}")
    model_calls = len(recorder.bedrock_uses)
    summary = report.summarize(
        status=result.status,
        seconds=model_calls * MODEL_SECONDS,
        history=list(result.history),
        definition_bytes=len(json.dumps(definition)),
        recorder=recorder,
        prices=report.load_prices(),
    )
    offloaded_steps = 3 if path == "offload" else 0
    # The machine's own S3 writes (a long answer kept by reference, a failed chain's completed steps), from its history.
    machine_puts = sum(
        1
        for event in result.history
        if event.get("taskScheduledEventDetails", {}).get("resourceType") == "aws-sdk:s3"
        and event["taskScheduledEventDetails"].get("resource") == "putObject"
    )
    return Figures(
        transitions=summary.transitions.billed,
        lambda_invocations=len(summary.lambda_invocations),
        step_functions=summary.standard_cost,
        lambda_cost=summary.lambda_cost,
        s3=(offloaded_steps * (2 * S3_PUT_PER_1000 + 2 * S3_GET_PER_1000) + machine_puts * S3_PUT_PER_1000) / 1000,
        express=summary.express_cost,
        model_calls=model_calls,
    )


def _money(value: float) -> str:
    return "$" + format(value * EXECUTIONS, ".4f")


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))  # the dev-only tools/ package, as the other benchmarks do
    from sfn_offline import report  # noqa: PLC0415

    standard_per_transition = report.load_prices()["stepfunctions"]["standard_per_1000_transitions"] / 1000
    out = sys.stdout
    out.write(f"Per {EXECUTIONS:,} executions of a 3-step chain on Standard (tokens excluded; Bedrock SIMULATED)\n")
    out.write(
        f"{'path':<9}{'machine':<9}{'transitions':>12}{'Lambda calls':>14}{'Step Functions':>16}"
        f"{'Lambda':>10}{'S3':>9}{'total':>10}\n"
    )
    measured: dict[tuple[str, bool], Figures] = {}
    for path in ("sample", "inline", "offload"):
        for compiled in (False, True):
            figures = _measure(path, compiled=compiled)
            measured[path, compiled] = figures
            out.write(
                f"{path:<9}{'after' if compiled else 'before':<9}"
                f"{figures.transitions * EXECUTIONS:>12,}{figures.lambda_invocations * EXECUTIONS:>14,}"
                f"{_money(figures.step_functions):>16}{_money(figures.lambda_cost):>10}"
                f"{_money(figures.s3):>9}{_money(figures.total):>10}\n"
            )
        transitions, lambdas = HAND_WRITTEN[path]
        out.write(
            f"{path:<9}{'hand':<9}{transitions * EXECUTIONS:>12,}{lambdas * EXECUTIONS:>14,}"
            f"{_money(transitions * standard_per_transition):>16}\n"
        )
    before, after = measured["sample", False], measured["sample", True]
    batch_before = (before.transitions + BATCH_CHILD_TRANSITIONS) * standard_per_transition
    out.write(
        f"\nBatch, Step Functions per {EXECUTIONS:,} prompts of the sample chain (the Distributed Map's own "
        "transitions are per batch, not per prompt):\n"
        f"  before  {_money(batch_before)}  (a Standard chain execution per prompt: "
        f"{before.transitions + BATCH_CHILD_TRANSITIONS} transitions)\n"
        f"  after   {_money(after.express)}  (the compiled chain as an Express child: 1 request and "
        f"{after.model_calls} model calls x {MODEL_SECONDS:.0f} s assumed, at the estimated memory)\n"
    )


if __name__ == "__main__":
    main()
