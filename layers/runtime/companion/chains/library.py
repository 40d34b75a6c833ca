"""The chains packaged with the layer (``library/*.json``), found by name, and what a request names as its chain."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from companion.chains.load import load_chain
from companion.chains.model import Chain
from companion.errors import UnknownChainError

CHAIN_LIBRARY = Path(__file__).resolve().parent / "library"
_PACKAGED_NAME = re.compile(r"[a-z0-9-]{1,64}")


@cache
def packaged_chain(name: str) -> Chain:
    """A chain shipped in ``companion/chains/library/`` by name.

    Raises
    ------
    UnknownChainError
        No packaged chain has this name.
    """
    path = CHAIN_LIBRARY / f"{name}.json"
    if not _PACKAGED_NAME.fullmatch(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in CHAIN_LIBRARY.glob("*.json")))
        raise UnknownChainError(f"no chain named {name!r} (packaged chains: {known})")
    return load_chain(path)


def resolve_chain(reference: str | Mapping[str, Any]) -> Chain:
    """What a request names as its chain: a packaged chain's name, or a chain definition given inline.

    Raises
    ------
    UnknownChainError
        No packaged chain has this name.
    ChainDefinitionError
        The inline definition is invalid (every problem with its location).
    """
    return packaged_chain(reference) if isinstance(reference, str) else load_chain(reference)
