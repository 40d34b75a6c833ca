"""The package stands alone: it imports only itself, the standard library and its declared dependencies, and its
modules import each other without a circle (late imports included)."""

from __future__ import annotations

import ast
import graphlib
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sfn_offline"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# Import names of the declared dependencies and of what they bring with them (moto's extras, boto3's parts).
DEPENDENCY_MODULES = frozenset(
    {"moto", "boto3", "botocore", "jsonata", "yaml", "jsonpath_ng", "rich", "fastjsonschema"}
    | {"samcli", "samtranslator", "werkzeug"}
)


# boto3's stub packages: only the type checker reads them, so a module may import them under ``if TYPE_CHECKING:``.
STUB_PREFIX = "mypy_boto3_"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (late imports inside functions too), but for boto3's
    stubs imported under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name for name in names if not (id(node) in type_checking_only and name.startswith(STUB_PREFIX)))
    return found


def _modules() -> dict[str, set[str]]:
    return {f"sfn_offline.{path.stem}": _imports(path) for path in PACKAGE.glob("*.py")}


def test_the_package_imports_only_itself_the_standard_library_and_its_dependencies() -> None:
    # Given every module of the package
    # When collecting the top-level names they import
    foreign = {
        f"{module} imports {name}"
        for module, names in _modules().items()
        for name in names
        if (top := name.split(".")[0]) != "sfn_offline"
        and top not in sys.stdlib_module_names
        and top not in DEPENDENCY_MODULES
    }

    # Then none is a project's package (companion, tools, ...)
    assert foreign == set()


def test_the_dependency_list_names_what_the_package_imports() -> None:
    # Given the declared dependencies
    declared = " ".join(tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]).lower()

    # Then each directly imported third-party distribution is declared
    for distribution in ("moto", "boto3", "jsonata-python", "pyyaml", "aws-sam-cli", "aws-sam-translator", "werkzeug"):
        assert distribution in declared


def test_no_two_modules_import_each_other_even_late() -> None:
    # Given the package's internal import graph (late imports count: they hid a circle before)
    modules = _modules()
    graph = {
        module: {name for name in names if name in modules and name != module} for module, names in modules.items()
    }

    # When ordering it so that every module comes after the ones it imports
    # Then that is possible: there is no cycle
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
