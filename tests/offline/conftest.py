"""Fixtures for running the project's machines offline: a Bedrock backend that records what reached it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sfn_offline.cli import main
from sfn_offline.testing import ScriptedBedrock


@pytest.fixture
def bedrock() -> ScriptedBedrock:
    return ScriptedBedrock()


# --- execution graphs (test_graph.py, test_html_report_browser.py) ---

PICTURES = Path(__file__).parent / "fixtures" / "pictures"


@dataclass(frozen=True)
class PicturesRun:
    """One run of the pictures fixture's ReviewStateMachine with ``--report``: its exit status and the files."""

    status: int
    mermaid: Path
    html: Path


@pytest.fixture(scope="session")
def pictures_run(tmp_path_factory: pytest.TempPathFactory) -> PicturesRun:
    """The review of three answers (one rejected and caught), then a nested execution: drawn once per session."""
    folder = tmp_path_factory.mktemp("pictures")
    status = main(
        [
            "run",
            "ReviewStateMachine",
            "--template",
            str(PICTURES / "template.yaml"),
            "--input",
            str(PICTURES / "answers.json"),
            "--report",
            str(folder),
        ]
    )
    return PicturesRun(status, folder / "graph.mmd", folder / "graph.html")
