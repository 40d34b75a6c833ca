"""What the runner's command line answers for input AWS would refuse before any execution starts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

CliRun = Callable[..., tuple[int, str, str]]


def test_a_definition_the_parser_rejects_is_bad_input_with_one_line(tmp_path: Path, cli: CliRun) -> None:
    """CreateStateMachine: "InvalidDefinition: The provided Amazon States Language definition is invalid"
    (API reference, CreateStateMachine errors); the runner's README: bad input exits 2 with one line."""
    # Given a Wait whose Seconds is text, which only the ASL grammar catches
    definition = tmp_path / "wait.asl.json"
    definition.write_text('{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": "ten", "End": true}}}')
    # When it is run
    status, out, err = cli("run", "--definition", definition)
    # Then the status is 2, one error line names the file, and nothing else is printed
    assert status == 2
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(f"error: {definition}: InvalidDefinition: ")
    assert out == ""


def test_a_rejected_definition_under_json_prints_one_object(tmp_path: Path, cli: CliRun) -> None:
    """CreateStateMachine answers InvalidDefinition; with --json the runner prints exactly one JSON object."""
    # Given the same definition, run with --json
    definition = tmp_path / "wait.asl.json"
    definition.write_text('{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": "ten", "End": true}}}')
    # When it is run
    status, out, err = cli("run", "--definition", definition, "--json")
    # Then stdout is one object with AWS's error code, stderr one line
    assert status == 2
    [line] = out.strip().splitlines()
    document = json.loads(line)
    assert (document["status"], document["output"], document["error"]) == ("REJECTED", None, "InvalidDefinition")
    assert "Seconds" in document["cause"]
    assert len(err.strip().splitlines()) == 1


def test_a_rejected_template_machine_names_its_definition_file(tmp_path: Path, cli: CliRun) -> None:
    """InvalidDefinition for a template's machine: the line names the machine's definition file."""
    # Given a template whose machine's definition the grammar rejects
    (tmp_path / "wait.asl.json").write_text(
        '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": "ten", "End": true}}}'
    )
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  WaitMachine:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionUri: wait.asl.json\n"
    )
    # When it is run with --json
    status, out, err = cli("run", "WaitMachine", "--template", tmp_path / "template.yaml", "--json")
    # Then it is bad input naming the definition file
    assert status == 2
    assert "wait.asl.json: InvalidDefinition: " in err
    assert json.loads(out)["error"] == "InvalidDefinition"
