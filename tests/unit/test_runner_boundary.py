"""The product does not depend on its dev tooling: nothing under layers/ or functions/ imports the offline runner."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_and_the_handlers_never_import_the_offline_runner() -> None:
    # Given every Python file that ships (the runtime layer and the handlers)
    shipped = [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    assert shipped

    # When collecting the modules they import, late imports included
    offending = []
    for path in shipped:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offending += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] == "sfn_offline"]

    # Then none is the runner
    assert offending == []
