"""Regenerate docs/execution-graph.png, the README's picture of the offline runner's HTML execution graph.

Runs the README's three-step prompt chain offline on its own compiled machine (Bedrock SIMULATED, the JSON steps
answered with JSON valid for their schemas), writes its HTML graph, opens it in headless chromium, clicks a step and
saves the screenshot.

    uv run python -m tools.execution_graph_screenshot      (or: make screenshot)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from tools.headless_chromium import chromium

ROOT: Final[Path] = Path(__file__).resolve().parents[1]
OUTPUT: Final[Path] = ROOT / "docs" / "execution-graph.png"
RUN: Final[tuple[str, ...]] = (
    "run",
    "OutlineDraftCritiqueChainStateMachine",
    "--input",
    "events/statemachine/outline_draft_critique.json",
)
CLICKED_STATE: Final[str] = "outline"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "graph.html"
        subprocess.run(  # noqa: S603  (fixed arguments, this interpreter)
            [sys.executable, "-m", "sfn_offline", *RUN, "--html", str(page_file)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_file.as_uri())
            page.click(f'g.state[data-state="{CLICKED_STATE}"]')
            OUTPUT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT))
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
