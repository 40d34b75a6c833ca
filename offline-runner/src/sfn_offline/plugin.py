"""How a project teaches the runner what it knows about itself, without the runner importing the project.

The runner works for any SAM project with no plugin at all. A project adds knowledge through a :class:`Plugin`, an
object of optional hooks, named as ``"module:attribute"``:

- in the project's ``pyproject.toml`` (the one beside the template, or in the working directory for ``--definition``)::

      [tool.sfn-offline]
      plugins = ["tools.offline_plugin:plugin"]

- or on the command line: ``sfn-offline run ... --plugin tools.offline_plugin:plugin`` (repeatable).

The project directory is put on ``sys.path`` first, so a plugin module of the project imports like any of its
modules. A plugin should import its project's own packages lazily, inside the hooks: its ``import_paths`` hook is
what makes them importable.

Hooks (every one optional):

``import_paths(project_dir) -> paths``
    Folders to put on ``sys.path`` before any handler or hook runs (a layer's source folder, say).
``before_run()`` / ``after_run()``
    Called when an offline session opens (after the emulated stores exist) and when it closes: the place to forget
    AWS clients the project caches across invocations, which would otherwise outlive the emulation they were built
    under.
``token_usage(answer, model_id) -> (input_tokens, output_tokens) | None``
    How many tokens a Bedrock answer used, for the run summary, read the way the project reads it; ``None`` lets
    the runner's own reading (``sfn_offline.bedrock_models.token_usage``) decide.
``bedrock(backend) -> backend``
    Wraps or replaces the SIMULATED Bedrock (scripted answers for the project's prompts, for instance).
``json_schema_for(state_name, body) -> (label, schema) | None``
    The JSON Schema a request's answer must satisfy (a step that answers JSON; ``label`` names the step in messages),
    or None: the SIMULATED Bedrock then answers it with deterministic JSON valid for that schema instead of
    placeholder prose.
``fine_tuning_costs() -> pricer``
    What a run's model-customization jobs and Provisioned Throughput cost, for the summary: an object with
    ``training_tokens(chunks, *, base_model_id, customization_type, hyperparameters)``,
    ``load_fine_tuning_prices(section)``, ``estimate_fine_tuning_cost(table, *, base_model_id, training_tokens,
    hyperparameters, model_units)`` (an estimate with a ``total``) and ``render_estimate(estimate)`` (lines). Without
    one, the summary names the jobs but prices no training.

A plugin that cannot be imported or is not a :class:`Plugin` is an input error: ``sfn-offline`` exits 2 with one
line naming it.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PluginError(Exception):
    """A plugin that cannot be loaded, or a ``[tool.sfn-offline]`` table that cannot be read."""


@dataclass(frozen=True)
class Plugin:
    """A project's optional hooks (see the module docstring)."""

    name: str
    import_paths: Callable[[Path], Iterable[Path | str]] | None = None
    before_run: Callable[[], None] | None = None
    after_run: Callable[[], None] | None = None
    token_usage: Callable[[Any, str], tuple[int | None, int | None] | None] | None = None
    bedrock: Callable[[Any], Any] | None = None
    json_schema_for: Callable[[str, Any], Any] | None = None
    fine_tuning_costs: Callable[[], Any] | None = None


@dataclass(frozen=True)
class Plugins:
    """The plugins of one run, applied in order."""

    plugins: tuple[Plugin, ...] = ()

    def before_run(self) -> None:
        for plugin in self.plugins:
            if plugin.before_run is not None:
                plugin.before_run()

    def after_run(self) -> None:
        for plugin in reversed(self.plugins):
            if plugin.after_run is not None:
                plugin.after_run()

    def token_usage(self, answer: Any, model_id: str) -> tuple[int | None, int | None]:
        for plugin in self.plugins:
            if plugin.token_usage is not None:
                found = plugin.token_usage(answer, model_id)
                if found is not None:
                    return found
        from sfn_offline.bedrock_models import token_usage  # noqa: PLC0415

        return token_usage(answer)

    def bedrock(self, backend: Any) -> Any:
        for plugin in self.plugins:
            if plugin.bedrock is not None:
                backend = plugin.bedrock(backend)
        return backend

    def json_schema_for(self, state_name: str, body: Any) -> Any:
        """The first ``(label, schema)`` a plugin names for this request, or None."""
        for plugin in self.plugins:
            if plugin.json_schema_for is not None:
                schema = plugin.json_schema_for(state_name, body)
                if schema is not None:
                    return schema
        return None

    def fine_tuning_costs(self) -> Any:
        """The first plugin's fine-tuning pricer, or None."""
        for plugin in self.plugins:
            if plugin.fine_tuning_costs is not None:
                return plugin.fine_tuning_costs()
        return None


NO_PLUGINS = Plugins()
_loaded: dict[tuple[str, str], Plugins] = {}


def project_plugins(project_dir: Path, extra: Sequence[str] = ()) -> Plugins:
    """The plugins ``project_dir/pyproject.toml`` names under ``[tool.sfn-offline]``, then ``extra``, loaded once
    per project and list (their ``import_paths`` applied).

    Raises
    ------
    PluginError
        The table cannot be read, or a plugin cannot be imported or is not a ``Plugin``.
    """
    project_dir = project_dir.resolve()
    specs = [*_configured(project_dir), *extra]
    key = (str(project_dir), "\n".join(specs))
    if key not in _loaded:
        _loaded[key] = Plugins(tuple(_load(spec, project_dir) for spec in specs))
    return _loaded[key]


def _configured(project_dir: Path) -> list[str]:
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.is_file():
        return []
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PluginError(f"{pyproject}: cannot be read: {exc}") from exc
    table = document.get("tool", {}).get("sfn-offline", {})
    plugins = table.get("plugins", []) if isinstance(table, dict) else None
    if not isinstance(plugins, list) or not all(isinstance(item, str) for item in plugins):
        raise PluginError(f"{pyproject}: [tool.sfn-offline] plugins: expected a list of 'module:attribute' strings")
    return plugins


def _load(spec: str, project_dir: Path) -> Plugin:
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise PluginError(f"plugin {spec!r}: expected 'module:attribute'")
    _add_path(project_dir)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(f"plugin {spec!r}: importing {module_name} failed: {type(exc).__name__}: {exc}") from exc
    plugin = getattr(module, attribute, None)
    if not isinstance(plugin, Plugin):
        found = "nothing" if plugin is None else type(plugin).__name__
        raise PluginError(f"plugin {spec!r}: {module_name}.{attribute} is {found}, not an sfn_offline.plugin.Plugin")
    if plugin.import_paths is not None:
        try:
            paths = list(plugin.import_paths(project_dir))
        except Exception as exc:
            raise PluginError(f"plugin {spec!r}: import_paths failed: {type(exc).__name__}: {exc}") from exc
        for path in paths:
            _add_path(Path(path))
    return plugin


def _add_path(folder: Path) -> None:
    text = str(folder.resolve())
    if folder.is_dir() and text not in sys.path:
        sys.path.append(text)


__all__ = ["NO_PLUGINS", "Plugin", "PluginError", "Plugins", "project_plugins"]
