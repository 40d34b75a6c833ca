"""Fixtures of the unit tests that read the SAM template."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy_config import load_samconfig
from tests.template_document import load_template_document, sam_transform


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template_document()


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        return sam_transform(template)


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


@pytest.fixture(scope="session")
def samconfig() -> dict[str, Any]:
    return load_samconfig()
