"""Bad usage and bad input: one `error: <file>: <place>: <what>` line on stderr, exit status 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfn_offline.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TEMPLATE = str(FIXTURES / "template.yaml")
MACHINE = "AnswerQuestionStateMachine"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines
    assert all(line.startswith("error: ") for line in lines)
    return captured.err


def test_missing_input_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", MACHINE, "--template", TEMPLATE, "--input", "nowhere.json"]) == 2
    assert "error: nowhere.json: cannot read the input: No such file or directory" in _error(capsys)


def test_input_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"question": }')
    assert main(["run", MACHINE, "--template", TEMPLATE, "--input", str(bad)]) == 2
    assert f"error: {bad}: line 1 column 14: the input is not valid JSON: Expecting value" in _error(capsys)


def test_missing_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", MACHINE, "--template", "missing.yaml"]) == 2
    assert "error: missing.yaml: cannot read the template" in _error(capsys)


def test_unknown_state_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "NoSuchStateMachine", "--template", TEMPLATE]) == 2
    message = _error(capsys)
    assert "no state machine 'NoSuchStateMachine'" in message
    assert "AnswerQuestionStateMachine" in message


def test_template_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources: [not, a, map]\n")
    assert main(["run", MACHINE, "--template", str(template)]) == 2
    assert "Resources: a template needs a Resources map" in _error(capsys)


def test_definition_error_names_the_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = tmp_path / "broken.asl.json"
    definition.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}')
    assert main(["run", "--definition", str(definition)]) == 2
    message = _error(capsys)
    assert f"error: {definition}" in message
    assert "Nowhere" in message


def test_unsubstituted_placeholder_is_a_definition_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--definition", str(FIXTURES / "shout.asl.yaml"), "--substitution", "Suffix=!"]) == 2
    assert "FunctionName" in _error(capsys)


def test_bad_substitution(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--definition", str(FIXTURES / "shout.asl.yaml"), "--substitution", "NoEquals"]) == 2
    assert "error: --substitution: 'NoEquals': expected KEY=VALUE" in _error(capsys)


def test_bad_mock_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mock.json"
    config.write_text('{"StateMachines": {}, "Extra": 1}')
    args = ["run", MACHINE, "--template", TEMPLATE, "--mock-config", str(config), "--test-case", "Any"]
    assert main(args) == 2
    assert f"error: {config}: unknown top-level key(s) Extra" in _error(capsys)


def test_unknown_test_case(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(FIXTURES / "mock_config.json")
    assert main(["run", MACHINE, "--template", TEMPLATE, "--mock-config", config, "--test-case", "Nope"]) == 2
    assert "has no test case 'Nope' (defined: LambdaThrottledOnce)" in _error(capsys)


def test_bad_function_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--definition", str(FIXTURES / "echo.asl.json"), "--function", "Shout"]) == 2
    assert "error: --function: 'Shout': expected NAME=path/to/module.py:handler" in _error(capsys)


def test_neither_logical_id_nor_definition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "give a state machine LOGICAL_ID or --definition FILE" in _error(capsys)


def test_argparse_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", MACHINE, "--input", "a.json", "--event", "b.json"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_non_loopback_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api", "--template", TEMPLATE, "--host", "0.0.0.0"]) == 2  # noqa: S104  (the refused address)
    assert "error: --host 0.0.0.0: only loopback addresses are served" in _error(capsys)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0
    assert "--mock-config" in capsys.readouterr().out


def test_a_template_whose_yaml_definition_is_broken_names_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a template whose DefinitionUri is a YAML file with an unclosed flow sequence on line 4
    (tmp_path / "broken.asl.yaml").write_text(
        "StartAt: A\nStates:\n  A:\n    Retry: [{ErrorEquals: [States.ALL]}\n    Type: Pass\n    End: true\n"
    )
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  BrokenStateMachine:\n    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n      DefinitionUri: broken.asl.yaml\n"
    )

    # When running its machine
    status = main(["run", "BrokenStateMachine", "--template", str(template)])

    # Then exit status 2 and one line naming the file and where YAML found the problem
    assert status == 2
    [line] = _error(capsys).strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'broken.asl.yaml'}: line ")
    assert "not YAML: " in line
