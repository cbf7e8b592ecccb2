"""The plugin manager: built-ins through the hooks, entry points, explicit plugins,
and an error naming the plugin for everything a plugin can get wrong."""

from __future__ import annotations

from typing import Any

import pytest

from annotary.core.consensus import KIND_METHODS, AggregatorSpec
from annotary.core.consensus import methods as builtin
from annotary.core.consensus import plugin as builtin_plugin
from annotary.core.plugins.manager import BUILTIN_PLUGINS, default_plugins, load_plugins
from annotary.errors import Unavailable
from annotary.hookspecs import hookimpl
from tests.core.plugins.conftest import Installer
from tests.core.plugins.sample import (
    COMPONENTS_PACKAGE,
    MAX_RATING,
    MAX_RATING_PACKAGE,
    Components,
    MaxRating,
    max_rating,
)


def failure(*plugins: object, entry_points: bool = False) -> Unavailable:
    with pytest.raises(Unavailable) as raised:
        load_plugins(*plugins, entry_points=entry_points)
    return raised.value


def test_the_built_in_methods_register_through_the_aggregator_hook() -> None:
    plugins = load_plugins(entry_points=False)
    assert [(p.name, p.source, p.hooks) for p in plugins.loaded] == [
        ("annotary.consensus", "built-in", ("register_aggregators",))
    ]
    assert {"annotary.consensus": builtin_plugin.__name__} == BUILTIN_PLUGINS
    assert plugins.aggregators.names() == tuple(a.name for a in builtin.BUILTIN_AGGREGATORS)
    by_kind = {
        kind: tuple(a.name for a in plugins.aggregators if kind in a.kinds) for kind in KIND_METHODS
    }
    assert by_kind == KIND_METHODS
    assert {plugins.aggregators.plugin_of(name) for name in plugins.aggregators.names()} == {
        "annotary.consensus"
    }
    assert [len(plugins.prelabelers), len(plugins.exporters), len(plugins.recognizers)] == [0, 0, 0]


def test_a_plugin_object_adds_its_methods_after_the_built_ins() -> None:
    plugins = load_plugins(MaxRating(), entry_points=False)
    assert plugins.aggregators.names()[-1] == MAX_RATING
    assert plugins.aggregators.plugin_of(MAX_RATING) == "tests.core.plugins.sample.MaxRating"
    assert plugins.loaded[-1].source == "registered"
    listed = plugins.listing()["aggregators"][-1]
    assert listed == {
        "name": MAX_RATING,
        "kinds": ["rating"],
        "measure": "share_at_max",
        "per_turn": True,
        "uses": [],
        "plugin": "tests.core.plugins.sample.MaxRating",
        "description": "the highest rating given",
    }


def test_an_installed_package_is_found_through_its_entry_point(installed: Installer) -> None:
    installed("acme_max", MAX_RATING_PACKAGE, None)
    installed("acme_parts", COMPONENTS_PACKAGE, "acme_parts:plugin")
    plugins = load_plugins()
    found = {p.name: p for p in plugins.loaded}
    assert found["acme_max"].source == "entry point"
    assert (found["acme_max"].distribution, found["acme_max"].version) == ("acme-max", "1.0")
    assert found["acme_parts"].hooks == (
        "register_prelabelers",
        "register_exporters",
        "register_pii_recognizers",
    )
    assert plugins.aggregators.plugin_of(MAX_RATING) == "acme_max"
    assert plugins.prelabelers.names() == ("acme.keyword.v1",)
    assert plugins.exporters.names() == ("acme.labels.v1",)
    assert plugins.recognizers.names() == ("acme.email.v1",)
    assert MAX_RATING not in load_plugins(entry_points=False).aggregators


def test_the_default_plugins_are_built_once() -> None:
    assert default_plugins() is default_plugins()
    assert default_plugins().aggregators.names()[: len(builtin.BUILTIN_AGGREGATORS)] == tuple(
        a.name for a in builtin.BUILTIN_AGGREGATORS
    )


def test_an_entry_point_that_cannot_be_imported(installed: Installer) -> None:
    installed("acme_broken", "import acme_does_not_exist\n", None)
    error = failure(entry_points=True)
    assert error.code == "E901"
    assert "plugin 'acme_broken'" in error.message
    assert "acme-broken 1.0" in error.message
    assert "ModuleNotFoundError" in error.message


def test_a_hook_that_raises_names_the_plugin() -> None:
    class Raising:
        @hookimpl
        def register_aggregators(self) -> list[AggregatorSpec]:
            raise RuntimeError("config file missing")

    error = failure(Raising())
    assert error.code == "E902"
    assert error.message == (
        "plugin 'tests.core.plugins.test_registry.test_a_hook_that_raises_names_the_plugin."
        "<locals>.Raising' failed in register_aggregators: RuntimeError: config file missing"
    )


def returning(value: Any) -> object:
    class Garbage:
        @hookimpl
        def register_aggregators(self) -> Any:
            return value

    return Garbage()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("median", "returned 'median'"),
        (42, "returned 42"),
        ([max_rating], "returned <function max_rating"),
        ({"name": "x"}, "returned 'name' at position 0"),
    ],
)
def test_a_hook_that_returns_garbage_names_the_plugin(value: Any, said: str) -> None:
    error = failure(returning(value))
    assert error.code == "E903"
    assert "Garbage' : register_aggregators" not in error.message
    assert "<locals>.Garbage': register_aggregators " + said in error.message
    assert "it must return AggregatorSpec descriptors" in error.message


def test_a_hook_that_returns_nothing_adds_nothing() -> None:
    assert load_plugins(returning(None), entry_points=False).aggregators.names() == tuple(
        a.name for a in builtin.BUILTIN_AGGREGATORS
    )


def test_an_invalid_descriptor_lists_every_problem() -> None:
    bad = AggregatorSpec("trimmed", "rating", 1.5, "not a function")  # type: ignore[arg-type]
    error = failure(returning([bad]))
    assert error.code == "E903"
    assert "registers an invalid consensus method 'trimmed'" in error.message
    assert [(d.path, d.reason) for d in error.details] == [
        (
            "register_aggregators[0]",
            "name 'trimmed' is not a versioned name like 'acme.trimmed_mean.v1'",
        ),
        (
            "register_aggregators[0]",
            "kinds must be a set of strings like {'label'}, not a single string",
        ),
        ("register_aggregators[0]", "measure must be a non-empty string, not 1.5"),
        ("register_aggregators[0]", "combine must be callable, not str"),
    ]
    unknown_kind = AggregatorSpec("acme.x.v1", frozenset({"ratings"}), "share", max_rating)
    assert failure(returning(unknown_kind)).details[0].reason == (
        "kinds: 'ratings' is not known; valid: label, labels, spans, rating, ranking, "
        "preference, text"
    )


def test_a_name_taken_by_another_plugin() -> None:
    clash = AggregatorSpec("median", frozenset({"rating"}), "share", max_rating)
    error = failure(returning(clash))
    assert error.code == "E904"
    assert "registers the consensus method 'median', which plugin 'annotary.consensus' " in (
        error.message
    )
    same = load_plugins(MaxRating(), entry_points=False).aggregators[MAX_RATING]
    twice = failure(MaxRating(), returning(same))
    assert twice.code == "E904"
    assert "plugin 'tests.core.plugins.sample.MaxRating' registers already" in twice.message


def test_a_misspelt_hook_or_wrong_arguments() -> None:
    class Misspelt:
        @hookimpl
        def register_aggregator(self) -> list[AggregatorSpec]:
            return []

    error = failure(Misspelt())
    assert error.code == "E901"
    assert "unknown hook 'register_aggregator'" in error.message
    assert "the hooks are: register_aggregators, register_prelabelers" in error.message

    class Arguments:
        @hookimpl
        def register_aggregators(self, schema: object) -> list[AggregatorSpec]:
            return []

    error = failure(Arguments())
    assert error.code == "E901"
    assert "cannot be registered" in error.message and "schema" in error.message


def test_the_same_plugin_twice() -> None:
    plugin = MaxRating()
    error = failure(plugin, plugin)
    assert error.code == "E901"
    assert "plugin 'tests.core.plugins.sample.MaxRating' cannot be registered" in error.message


def test_every_component_type_is_listed() -> None:
    listing = load_plugins(Components(), entry_points=False).listing()
    assert listing["plugins"][-1]["hooks"] == [
        "register_prelabelers",
        "register_exporters",
        "register_pii_recognizers",
    ]
    assert [r["name"] for r in listing["prelabelers"]] == ["acme.keyword.v1"]
    assert listing["exporters"] == [
        {
            "name": "acme.labels.v1",
            "item_kinds": ["text"],
            "plugin": "tests.core.plugins.sample.Components",
            "description": "",
        }
    ]
    assert listing["pii_recognizers"][0]["entities"] == ["EMAIL_ADDRESS"]


def test_every_hook_is_specified_and_collected() -> None:
    from annotary import hookspecs
    from annotary.core.plugins.registry import DESCRIPTORS

    specified = [n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "annotary_spec")]
    assert sorted(specified) == sorted(hookspecs.HOOKS) == sorted(DESCRIPTORS)
