"""The system registry: every plugin of the entry-point group ``talkqa.systems``, by slug.

    [project.entry-points."talkqa.systems"]
    exact = "talkqa.systems.exact:plugin"

An entry point names a :class:`~talkqa.systems.base.SystemPlugin` instance (or a class or factory
taking no arguments). A (system, entity) that no plugin serves is served by the generic system
(:mod:`talkqa.systems.generic`), built from the documents of the run. ``register`` adds a plugin
at run time (tests, embedding code); it wins over an entry point of the same slug.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Any

from talkqa.systems.base import SystemPlugin

GROUP = "talkqa.systems"

_lock = threading.Lock()
_loaded: dict[str, SystemPlugin] | None = None
_extra: dict[str, SystemPlugin] = {}
_errors: list[str] = []


class PluginError(RuntimeError):
    """An entry point of ``talkqa.systems`` could not be loaded (the message names it)."""


def _instance(obj: Any, name: str) -> SystemPlugin:
    plugin = obj() if isinstance(obj, type) or (callable(obj) and not isinstance(obj, SystemPlugin)) else obj
    if not isinstance(plugin, SystemPlugin):
        raise PluginError(f"entry point {GROUP}:{name} is not a SystemPlugin ({type(plugin).__name__})")
    if not plugin.slug:
        raise PluginError(f"entry point {GROUP}:{name} has no slug")
    return plugin


def _load() -> dict[str, SystemPlugin]:
    global _loaded
    with _lock:
        if _loaded is None:
            found: dict[str, SystemPlugin] = {}
            for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
                try:
                    plugin = _instance(ep.load(), ep.name)
                except PluginError as exc:
                    _errors.append(str(exc))
                    continue
                except Exception as exc:  # a broken third-party plugin must not break every run
                    _errors.append(f"entry point {GROUP}:{ep.name} failed to load: {type(exc).__name__}: {exc}")
                    continue
                found[plugin.slug] = plugin
            _loaded = found
        return _loaded


def plugins() -> dict[str, SystemPlugin]:
    """Every registered plugin by slug (entry points, then :func:`register`)."""
    return {**_load(), **_extra}


def plugin(slug: str) -> SystemPlugin | None:
    return plugins().get(slug.strip().lower())


def register(plugin: SystemPlugin) -> SystemPlugin:
    """Add (or replace) a plugin for this process."""
    _extra[plugin.slug] = plugin
    return plugin


def unregister(slug: str) -> None:
    _extra.pop(slug, None)


def load_errors() -> list[str]:
    """Entry points that failed to load (reported once per run, not per test)."""
    _load()
    return list(_errors)
