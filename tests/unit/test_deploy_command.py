"""`sam deploy --config-env dev` runs from samconfig.toml alone: no prompt, every parameter as the config says.

SAM CLI runs for real with a made-up profile and its AWS endpoint pointed at a closed local port, so it gets as far
as its first AWS call (the managed artifacts bucket) and stops there; nothing can reach AWS.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy_config import samconfig_overrides

ROOT = Path(__file__).resolve().parents[2]
# The discard port: nothing listens on it, so every AWS call is refused at once.
CLOSED_ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture
def fake_profile(tmp_path: Path) -> dict[str, str]:
    """An environment whose only AWS identity is a made-up profile in temporary files, its endpoint a closed port."""
    (tmp_path / "config").write_text("[profile companion-fake]\nregion = us-east-1\n", encoding="utf-8")
    (tmp_path / "credentials").write_text(
        "[companion-fake]\naws_access_key_id = made-up-key-id\naws_secret_access_key = made-up-secret\n",
        encoding="utf-8",
    )
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "SAM_"))}
    return environment | {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PROFILE": "companion-fake",
        "AWS_ENDPOINT_URL": CLOSED_ENDPOINT,
        "AWS_MAX_ATTEMPTS": "1",
        "SAM_CLI_TELEMETRY": "0",
        "HOME": str(tmp_path),
    }


def test_dev_deploys_without_a_prompt_and_stops_only_at_aws(
    fake_profile: dict[str, str], template: dict[str, Any], samconfig: dict[str, Any]
) -> None:
    # Given SAM CLI with a made-up profile, stdin closed (a prompt would abort), and no way to reach AWS
    sam = Path(sys.executable).with_name("sam")

    # When the dev deploy runs as `make changeset ENV=dev` runs it
    finished = subprocess.run(  # noqa: S603  (a fixed command line)
        [str(sam), "deploy", "--config-env", "dev", "--no-execute-changeset", "--debug"],
        cwd=ROOT,
        env=fake_profile,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = finished.stdout + finished.stderr

    # Then it fails at its first AWS call, on the endpoint, and on nothing before it
    assert finished.returncode == 1, output
    assert f'Error: Could not connect to the endpoint URL: "{CLOSED_ENDPOINT}/"' in output
    assert "Aborted" not in output
    # And SAM read every template parameter from samconfig.toml, each with the value the config means
    converted = re.search(r"Converted (\d+) parameters: (\{.*\})$", output, re.MULTILINE)
    assert converted is not None, output
    parameters = ast.literal_eval(converted.group(2))
    assert set(parameters) == set(template["Parameters"])
    assert parameters == samconfig_overrides(samconfig["dev"]["deploy"]["parameters"])
    assert "Using config file: samconfig.toml, config environment: dev" in output
