"""``make demo``'s main part: the chain is started FROM the API event by the real ChainApiFunction, runs on the
packaged chain's own compiled machine in the offline stack, and the demo shows progress, the answer and the summary."""

from __future__ import annotations

import io
import json

from tools.demo import SAMPLE_JSON_ANSWERS, run_chain_from_api_event


def test_the_demo_runs_the_chain_from_the_api_event_and_prints_answer_and_summary() -> None:
    out = io.StringIO()

    status = run_chain_from_api_event(out)

    text = out.getvalue()
    assert status == 0, text
    # The API's answer to the sample event, then the states as they ran, then the result read back with GET.
    assert "POST /chains -> 202" in text
    assert text.index("-> Check Input") < text.index("-> draft") < text.index("-> Finish Chain")
    assert "GET /chains/{id} -> 200: SUCCEEDED" in text
    assert f"critique: {json.dumps(SAMPLE_JSON_ANSWERS['Critique this draft'])}" in text
    # The summary counts what ran: three Bedrock calls (one per step) and the cost estimate.
    assert "Bedrock calls      3 (SIMULATED" in text
    assert "ChainApiFunction  2 x" in text  # POST and GET
    assert "Estimated cost on AWS of one execution" in text
