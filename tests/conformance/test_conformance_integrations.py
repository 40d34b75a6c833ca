"""Integrations beyond moto's, answered consistently with the rest of the emulated account (all Bedrock answers are
SIMULATED by the stand-in), or by the mock config a user would write, or refused naming the state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conformance.paths import SAMPLES

CliRun = Callable[..., tuple[int, str, str]]
SUMMARIZE = SAMPLES / "summarize"
RUN = (
    "run",
    "SummarizeStateMachine",
    "--template",
    SUMMARIZE / "template.yaml",
    "--input",
    SUMMARIZE / "input.json",
)


def test_the_sample_runs_with_only_its_webhook_mocked(cli: CliRun) -> None:
    """A function calling bedrock-runtime (InvokeModel, Converse) through boto3, a knowledge base queried with
    aws-sdk:bedrockagentruntime:retrieveAndGenerate, an ingestion job through aws-sdk:bedrockagent, and an HTTP Task
    answered by the mock config: the execution succeeds with each answer in its API's response shape."""
    # Given the summarize sample and the mock config answering its webhook
    status, out, err = cli(
        *RUN, "--mock-config", SUMMARIZE / "mock-config.json", "--test-case", "WebhookAccepts", "--json"
    )
    # Then every state answered
    document = json.loads(out)
    assert status == 0, out + err
    output = document["output"]
    assert output["summary"]["summary"].startswith("Simulated answer")
    assert output["summary"]["title"].startswith("Simulated answer")
    assert output["kb"]["answer"].startswith("[SIMULATED answer")
    assert output["ingestion"] == {"status": "COMPLETE"}
    assert output["webhook"] == {"status": 202}


def test_an_http_task_without_a_mocked_response_names_the_state(cli: CliRun) -> None:
    """The HTTP Task calls a public endpoint; the runner never does: the execution fails naming the state and how to
    answer it, never a hang or a traceback."""
    # Given the same sample without the mock config
    status, out, err = cli(*RUN, "--json")
    # Then it fails at the webhook state
    document = json.loads(out)
    assert (status, document["error"]) == (1, "States.Runtime")
    assert "state 'Notify Webhook': http:invoke" in document["cause"]
    assert "--mock-config" in document["cause"]
    assert "Traceback" not in err


def test_an_unsupported_agent_action_is_a_named_error(tmp_path: Path, cli: CliRun) -> None:
    """An Agents action the stand-in does not answer fails with a Bedrock validation error naming it (catchable, as
    a service error is), and the mock config can answer it instead."""
    # Given a definition calling bedrockagent:getAgent
    definition = tmp_path / "agent.asl.json"
    definition.write_text(
        json.dumps(
            {
                "StartAt": "Get Agent",
                "States": {
                    "Get Agent": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::aws-sdk:bedrockagent:getAgent",
                        "Parameters": {"AgentId": "A1"},
                        "End": True,
                    }
                },
            }
        )
    )
    # When it runs
    status, out, _ = cli("run", "--definition", definition, "--json")
    # Then the error names the action
    document = json.loads(out)
    assert (status, document["error"]) == (1, "Bedrock.ValidationException")
    assert "'GetAgent'" in document["cause"]
