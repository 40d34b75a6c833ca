"""The conformance tier: one case per behaviour AWS documents, the expected result taken from AWS's documentation.

Each test's docstring quotes the documentation statement it checks (briefly) and names the page. The cases run
whole executions on the offline runner; they never look at how the runner gets there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sfn_offline.cli import main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the runner's command line in-process: (exit status, stdout, stderr)."""

    def run(*argv: Any) -> tuple[int, str, str]:
        status = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run
