"""What 1,000 executions of a 3-step prompt chain cost around the model: transitions, Lambda invocations, dollars.

Figures, no assertions. Run as ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/chain_cost.py``.

Each path runs once on the template's PromptChainStateMachine in the offline runner (real handlers, the SIMULATED
Bedrock stand-in, S3 emulated by moto); the transitions and Lambda invocations are counted from the execution's
history, exactly as Standard bills them, and scaled to 1,000 executions. Lambda duration is the offline wall time of
each handler (in-process, no network): on AWS the S3 calls add to it, so treat the Lambda line as a floor. S3
requests are priced from the path: an offloaded step writes its request (pre-process PUT), Bedrock reads it (GET),
Bedrock writes the answer (PUT) and Resolve Output reads it (GET). Model tokens are left out: they depend on the
model, not on this project.

- *inline*: three small steps, Body inline, answers inline (pre-process -> invokeModel -> post-process).
- *offload*: three steps whose rendered prompt exceeds the payload budget (``Input.S3Uri``) and whose answers go to S3
  (``Output.S3Uri``; pre-process -> invokeModel -> resolve -> post-process).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXECUTIONS = 1000
S3_PUT_PER_1000 = 0.005  # USD, us-east-1 S3 Standard PUT requests, as of 2026-11-25
S3_GET_PER_1000 = 0.0004  # USD, GET requests
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _chain(offload: bool) -> dict[str, Any]:
    # A 60 KiB document rendered four times: a Body above the default payload budget (224 KiB) goes to S3, while the
    # execution input (which the state holds twice) stays well under 256 KiB.
    quoted = "\n---\n".join(["{{ input.document }}"] * 4)
    prompt = f"{quoted}\n\nStep {{{{ input.n }}}}: summarize." if offload else "Step {{ input.n }}: say hi."
    step = {"model_id": CLAUDE, "prompt": prompt, "offload": {"output_to_s3": offload}}
    return {
        "name": "cost-" + ("offload" if offload else "inline"),
        "steps": [{"name": f"s{i}", **step} for i in (1, 2, 3)],
    }


def _measure(offload: bool) -> dict[str, float]:
    # Imported here: tools/ is importable only once main() has put the repository on sys.path.
    from moto import mock_aws  # noqa: PLC0415
    from sfn_offline import report  # noqa: PLC0415
    from sfn_offline.bedrock_standin import BedrockStandIn  # noqa: PLC0415
    from sfn_offline.cli import memory_of  # noqa: PLC0415
    from sfn_offline.functions import handlers_for  # noqa: PLC0415
    from sfn_offline.session import offline_environment  # noqa: PLC0415
    from sfn_offline.stack import OfflineStack  # noqa: PLC0415
    from sfn_offline.template import load_template  # noqa: PLC0415

    from companion.chains import execution_input, load_chain  # noqa: PLC0415

    template = load_template(ROOT / "template.yaml")
    chain_input = {"n": 1, "document": "lorem ipsum " * (60 * 1024 // 12)} if offload else {"n": 1}
    document = execution_input(load_chain(_chain(offload)), chain_input)
    recorder = report.RunRecorder()
    with offline_environment(), mock_aws():
        bedrock = recorder.wrap_bedrock(BedrockStandIn())
        handlers = recorder.wrap_functions(handlers_for(template), memory_of(template))
        with OfflineStack(template, functions=handlers, bedrock=bedrock) as stack:
            result = stack.run("PromptChainStateMachine", document, timeout=120)
    if result.status != "SUCCEEDED":
        raise SystemExit(f"the {'offload' if offload else 'inline'} chain did not succeed: {result.error}")
    machine = template.state_machines["PromptChainStateMachine"]
    summary = report.summarize(
        status=result.status,
        seconds=0.0,
        history=list(result.history),
        definition_bytes=len(str(machine.definition)),
        recorder=recorder,
        prices=report.load_prices(),
    )
    offloaded_steps = 3 if offload else 0
    s3 = offloaded_steps * (2 * S3_PUT_PER_1000 + 2 * S3_GET_PER_1000) / 1000
    return {
        "transitions": summary.transitions.billed,
        "lambda_invocations": len(summary.lambda_invocations),
        "step_functions": summary.standard_cost,
        "lambda": summary.lambda_cost,
        "s3": s3,
    }


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))  # the dev-only tools/ package, as the other benchmarks do
    sys.stdout.write(f"Per {EXECUTIONS:,} executions of a 3-step chain on the Standard machine (tokens excluded)\n")
    header = f"{'path':<9}{'transitions':>13}{'Lambda calls':>14}{'Step Functions':>16}{'Lambda':>10}{'S3':>9}"
    sys.stdout.write(f"{header}{'total':>10}\n")
    for offload in (False, True):
        figures = _measure(offload)
        total = figures["step_functions"] + figures["lambda"] + figures["s3"]
        sys.stdout.write(
            f"{'offload' if offload else 'inline':<9}"
            f"{figures['transitions'] * EXECUTIONS:>13,.0f}{figures['lambda_invocations'] * EXECUTIONS:>14,.0f}"
            f"{'$' + format(figures['step_functions'] * EXECUTIONS, '.4f'):>16}"
            f"{'$' + format(figures['lambda'] * EXECUTIONS, '.4f'):>10}"
            f"{'$' + format(figures['s3'] * EXECUTIONS, '.4f'):>9}"
            f"{'$' + format(total * EXECUTIONS, '.4f'):>10}\n"
        )


if __name__ == "__main__":
    main()
