"""Debian's chromium, headless, driven by playwright: for the HTML execution graph's browser test and screenshot.

playwright cannot download a browser here, so it drives the system one (``tools/ensure_chromium.sh`` installs it);
the flags keep it from reaching the network on its own (updates, sync, QUIC probes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

CHROMIUM: Final[Path] = Path("/usr/bin/chromium")
LAUNCH_ARGS: Final[tuple[str, ...]] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched playwright ``Browser`` on the system chromium; closed afterwards."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (dev-only dependency)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(LAUNCH_ARGS))
        try:
            yield browser
        finally:
            browser.close()
