"""docs/library.md, the library's public API, names only what exists: every module and name it lists imports."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "library.md"
MODULE_HEADING = re.compile(r"^## `(companion(?:\.\w+)*)`$")
NAME_ROW = re.compile(r"^\| `(\w+)` \|")


def _listed() -> list[tuple[str, str]]:
    listed: list[tuple[str, str]] = []
    module = None
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if heading := MODULE_HEADING.match(line):
            module = heading.group(1)
        elif (row := NAME_ROW.match(line)) and module is not None:
            listed.append((module, row.group(1)))
    return listed


def test_the_page_lists_the_core_of_the_api() -> None:
    # Given the page's module headings and name rows; Then it lists at least the codec, chains and errors
    listed = set(_listed())
    assert {("companion.codec", "encode"), ("companion.codec", "decode"), ("companion.chains", "load_chain")} <= listed
    assert ("companion.errors", "CompanionError") in listed


@pytest.mark.parametrize(("module", "name"), _listed())
def test_every_listed_name_is_importable_and_public(module: str, name: str) -> None:
    # When the listed name is imported from its module
    imported = importlib.import_module(module)
    # Then it exists, and where the module declares its exports, it is one of them
    assert hasattr(imported, name), f"{module}.{name}"
    exported = getattr(imported, "__all__", None)
    assert exported is None or name in exported, f"{module}.{name} is not in {module}.__all__"


def test_the_wheel_is_versioned_apart_from_the_application() -> None:
    # Given the library's packaging and the application's project
    library = tomllib.loads((ROOT / "packages" / "companion-lib" / "pyproject.toml").read_text(encoding="utf-8"))
    # Then the wheel has its own name and a version, and packages the layer's folder as `companion`
    assert library["project"]["name"] == "sfn-bedrock-companion-lib"
    assert re.fullmatch(r"\d+\.\d+\.\d+", library["project"]["version"])
    include = library["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["../../layers/runtime/companion"] == "companion"
