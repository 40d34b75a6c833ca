"""The `run` command: a template's state machine, a bare definition, a mock-config test case, the --json contract."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from sfn_offline.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TEMPLATE = str(FIXTURES / "template.yaml")
QUESTION = str(FIXTURES / "question.json")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket tries to reach (none should be, offline)."""
    attempted: list[Any] = []

    def record(self: socket.socket, address: Any) -> None:
        attempted.append(address)
        raise RuntimeError(f"network access in an offline run: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", record)
    return attempted


def test_run_by_logical_id_prints_progress_output_and_summary(
    capsys: pytest.CaptureFixture[str], connections: list[Any]
) -> None:
    # Given the fixture's state machine: a Bedrock task (stand-in) then the fixture's TidyAnswerFunction
    # When it runs by logical id
    code = main(["run", "AnswerQuestionStateMachine", "--template", TEMPLATE, "--input", QUESTION])

    # Then it succeeds, offline, with live progress on stderr
    captured = capsys.readouterr()
    assert code == 0
    assert connections == []
    assert "-> Ask Model" in captured.err
    assert "<- Postprocess Result (" in captured.err
    # and the output first, then the summary, on stdout
    output, summary = captured.out.split("== Summary\n")
    assert json.loads(output)["text"].startswith("Simulated answer")
    assert "status             SUCCEEDED" in summary
    assert "state transitions  2 (2 states entered, 0 retries)" in summary
    assert "Lambda invocations 1" in summary, summary
    assert "TidyAnswerFunction  1 x 512 MB" in summary
    assert "anthropic.claude-3-haiku-20240307-v1:0  1 call(s), 18 input + 13 output tokens, $" in summary
    assert "Standard" in summary
    assert "Express" in summary
    assert "  Total " in summary


def test_json_prints_exactly_one_object_with_the_four_keys(capsys: pytest.CaptureFixture[str]) -> None:
    # Given --json
    code = main(["run", "AnswerQuestionStateMachine", "--template", TEMPLATE, "--input", QUESTION, "--json"])

    # Then stdout holds one JSON object and nothing else (handler logs and metrics stay off stdout)
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)
    assert out.strip().count("\n") == 0
    assert set(document) == {"status", "output", "error", "cause"}
    assert document["status"] == "SUCCEEDED"
    assert document["error"] is None


def test_json_with_trace_adds_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "AnswerQuestionStateMachine", "--template", TEMPLATE, "--input", QUESTION, "--json", "--trace"])

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(document) == {"status", "output", "error", "cause", "trace"}
    assert [entry["stateName"] for entry in document["trace"]] == ["Ask Model", "Postprocess Result"]


def test_mock_config_throw_then_return_is_retried(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a test case whose Lambda state throws TooManyRequests once, then returns
    code = main(
        [
            "run",
            "AnswerQuestionStateMachine",
            "--template",
            TEMPLATE,
            "--input",
            QUESTION,
            "--mock-config",
            str(FIXTURES / "mock_config.json"),
            "--test-case",
            "LambdaThrottledOnce",
        ]
    )

    # Then the state's Retry absorbs the error: the mocked Return is the output and the retry is billed
    captured = capsys.readouterr()
    assert code == 0
    assert "!! Postprocess Result: task failed: Lambda.TooManyRequestsException: Rate exceeded" in captured.err
    assert "retry attempt 1 of Postprocess Result" in captured.err
    output = json.loads(captured.out.split("== Summary\n")[0])
    assert output == {"text": "mocked answer", "stop_reason": "end_turn"}
    assert "state transitions  3 (2 states entered, 1 retries)" in captured.out


def test_bare_definition_with_substitutions_and_a_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a YAML definition with ${...} placeholders and a handler file for its Lambda task
    execution_input = tmp_path / "input.json"
    execution_input.write_text('{"text": "hi"}')

    code = main(
        [
            "run",
            "--definition",
            str(FIXTURES / "shout.asl.yaml"),
            "--input",
            str(execution_input),
            "--substitution",
            "FunctionName=Shout",
            "--substitution",
            "Suffix=!",
            "--function",
            f"Shout={FIXTURES / 'shout.py'}:handler",
            "--json",
        ]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out)["output"] == {"shouted": "HI!"}


def test_failed_execution_exits_1_with_error_and_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = tmp_path / "fail.asl.json"
    definition.write_text(
        json.dumps({"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Nope", "Cause": "c"}}})
    )

    code = main(["run", "--definition", str(definition), "--json"])

    assert code == 1
    assert json.loads(capsys.readouterr().out) == {"status": "FAILED", "output": None, "error": "Nope", "cause": "c"}


@pytest.mark.parametrize(
    ("event_file", "event_name", "asked"),
    [
        ("api_event.json", "Ask", "Where does an API request body go?"),
        ("schedule_event.json", "Nightly", "Which prompts ran overnight?"),
    ],
)
def test_an_event_starts_the_machine_with_the_input_its_source_maps_it_to(
    capsys: pytest.CaptureFixture[str], event_file: str, event_name: str, asked: str
) -> None:
    # Given a trigger event of one of the machine's event sources
    event = str(FIXTURES / event_file)
    # When the machine runs from it
    code = main(
        [
            "run",
            "AnswerQuestionStateMachine",
            "--template",
            TEMPLATE,
            "--event",
            event,
            "--event-name",
            event_name,
            "--json",
        ]
    )
    # Then the execution input is what that source passes: the API body, or the schedule's fixed Input
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["status"] == "SUCCEEDED"
    assert " ".join(asked.split()[:4]) in result["output"]["text"]


def test_an_event_for_a_machine_with_several_sources_needs_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["run", "AnswerQuestionStateMachine", "--template", TEMPLATE, "--event", str(FIXTURES / "api_event.json")]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert "Ask" in error
    assert "Nightly" in error


def test_the_run_command_registers_every_template_machine_for_nested_executions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a template whose batch machine starts its other machine per item (.sync:2), and the run command
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"names": ["ada", "alan"]}))
    nested = Path(__file__).parent / "fixtures" / "nested" / "template.yaml"

    code = main(["run", "BatchStateMachine", "--template", str(nested), "--input", str(names), "--json"])

    # Then the child machine was found under its template ARN and ran once per name
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    assert document["output"] == [{"greeting": "hello ada"}, {"greeting": "hello alan"}]
