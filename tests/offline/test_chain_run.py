"""`python -m tools.chain run` end to end, offline: every packaged chain and the YAML test chain run to SUCCEEDED with
no answers file (the SIMULATED Bedrock answers JSON steps with JSON valid for their schema); the generic prompt-chain
machine refuses an input without a plan; a scripted invalid answer still drives the re-prompt loop."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sfn_offline.cli import main as runner_main
from sfn_offline.engine import run_definition
from sfn_offline.functions import handlers_for
from sfn_offline.schema_answers import SchemaAnswers
from sfn_offline.template import Template, load_template

from companion.adapters.s3 import default_client
from companion.chains import Chain, execution_input, load_chain, packaged_chain
from tools.chain.answers import chooser_for, standin_for
from tools.chain.cli import main
from tools.chain.machine import chain_machine, substituted

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "tests" / "fixtures" / "chains"
LIBRARY = ROOT / "layers" / "runtime" / "companion" / "chains" / "library"
VARS = CHAINS / "vars.json"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


@pytest.fixture
def aws(template: Template) -> Iterator[None]:
    with mock_aws():
        default_client.cache_clear()
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in template.buckets.values():
            s3.create_bucket(Bucket=bucket)
        yield
        default_client.cache_clear()


class EntryCountingAnswers(SchemaAnswers):
    """Scripts indexed by the state's calls so far: the Retry attempt starts at 0 again on each re-prompt."""

    def invoke_model(self, model_id: str, body: Any, *, state_name: str, attempt: int) -> dict[str, Any]:
        earlier = sum(1 for call in self.calls if call.state_name == state_name)
        return super().invoke_model(model_id, body, state_name=state_name, attempt=max(attempt, earlier))


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "path", [*sorted(LIBRARY.glob("*.json")), CHAINS / "summary-review.yaml"], ids=lambda path: path.name
)
def test_every_packaged_chain_and_the_yaml_chain_run_to_succeeded_with_no_answers_file(path: Path) -> None:
    # Given a chain file and its variables, and no scripted answers
    # When it is run from the command line, as JSON
    status, out, _ = run_cli("run", str(path), "--vars", str(VARS), "--json")
    # Then it succeeds, and each JSON step's answer is JSON its own schema accepted
    document = json.loads(out)
    assert (status, document["status"]) == (0, "SUCCEEDED"), document["cause"]
    results = document["output"]["steps"]
    for step in packaged_or_fixture(path).resolved_steps():
        if step.output.format == "json":
            found = results.get(step.name) or results[_map_of(path, step.name)]["results"][0]
            assert found["json"] is not None
            assert found["json"] == json.loads(found["text"])


def test_a_run_prints_progress_the_output_and_the_summary() -> None:
    # Given the YAML test chain
    # When it is run without --json
    status, out, err = run_cli("run", str(CHAINS / "summary-review.yaml"), "--vars", str(VARS))
    # Then progress went to stderr, the output and the summary (with the simulated Bedrock said so) to stdout
    assert status == 0
    assert "-> Check Input" in err
    assert "-> summary\n" in err
    assert '"chain": "summary-review"' in out
    assert "== Summary" in out
    assert "SIMULATED" in out


def test_missing_variables_stop_a_run_before_it_starts() -> None:
    # Given a chain whose templates use input.topic and input.audience, and no --vars
    # When it is run
    status, out, err = run_cli("run", str(LIBRARY / "outline-draft-critique.json"))
    # Then every missing variable is reported at its place and nothing ran
    assert status == 1
    assert out == ""
    assert err.count("which the chain's input does not have (no --vars given)") == 5
    assert "-> Start Chain" not in err


@pytest.mark.parametrize(
    "bad_input",
    [
        {},
        {"chain": "x"},
        {"chain": "x", "plan": []},
        {"chain": "x", "plan": [{"kind": "loop", "name": "a", "steps": [1]}]},
    ],
)
def test_the_generic_machine_refuses_an_input_without_a_plan(template: Template, aws: None, bad_input: Any) -> None:
    # Given the template's generic prompt-chain machine
    machine = template.state_machines["PromptChainStateMachine"]
    # When it is started with an input that is not a chain's plan
    result = run_definition(
        machine.definition, bad_input, functions=handlers_for(template), bedrock=standin_for([]), time_scale=0
    )
    # Then it fails with a named error before any step runs, never a success
    assert (result.status, result.error) == ("FAILED", "PromptChain.InvalidInput")
    entered = [
        event["stateEnteredEventDetails"]["name"] for event in result.history if "stateEnteredEventDetails" in event
    ]
    assert entered == ["Start Chain", "Check Next Stage", "Reject Input"]


def test_a_scripted_invalid_answer_still_drives_the_reprompt_loop(template: Template, aws: None) -> None:
    # Given the README's sample chain on the generic machine, its first outline answer scripted as prose
    chain = packaged_chain("outline-draft-critique")
    standin = EntryCountingAnswers(chooser_for([chain]))
    prose = {"content": [{"type": "text", "text": "Sure! An outline follows."}], "stop_reason": "end_turn"}
    standin.script("Invoke Model", [{"Return": {**prose, "usage": {"input_tokens": 5, "output_tokens": 4}}}])
    machine = template.state_machines["PromptChainStateMachine"]
    # When it runs
    result = run_definition(
        machine.definition,
        execution_input(chain, json.loads(VARS.read_text())),
        functions=handlers_for(template),
        bedrock=standin,
        time_scale=0,
    )
    # Then the prose is rejected, the step is re-prompted, the generated JSON accepted, and the chain succeeds
    assert result.status == "SUCCEEDED", result.cause
    entered = [
        event["stateEnteredEventDetails"]["name"] for event in result.history if "stateEnteredEventDetails" in event
    ]
    assert entered.count("Add Correction Turns") == 1
    assert result.output["steps"]["outline"]["json"]["title"] == "simulated outline title"


def packaged_or_fixture(path: Path) -> Chain:
    return load_chain(path)


def _map_of(path: Path, step_name: str) -> str:
    chain = packaged_or_fixture(path)
    for stage in chain.step_order():
        if getattr(stage, "kind", "") == "map" and stage.step.name == step_name:
            return str(stage.name)
    raise AssertionError(f"{step_name} is not in the results")


def test_the_readme_sample_runs_to_succeeded_on_the_runner_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the README's sample input for the template's generic machine, and no --json-answers
    sample = ROOT / "events" / "statemachine" / "prompt_chain.json"
    # When the offline runner runs it
    status = runner_main(
        ["run", "PromptChainStateMachine", "--template", str(ROOT / "template.yaml"), "--input", str(sample), "--json"]
    )
    # Then the JSON steps got JSON valid for their schemas (pyproject.toml plugs the packaged chains in)
    document = json.loads(capsys.readouterr().out)
    assert (status, document["status"]) == (0, "SUCCEEDED"), document["cause"]
    assert document["output"]["steps"]["critique"]["json"]["score"] == 1


def test_a_chain_machine_refuses_an_input_that_is_not_an_object(template: Template, aws: None) -> None:
    # Given the machine `compile` prints for a packaged chain, with the template's values substituted
    chain = packaged_chain("map-over-items")
    definition = substituted(chain_machine(chain), template)
    # When it is started with variables that are not an object
    result = run_definition(
        definition, {"input": ["not", "an", "object"]}, functions=handlers_for(template), bedrock=standin_for([chain])
    )
    # Then it fails with the named error, before any step runs
    assert (result.status, result.error) == ("FAILED", "ChainInputError")
