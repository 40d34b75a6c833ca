"""What a project plugs into the offline runner, named in its ``pyproject.toml`` (the runner imports no product code).

::

    [tool.offline-runner]
    schema-chooser = "package.module:function"

``schema-chooser``: a function of no arguments returning a
:data:`~sfn_offline.schema_answers.SchemaChooser`; with it, the SIMULATED Bedrock answers the requests it
recognises with JSON valid for the schema it names (steps that must answer JSON), instead of placeholder prose.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from typing import Any


class PluginError(Exception):
    """A plugin named in ``pyproject.toml`` cannot be loaded: ``<file>: <key>: <what>``."""


def schema_chooser(folder: Path) -> Any:
    """The project's schema chooser, from the ``pyproject.toml`` in ``folder`` (None when it names none)."""
    config = folder / "pyproject.toml"
    try:
        settings = tomllib.loads(config.read_text(encoding="utf-8")).get("tool", {}).get("offline-runner", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    target = settings.get("schema-chooser")
    if target is None:
        return None
    module_name, _, attribute = str(target).partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PluginError(f"{config}: tool.offline-runner.schema-chooser: cannot load {target!r}: {exc}") from exc
    return factory()
