"""What the plugins registered: each component type by name, checked, with its plugin.

`collect` calls every plugin's hooks one by one, so that a hook that raises
(E902), returns something other than descriptors, or a descriptor that breaks
the rules of `checks` (E903), or a name two plugins register (E904) is an
error that names the plugin, not a traceback from deep inside pluggy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

import pluggy

from annotary.core.anonymize.recognizer import RecognizerSpec
from annotary.core.consensus.aggregator import AggregatorSpec
from annotary.core.export.exporter import ExporterSpec
from annotary.core.prelabel.prelabeler import PrelabelerSpec
from annotary.errors import (
    E_PLUGIN_DESCRIPTOR,
    E_PLUGIN_HOOK_FAILED,
    E_PLUGIN_LOAD,
    E_PLUGIN_NAME_TAKEN,
    FieldError,
    Unavailable,
)


class Descriptor(Protocol):
    """What every component descriptor has."""

    @property
    def name(self) -> str: ...

    def problems(self) -> list[str]: ...


D = TypeVar("D", bound=Descriptor)

DESCRIPTORS: dict[str, tuple[type[Any], str]] = {
    "register_aggregators": (AggregatorSpec, "consensus method"),
    "register_prelabelers": (PrelabelerSpec, "pre-labeler"),
    "register_exporters": (ExporterSpec, "export format"),
    "register_pii_recognizers": (RecognizerSpec, "PII recognizer"),
}
"""Per hook: the descriptor type it returns and what to call one in messages."""


@dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: its name, where it came from (`built-in`, `entry point`
    or `registered` explicitly), its distribution and version, and its hooks."""

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()


class Components(Generic[D]):
    """The registered components of one type, by name, in registration order."""

    def __init__(self, entries: Iterable[tuple[D, str]] = ()) -> None:
        self._specs: dict[str, D] = {}
        self._plugins: dict[str, str] = {}
        for spec, plugin in entries:
            self._specs[spec.name] = spec
            self._plugins[spec.name] = plugin

    def __getitem__(self, name: str) -> D:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[D]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> tuple[str, ...]:
        """Every name, in registration order."""
        return tuple(self._specs)

    def plugin_of(self, name: str) -> str:
        """The name of the plugin that registered `name`."""
        return self._plugins[name]


@dataclass(frozen=True)
class Plugins:
    """The loaded plugins and every component they registered."""

    loaded: tuple[PluginInfo, ...]
    aggregators: Components[AggregatorSpec]
    prelabelers: Components[PrelabelerSpec]
    exporters: Components[ExporterSpec]
    recognizers: Components[RecognizerSpec]

    def listing(self) -> dict[str, list[dict[str, Any]]]:
        """The plugins and components as plain data (`annotary plugins --json`)."""
        a, p, e, r = self.aggregators, self.prelabelers, self.exporters, self.recognizers
        return {
            "plugins": [
                {
                    "name": i.name,
                    "source": i.source,
                    "distribution": i.distribution,
                    "version": i.version,
                    "hooks": list(i.hooks),
                }
                for i in self.loaded
            ],
            "aggregators": [
                {
                    "name": s.name,
                    "kinds": sorted(s.kinds),
                    "measure": s.measure,
                    "per_turn": s.per_turn,
                    "uses": sorted(s.uses),
                    "plugin": a.plugin_of(s.name),
                    "description": s.description,
                }
                for s in a
            ],
            "prelabelers": [
                {
                    "name": s.name,
                    "kinds": sorted(s.kinds),
                    "item_kinds": sorted(s.item_kinds),
                    "trainable": s.trainable,
                    "plugin": p.plugin_of(s.name),
                    "description": s.description,
                }
                for s in p
            ],
            "exporters": [
                {
                    "name": s.name,
                    "item_kinds": sorted(s.item_kinds),
                    "plugin": e.plugin_of(s.name),
                    "description": s.description,
                }
                for s in e
            ],
            "pii_recognizers": [
                {
                    "name": s.name,
                    "entities": sorted(s.entities),
                    "languages": sorted(s.languages),
                    "plugin": r.plugin_of(s.name),
                    "description": s.description,
                }
                for s in r
            ],
        }


def collect(manager: pluggy.PluginManager, loaded: Sequence[PluginInfo]) -> Plugins:
    """Call every plugin's hooks, in the order the plugins were registered, and
    check what they return."""
    found: dict[str, list[tuple[Any, str]]] = {}
    hooks: dict[str, list[str]] = {info.name: [] for info in loaded}
    for hook, (kind, what) in DESCRIPTORS.items():
        impls = {impl.plugin_name: impl for impl in getattr(manager.hook, hook).get_hookimpls()}
        entries: list[tuple[Any, str]] = []
        taken: dict[str, str] = {}
        for info in loaded:
            impl = impls.get(info.name)
            if impl is None:
                continue
            hooks[info.name].append(hook)
            for spec in _descriptors(info.name, hook, impl, kind, what):
                if spec.name in taken:
                    raise Unavailable(
                        E_PLUGIN_NAME_TAKEN,
                        f"plugin {info.name!r} registers the {what} {spec.name!r}, which plugin "
                        f"{taken[spec.name]!r} registers already; a name belongs to one plugin "
                        "(uninstall one, or give the new one its own versioned name)",
                    )
                taken[spec.name] = info.name
                entries.append((spec, info.name))
        found[hook] = entries
    return Plugins(
        loaded=tuple(replace(info, hooks=tuple(hooks[info.name])) for info in loaded),
        aggregators=Components(found["register_aggregators"]),
        prelabelers=Components(found["register_prelabelers"]),
        exporters=Components(found["register_exporters"]),
        recognizers=Components(found["register_pii_recognizers"]),
    )


def _descriptors(plugin: str, hook: str, impl: Any, kind: type[Any], what: str) -> list[Any]:
    """What one plugin's hook returned, as checked descriptors."""
    if impl.hookwrapper or impl.wrapper:
        raise Unavailable(
            E_PLUGIN_LOAD, f"plugin {plugin!r}: {hook} returns descriptors; it cannot be a wrapper"
        )
    try:
        returned = impl.function()
        items = [returned] if isinstance(returned, kind) else returned
        if items is None:
            return []
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise _garbage(plugin, hook, kind, f"returned {_shown(items)}")
        items = list(items)
    except Unavailable:
        raise
    except Exception as exc:
        raise Unavailable(
            E_PLUGIN_HOOK_FAILED,
            f"plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}"[:500],
        ) from exc
    for index, item in enumerate(items):
        if not isinstance(item, kind):
            raise _garbage(plugin, hook, kind, f"returned {_shown(item)} at position {index}")
        problems = item.problems()
        if problems:
            raise Unavailable(
                E_PLUGIN_DESCRIPTOR,
                f"plugin {plugin!r} registers an invalid {what} {_shown(item.name)}",
                [FieldError(f"{hook}[{index}]", reason) for reason in problems],
            )
    return items


def _garbage(plugin: str, hook: str, kind: type[Any], what: str) -> Unavailable:
    return Unavailable(
        E_PLUGIN_DESCRIPTOR,
        f"plugin {plugin!r}: {hook} {what}; it must return {kind.__name__} descriptors "
        f"(a list, or one)",
    )


def _shown(value: Any) -> str:
    """A short description of a value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} {text[:50]}..."
