"""Write the state machines' retry policies out from their one home, :mod:`companion.retry_policies`.

A Task names its policy in a comment on its ``Retry`` key, ``Retry: # bedrock_transient (companion.retry_policies)``,
and
this tool writes that policy below the key, replacing what was there. YAML anchors and aliases would keep one copy
inside a file, but CloudFormation parses a ``DefinitionUri`` YAML file with Jackson, which reads an alias as its
anchor's name (``"Retry": "bedrock_transient"``): the deployed definition has to spell every copy out.

Usage: ``python -m tools.asl_retries [--check] [FILE ...]`` (default: every ``statemachines/*.asl.yaml``). With
``--check`` nothing is written and the exit status is 1 when a file is stale.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
STATE_MACHINES = ROOT / "statemachines"
HOME_NAME = "companion.retry_policies"

MARKER = re.compile(rf"^(?P<indent> *)Retry: # (?P<name>[a-z0-9_]+) \({re.escape(HOME_NAME)}\)$")
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


class RetryPolicyError(Exception):
    """A policy file or a marker this tool cannot use; the message names the file and line."""


def load_policies() -> dict[str, list[dict[str, Any]]]:
    """The named policies, from their home in the layer."""
    from companion.retry_policies import RETRY_POLICIES  # noqa: PLC0415  (layers/runtime is on the path at run time)

    return {name: [dict(retrier) for retrier in retriers] for name, retriers in RETRY_POLICIES.items()}


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise RetryPolicyError(f"unexpected retrier value {value!r}")
    if isinstance(value, str):
        return value if _PLAIN.match(value) else f'"{value}"'
    return repr(value)


def policy_lines(retriers: list[dict[str, Any]], indent: str) -> list[str]:
    """The policy as block YAML at ``indent`` (the Retry key's indent plus two)."""
    lines: list[str] = []
    for retrier in retriers:
        lead = "- "
        for key, value in retrier.items():
            if isinstance(value, list):
                lines.append(f"{indent}{lead}{key}:")
                lines.extend(f"{indent}    - {_scalar(item)}" for item in value)
            else:
                lines.append(f"{indent}{lead}{key}: {_scalar(value)}")
            lead = "  "
    return lines


def render(text: str, policies: dict[str, list[dict[str, Any]]], where: str) -> str:
    """The definition's text with every marked ``Retry`` block replaced by its named policy.

    Raises
    ------
    RetryPolicyError
        A marker names no known policy.
    """
    lines = text.split("\n")
    result: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        result.append(line)
        index += 1
        marker = MARKER.match(line)
        if marker is None:
            continue
        indent, name = marker["indent"], marker["name"]
        if name not in policies:
            raise RetryPolicyError(f"{where}: line {index}: no retry policy {name!r} in {HOME_NAME}")
        # The old block: every following line indented deeper than the key.
        while index < len(lines) and lines[index].startswith(indent + " "):
            index += 1
        result.extend(policy_lines(policies[name], indent + "  "))
    return "\n".join(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.asl_retries", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    parser.add_argument("files", nargs="*", type=Path, help="default: statemachines/*.asl.yaml")
    args = parser.parse_args(argv)
    try:
        policies = load_policies()
        stale: list[Path] = []
        for path in args.files or sorted(STATE_MACHINES.glob("*.asl.yaml")):
            text = path.read_text(encoding="utf-8")
            rendered = render(text, policies, str(path))
            if rendered != text:
                stale.append(path)
                if not args.check:
                    path.write_text(rendered, encoding="utf-8")
    except (OSError, yaml.YAMLError, RetryPolicyError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    for path in stale:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{'stale' if args.check else 'rewrote'}: {shown}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
