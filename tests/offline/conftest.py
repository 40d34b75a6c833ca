"""Fixtures for running the project's machines offline: a Bedrock backend that records what reached it."""

from __future__ import annotations

import pytest
from sfn_offline.testing import ScriptedBedrock


@pytest.fixture
def bedrock() -> ScriptedBedrock:
    return ScriptedBedrock()
