"""ASL as YAML people can read: JSONata expressions in literal block scalars, keys in ASL's order.

PyYAML is a development dependency (the generator and the tests use it), never imported by the deployed layer.
"""

from __future__ import annotations

from typing import Any


def to_yaml(definition: dict[str, Any]) -> str:
    """``definition`` as YAML text; ``yaml.safe_load`` gives back an equal dict."""
    import yaml  # noqa: PLC0415  (a development dependency, not in the runtime layer)

    class Dumper(yaml.SafeDumper):
        # CloudFormation reads a DefinitionUri file with Jackson, which turns an alias into its anchor's name: every
        # repeated value (a retry policy, a catcher) is written out in full.
        def ignore_aliases(self, _data: Any) -> bool:
            return True

    def text(dumper: Any, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    Dumper.add_representer(str, text)
    dumped: str = yaml.dump(definition, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120)
    return dumped
