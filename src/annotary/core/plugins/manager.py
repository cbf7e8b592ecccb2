"""The plugin manager: built-ins first, then installed plugins, then explicit ones.

`load_plugins()` builds a fresh pluggy manager and returns what its plugins
registered (`registry.Plugins`); nothing is loaded at import time. Tests and
programs that embed annotary pass their own plugins, or leave out the
installed ones (`entry_points=False`), and hand the result to what needs it
(`Database(engine, plugins=...)`, `parse_project(..., plugins=...)`). Where
nothing is handed over, `default_plugins()` is used: built once per process,
on first use, with the built-ins and every installed plugin.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Final

import pluggy

from annotary import hookspecs
from annotary.core.plugins.registry import PluginInfo, Plugins, collect
from annotary.errors import E_PLUGIN_LOAD, Unavailable

ENTRY_POINT_GROUP: Final = hookspecs.PROJECT_NAME
"""Installed packages name their plugin module under this entry-point group."""

BUILTIN_PLUGINS: Final = {"annotary.consensus": "annotary.core.consensus.plugin"}
"""The built-in plugins (name: module), registered before any other, in this order."""

BUILT_IN, ENTRY_POINT, REGISTERED = "built-in", "entry point", "registered"


def load_plugins(*plugins: object, entry_points: bool = True) -> Plugins:
    """The built-in plugins, then (unless `entry_points` is False) every plugin
    installed under the entry-point group `annotary`, then `plugins` in order."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    loaded = [
        _register(manager, importlib.import_module(module), PluginInfo(name, BUILT_IN))
        for name, module in BUILTIN_PLUGINS.items()
    ]
    if entry_points:
        for entry in installed_entry_points():
            dist = entry.dist
            info = PluginInfo(
                entry.name,
                ENTRY_POINT,
                dist.name if dist is not None else None,
                dist.version if dist is not None else None,
            )
            loaded.append(_register(manager, _load(entry, info), info))
    for plugin in plugins:
        loaded.append(_register(manager, plugin, PluginInfo(plugin_name(plugin), REGISTERED)))
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise Unavailable(
            E_PLUGIN_LOAD,
            f"plugin {manager.get_name(exc.plugin)!r}: {exc}; the hooks are: "
            f"{', '.join(hookspecs.HOOKS)}",
        ) from exc
    return collect(manager, loaded)


@functools.cache
def default_plugins() -> Plugins:
    """The built-ins and every installed plugin, loaded on first use and kept."""
    return load_plugins()


def installed_entry_points() -> list[EntryPoint]:
    """The entry points of the group `annotary`, by name; one name, one plugin."""
    unique: dict[str, EntryPoint] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        seen = unique.setdefault(entry.name, entry)
        if seen.value != entry.value:
            raise Unavailable(
                E_PLUGIN_LOAD,
                f"two installed packages name the plugin {entry.name!r}: {_origin(seen)} and "
                f"{_origin(entry)}; uninstall one",
            )
    return list(unique.values())


def plugin_name(plugin: object) -> str:
    """The name an explicitly given plugin is registered under: a module's name,
    else the dotted name of its class."""
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def _load(entry: EntryPoint, info: PluginInfo) -> object:
    try:
        return entry.load()
    except Exception as exc:
        raise Unavailable(
            E_PLUGIN_LOAD,
            f"plugin {info.name!r} ({_origin(entry)}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"[:500],
        ) from exc


def _register(manager: pluggy.PluginManager, plugin: object, info: PluginInfo) -> PluginInfo:
    try:
        manager.register(plugin, name=info.name)
    except (ValueError, pluggy.PluginValidationError) as exc:
        raise Unavailable(
            E_PLUGIN_LOAD, f"plugin {info.name!r} cannot be registered: {exc}"[:500]
        ) from exc
    return info


def _origin(entry: EntryPoint) -> str:
    dist = entry.dist
    package = f"{dist.name} {dist.version}" if dist is not None else "an unknown package"
    return f"{entry.value!r} from {package}"
