"""Tests against a deployed stack: real credentials and network, skipped unless COMPANION_STACK_NAME is set."""

from __future__ import annotations

import os
from typing import Any

import pytest

STACK = os.environ.get("COMPANION_STACK_NAME")


@pytest.fixture(autouse=True)
def offline_environment() -> None:
    """Overrides the unit tier's fake credentials: these tests use the caller's real ones."""


@pytest.fixture(autouse=True)
def no_network() -> None:
    """Overrides the unit tier's socket guard: these tests call AWS."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if STACK:
        return
    skip = pytest.mark.skip(reason="no deployed stack: set COMPANION_STACK_NAME (and AWS credentials) to run")
    for item in items:
        if "deployed" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack_outputs() -> dict[str, str]:
    import boto3

    stack: Any = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
