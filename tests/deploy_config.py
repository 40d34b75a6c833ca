"""samconfig.toml as SAM CLI reads it: the environments and their parameter overrides."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

SAMCONFIG = Path(__file__).resolve().parents[1] / "samconfig.toml"


def load_samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))


def samconfig_overrides(deploy_parameters: dict[str, Any]) -> dict[str, str]:
    """``parameter_overrides`` (a list of ``Key=Value``, values quoted where they hold spaces) as SAM unquotes them."""
    entries = deploy_parameters["parameter_overrides"]
    pairs = entries if isinstance(entries, list) else shlex.split(entries)
    unquoted = ("".join(shlex.split(pair)) for pair in pairs)
    return dict(pair.split("=", 1) for pair in unquoted)
