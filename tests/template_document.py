"""Reading the SAM template as the IAM and template tests need it: raw (short-form tags expanded) and transformed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from samtranslator.translator.transform import transform  # type: ignore[import-untyped]
from sfn_offline.template import load_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINES = ROOT / "statemachines"


class _NoManagedPolicies:
    """Offline stand-in for SAM's managed-policy loader: the template uses no SAM policy names."""

    def load(self) -> dict[str, str]:
        return {}


def load_template_document() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(TEMPLATE.read_text(encoding="utf-8"))
    return loaded


def definition_path(name: str) -> Path:
    """The file of a state machine definition: ``fine_tuning`` is ``statemachines/fine_tuning.asl.yaml``."""
    return STATE_MACHINES / f"{name}.asl.yaml"


def load_definition(name: str) -> dict[str, Any]:
    """A state machine definition as written (placeholders kept), aliases resolved as the offline runner does."""
    loaded: dict[str, Any] = yaml.safe_load(definition_path(name).read_text(encoding="utf-8"))
    return loaded


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform (aws-sam-translator, offline), where the generated roles live.

    The translator wants S3 locations for code and definitions; `sam validate` swaps local paths the same way.
    Needs ``AWS_DEFAULT_REGION`` in the environment.
    """
    fragment = copy.deepcopy(template)
    for resource in fragment["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in properties:
                properties[key] = "s3://placeholder-bucket/placeholder.zip"
    result: dict[str, Any] = transform(fragment, {}, _NoManagedPolicies())
    return result


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def arn_text(resource: Any) -> str:
    """Render a policy Resource as text: ``!Sub`` strings as written, literal strings as they are."""
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        return str(resource["Fn::Sub"])
    if isinstance(resource, str):
        return resource
    return json.dumps(resource, sort_keys=True)


def branches(statement: Any) -> list[dict[str, Any]]:
    """A statement, or both branches of a ``!If`` one (``AWS::NoValue`` left out): either may be deployed."""
    if isinstance(statement, dict) and "Fn::If" in statement:
        return [s for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"} for s in branches(branch)]
    return [statement]


def role_statements(transformed: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    """Every statement of a role's inline policies, conditional ones in both forms."""
    role = transformed["Resources"][role_name]["Properties"]
    return [
        branch
        for policy in role.get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
        for branch in branches(statement)
    ]
