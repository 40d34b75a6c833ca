"""Project plugins: named in the project's pyproject.toml or with --plugin, their hooks run; a broken one is exit 2
with one line."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from sfn_offline.cli import main

HELLO = Path(__file__).parent / "fixtures" / "hello-project"
PLUGIN_SOURCE = """
from pathlib import Path

from sfn_offline.plugin import Plugin

LOG = Path(__file__).with_name("hooks.log")


def _note(what: str) -> None:
    with LOG.open("a") as log:
        log.write(what + "\\n")


plugin = Plugin(
    name="fixture",
    before_run=lambda: _note("before"),
    after_run=lambda: _note("after"),
    token_usage=lambda answer, model_id: (7, 11),
)
not_a_plugin = 42
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, str]:
    """A copy of the hello project with a plugin module of a unique name (modules stay imported across tests)."""
    root = tmp_path / "hello-project"
    shutil.copytree(HELLO, root)
    module = f"fixture_plugin_{uuid.uuid4().hex}"
    (root / f"{module}.py").write_text(PLUGIN_SOURCE)
    return root, module


def _run(root: Path, *extra: str) -> int:
    template = str(root / "template.yaml")
    return main(
        ["run", "GreetStateMachine", "--template", template, "--input", str(root / "events" / "input.json"), *extra]
    )


def test_a_plugin_named_in_the_projects_pyproject_runs_its_hooks(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the project's pyproject.toml naming its plugin
    root, module = project
    (root / "pyproject.toml").write_text(f'[tool.sfn-offline]\nplugins = ["{module}:plugin"]\n')

    # When running a machine of the project
    code = _run(root)

    # Then the session hooks ran once each, in order, and the summary counts tokens the plugin's way
    out = capsys.readouterr().out
    assert code == 0, out
    assert (root / "hooks.log").read_text().splitlines() == ["before", "after"]
    assert "1 call(s), 7 input + 11 output tokens" in out


def test_a_plugin_given_on_the_command_line_runs_too(
    project: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, module = project

    code = _run(root, "--plugin", f"{module}:plugin")

    assert code == 0, capsys.readouterr().err
    assert (root / "hooks.log").read_text().splitlines() == ["before", "after"]


def test_without_a_plugin_tokens_come_from_the_answers_native_usage(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the hello project as it is: no pyproject.toml, no plugin
    code = _run(HELLO)

    # Then the stand-in's Claude answer's usage block is counted
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 call(s), 3 input + 6 output tokens" in out


@pytest.mark.parametrize(
    ("pyproject", "option", "message"),
    [
        (None, "no_such_module_for_sure:plugin", "plugin 'no_such_module_for_sure:plugin': importing "),
        (None, "{module}", "expected 'module:attribute'"),
        (None, "{module}:not_a_plugin", "is int, not an sfn_offline.plugin.Plugin"),
        (None, "{module}:missing", "is nothing, not an sfn_offline.plugin.Plugin"),
        ('[tool.sfn-offline]\nplugins = "{module}:plugin"\n', None, "plugins: expected a list of 'module:attribute'"),
        ("[tool.sfn-offline\n", None, "pyproject.toml: cannot be read"),
    ],
)
def test_a_broken_plugin_is_exit_2_with_one_line(
    project: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    pyproject: str | None,
    option: str | None,
    message: str,
) -> None:
    # Given a plugin that cannot be used, named in the pyproject.toml or on the command line
    root, module = project
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject.format(module=module))
    extra = ["--plugin", option.format(module=module)] if option is not None else []

    # When running
    code = _run(root, *extra)

    # Then exit 2 and one line naming the plugin or the file, never a traceback
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
