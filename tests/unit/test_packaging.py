"""The layer's requirements and the project's locked dependencies must not drift apart."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layer_requirements_pin_the_same_versions_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "layers/runtime/requirements.txt").read_text().splitlines()
    layer = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(layer) == sorted(project)
    assert all("==" in requirement for requirement in layer)


def test_the_layer_source_has_no_python_folder() -> None:
    # SAM's BuildMethod adds python/; a source python/ folder would end up as python/python/ and not import.
    assert not (ROOT / "layers/runtime/python").exists()
