"""Load a template's Python functions in-process and call them the way the Lambda runtime would.

Each call runs on a worker thread with the function's own environment and import roots, both per thread, so Map
iterations and Parallel branches may call different functions at the same time.

How it differs from one Lambda sandbox per function (limits worth knowing):

- Environment: ``os.environ`` is replaced once by :class:`OverlayEnviron`, a view whose reads consult the calling
  thread's overlay first (``os.environ[...]``, ``.get``, ``in``, ``os.getenv``, iteration, ``.copy()``). Writes made
  during a call stay in that call's overlay. Code that bound ``from os import environ`` before the overlay was
  installed, ``os.environb``, C extensions reading ``getenv(3)`` and subprocesses see the real process environment.
  Threads a handler starts itself do not inherit the overlay.
- Imports: the handler module is imported under a name unique to the function (``_offline_fn_<LogicalId>_<hash>``),
  so two functions may both have ``app.py``. Every other module is shared through ``sys.modules``, as in any
  Python process: the first function to import ``helpers`` (or a layer's package) decides which file it
  is. When a function's own folder has a top-level module that another function already imported from a
  *different* folder, :func:`load_function` raises :class:`~sfn_offline.template.TemplateError` instead of
  silently handing it the other function's code.
- Import order: the function's ``CodeUri`` comes first, then the host's ``sys.path``, then its layers. Lambda puts
  layers before the runtime's own packages, but a built layer holds third-party wheels built for the function's
  runtime and architecture (e.g. ``pydantic_core`` for python3.13 on arm64), which the host cannot load; the host
  environment has the same pinned versions.
- Timeouts: past ``Timeout`` the caller gets :class:`FunctionTimeoutError`; the handler's thread cannot be killed
  and is abandoned (a daemon thread), possibly still running.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import time
import types
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sfn_offline.lambda_api import FunctionTimeoutError, FunctionUnavailableError, Handler, LocalLambdaContext
from sfn_offline.template import ACCOUNT, REGION, FunctionSpec, Template, TemplateError

_PACKAGE_PREFIX: Final[str] = "_offline_fn_"


# ---------------------------------------------------------------- per-thread environment


class _Deleted:
    """Marks a variable a call deleted from its own view of the environment."""


_DELETED: Final = _Deleted()


class OverlayEnviron(MutableMapping[str, str]):
    """``os.environ`` with a per-thread overlay: reads see the thread's overlay first, then the real environment.

    Outside an overlay every operation goes to the real ``os.environ`` (so ``monkeypatch.setenv`` and
    ``os.environ[...] = ...`` at start-up behave as usual); inside one, writes and deletes stay in the overlay.
    """

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real
        self._local = threading.local()

    def _overlay(self) -> dict[str, Any] | None:
        overlay: dict[str, Any] | None = getattr(self._local, "overlay", None)
        return overlay

    @contextmanager
    def overlay(self, variables: Mapping[str, str]) -> Iterator[None]:
        """Let the current thread see ``variables`` over the real environment until the block ends."""
        previous = self._overlay()
        self._local.overlay = {**(previous or {}), **variables}
        try:
            yield
        finally:
            self._local.overlay = previous

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is _DELETED:
                raise KeyError(key)
            return str(value)
        return self.real[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            self.real[key] = value
        else:
            if not isinstance(value, str):
                raise TypeError(f"str expected, not {type(value).__name__}")
            overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            del self.real[key]
            return
        if key not in self:
            raise KeyError(key)
        overlay[key] = _DELETED

    def _keys(self) -> list[str]:
        overlay = self._overlay()
        keys = dict.fromkeys(self.real)
        if overlay is not None:
            keys.update(dict.fromkeys(overlay))
            return [key for key in keys if overlay.get(key) is not _DELETED]
        return list(keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            return overlay[key] is not _DELETED
        return key in self.real

    def copy(self) -> dict[str, str]:
        """A plain dict of what the current thread sees, like ``os.environ.copy()``."""
        return dict(self.items())

    def __repr__(self) -> str:
        return f"OverlayEnviron({self.copy()!r})"


_install_lock = threading.Lock()


def install_environ_overlay() -> OverlayEnviron:
    """Replace ``os.environ`` with an :class:`OverlayEnviron` over the real one (once; later calls return it).

    ``os.getenv`` reads the ``os`` module's global ``environ``, so it sees the overlay too.
    """
    with _install_lock:
        current = os.environ
        if isinstance(current, OverlayEnviron):
            return current
        environ = OverlayEnviron(current)
        # Rebinding (not clearing) is the point: os.getenv reads this module global.
        os.environ = environ  # type: ignore[assignment]  # noqa: B003
        return environ


# ---------------------------------------------------------------- per-thread import roots


@dataclass(frozen=True)
class _ImportRoots:
    code: tuple[str, ...]
    layers: tuple[str, ...]


class _FunctionFinder(importlib.abc.MetaPathFinder):
    """Finds top-level modules in the calling thread's function folders (``first``) or layers (not ``first``).

    One instance goes first on ``sys.meta_path`` (function code wins over everything), one last (layers fill in
    what the host cannot import). Submodules follow their package's ``__path__`` and need no help.
    """

    def __init__(self, roots: threading.local, *, first: bool) -> None:
        self._roots = roots
        self._first = first

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,  # noqa: ARG002  (MetaPathFinder protocol)
    ) -> importlib.machinery.ModuleSpec | None:
        roots: _ImportRoots | None = getattr(self._roots, "current", None)
        if roots is None or path is not None:
            return None
        search = roots.code if self._first else roots.layers
        return importlib.machinery.PathFinder.find_spec(fullname, list(search)) if search else None


_roots = threading.local()
_front_finder = _FunctionFinder(_roots, first=True)
_back_finder = _FunctionFinder(_roots, first=False)


def _install_finders() -> None:
    with _install_lock:
        if _front_finder not in sys.meta_path:
            sys.meta_path.insert(0, _front_finder)
        if _back_finder not in sys.meta_path:
            sys.meta_path.append(_back_finder)


@contextmanager
def _import_roots(roots: _ImportRoots) -> Iterator[None]:
    previous = getattr(_roots, "current", None)
    _roots.current = roots
    try:
        yield
    finally:
        _roots.current = previous


# ---------------------------------------------------------------- loading

# Which function folder each top-level module was first imported from, to detect two functions' same-named helpers.
_owners: dict[str, tuple[str, Path]] = {}
_load_lock = threading.RLock()


def _roots_of(spec: FunctionSpec) -> _ImportRoots:
    return _ImportRoots(code=(str(spec.code_uri),), layers=tuple(str(layer) for layer in spec.layers))


def _top_level_names(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    names = set()
    for entry in folder.iterdir():
        if entry.suffix == ".py":
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and not entry.name.startswith("__"):
            names.add(entry.name)
    return names


def _same_source(first: Path, second: Path, name: str) -> bool:
    """Whether module ``name`` is byte-identical in both folders (the same vendored package is no conflict)."""

    def source(folder: Path) -> bytes | None:
        for candidate in (folder / f"{name}.py", folder / name / "__init__.py"):
            if candidate.is_file():
                return candidate.read_bytes()
        return None

    return source(first) is not None and source(first) == source(second)


def _origin(module: types.ModuleType) -> Path | None:
    location = getattr(module, "__file__", None)
    if location:
        return Path(location).resolve()
    paths = list(getattr(module, "__path__", []) or [])
    return Path(paths[0]).resolve() if paths else None


def _runtime_environment(spec: FunctionSpec) -> dict[str, str]:
    """The variables Lambda (and ``sam local``) set for every function, then the function's own."""
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID": ACCOUNT,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": f"{spec.timeout:g}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "LAMBDA_TASK_ROOT": str(spec.code_uri),
        "_HANDLER": spec.handler,
        # Powertools (and other libraries) treat this as "running under sam local": no X-Ray daemon to send to.
        "AWS_SAM_LOCAL": "true",
        **spec.environment,
    }


def load_function(spec: FunctionSpec) -> Handler:
    """Import the function's handler in isolation and return a callable that runs it as Lambda would.

    Parameters
    ----------
    spec
        A function of a loaded template.

    Returns
    -------
    Handler
        ``handler(event, context=None)``: runs the function on a worker thread with its environment and a
        Lambda-like context (``context`` ``None`` builds a fresh
        :class:`~sfn_offline.lambda_api.LocalLambdaContext`; a given one is passed through). Returns the handler's
        result; the handler's own exceptions propagate unchanged.

    Raises
    ------
    TemplateError
        The runtime is not Python, the handler's module or attribute does not exist, importing it failed, or it
        would reuse a same-named module of another function.
    FunctionTimeoutError
        From the returned callable, when a call runs past the function's ``Timeout``.
    """
    where = f"{spec.logical_id} (Handler {spec.handler!r})"
    if spec.unavailable is not None:
        raise TemplateError(spec.unavailable)
    if not spec.code_uri.is_dir():
        raise TemplateError(f"{where}: CodeUri {spec.code_uri} is not a folder")
    module_path, _, attribute = spec.handler.rpartition(".")
    environ = install_environ_overlay()
    _install_finders()
    roots = _roots_of(spec)
    with _load_lock, environ.overlay(_runtime_environment(spec)), _import_roots(roots):
        module = _import_handler_module(spec, module_path, where)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise TemplateError(f"{where}: module {module_path!r} has no function {attribute!r}")
    return _Invoker(spec, function, environ, roots)


def _import_handler_module(spec: FunctionSpec, module_path: str, where: str) -> types.ModuleType:
    digest = hashlib.sha1(str(spec.code_uri).encode(), usedforsecurity=False).hexdigest()[:8]
    package_name = f"{_PACKAGE_PREFIX}{spec.logical_id}_{digest}"
    full_name = f"{package_name}.{module_path}"
    if full_name in sys.modules:  # loaded before: a warm container
        return sys.modules[full_name]
    head = module_path.split(".", maxsplit=1)[0]
    if not ((spec.code_uri / f"{head}.py").is_file() or (spec.code_uri / head).is_dir()):
        raise TemplateError(f"{where}: no module {module_path!r} in {spec.code_uri}")
    # The synthetic package whose only folder is CodeUri gives the handler module a name no other function has.
    package = types.ModuleType(package_name)
    package.__path__ = [str(spec.code_uri)]
    package.__package__ = package_name
    sys.modules.setdefault(package_name, package)

    own = _top_level_names(spec.code_uri) - {head}
    # Same-named modules another function imported from its own folder: set aside while this one imports, so a
    # re-import (a conflict) can be told apart from "not imported at all".
    clashes = {
        name: sys.modules.pop(name)
        for name in own
        if name in sys.modules
        and name in _owners
        and _owners[name][1] != spec.code_uri
        and not _same_source(_owners[name][1], spec.code_uri, name)
    }
    before = set(sys.modules)
    try:
        module = importlib.import_module(full_name)
    except ModuleNotFoundError as exc:
        _forget(set(sys.modules) - before, clashes)
        raise TemplateError(f"{where}: cannot import {module_path!r}: {exc}") from exc
    except Exception as exc:
        _forget(set(sys.modules) - before, clashes)
        raise TemplateError(f"{where}: importing {module_path!r} failed: {type(exc).__name__}: {exc}") from exc
    reimported = sorted(name for name in clashes if name in sys.modules)
    if reimported:
        _forget(set(sys.modules) - before, clashes)
        details = "; ".join(f"{name} is {_owners[name][0]}'s ({_owners[name][1]})" for name in reimported)
        raise TemplateError(
            f"{where}: its module(s) {', '.join(reimported)} would share sys.modules with another function's "
            f"module of the same name from a different folder ({details}); rename one of them"
        )
    sys.modules.update(clashes)
    for name in set(sys.modules) - before:
        origin = _origin(sys.modules[name])
        if "." not in name and origin is not None and origin.is_relative_to(spec.code_uri):
            _owners.setdefault(name, (spec.logical_id, spec.code_uri))
    return module


def _forget(imported: set[str], clashes: Mapping[str, types.ModuleType]) -> None:
    for name in imported:
        if not name.startswith(_PACKAGE_PREFIX) or "." in name:
            sys.modules.pop(name, None)
    sys.modules.update(clashes)


class _Invoker:
    """The callable :func:`load_function` returns; one per function, safe to call from many threads at once."""

    def __init__(self, spec: FunctionSpec, function: Any, environ: OverlayEnviron, roots: _ImportRoots) -> None:
        self.spec = spec
        self._function = function
        self._environ = environ
        self._roots = roots
        self._variables = _runtime_environment(spec)
        self.__name__ = spec.name
        self.__doc__ = getattr(function, "__doc__", None)

    def __repr__(self) -> str:
        return f"<offline handler {self.spec.name} ({self.spec.handler})>"

    def __call__(self, event: dict[str, Any], context: Any = None) -> Any:
        if context is None:
            context = LocalLambdaContext(
                function_name=self.spec.name, memory_limit_in_mb=self.spec.memory_mb, timeout_seconds=self.spec.timeout
            )
        elif isinstance(context, LocalLambdaContext):
            # The engine's context knows the name only: give the handler its function's real limits.
            context.memory_limit_in_mb = self.spec.memory_mb
            context.timeout_seconds = self.spec.timeout
            context._started = time.monotonic()
        outcome: dict[str, Any] = {}

        def run() -> None:
            with self._environ.overlay(self._variables), _import_roots(self._roots):
                try:
                    outcome["result"] = self._function(event, context)
                except BaseException as exc:  # noqa: BLE001  (re-raised unchanged on the calling thread)
                    outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"lambda-{self.spec.name}", daemon=True)
        worker.start()
        worker.join(self.spec.timeout)
        if worker.is_alive():
            raise FunctionTimeoutError(self.spec.name, self.spec.timeout)
        if "error" in outcome:
            error: BaseException = outcome["error"]
            raise error.with_traceback(error.__traceback__)
        return outcome.get("result")


def handlers_for(template: Template) -> dict[str, Handler]:
    """Every function of ``template``, loaded when first called; keyed by function name and by ARN (what
    ``FunctionName`` may hold).

    A function that cannot be loaded (see :func:`load_function`) raises
    :class:`~sfn_offline.lambda_api.FunctionUnavailableError` when called, never before: a template whose task
    for it is mocked, or never reached, still runs.
    """
    handlers: dict[str, Handler] = {}
    for spec in template.functions.values():
        handler = _LazyHandler(spec)
        handlers[spec.name] = handler
        handlers[spec.arn] = handler
    return handlers


class _LazyHandler:
    """A template function imported on its first call (as Lambda initialises a function on its first invocation)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.__name__ = spec.name
        self._loaded: Handler | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<offline handler {self.spec.name} ({self.spec.handler or 'not in-process'}), loaded on first call>"

    def __call__(self, event: dict[str, Any], context: Any = None) -> Any:
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = load_function(self.spec)
                except TemplateError as exc:
                    raise FunctionUnavailableError(str(exc)) from exc
        return self._loaded(event, context)
