"""A plugin's consensus method in a project file and in an item's consensus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from annotary.core.consensus import AggregatorSpec, FieldSetting, field_rules
from annotary.core.consensus.aggregator import FieldUnits
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import UnitResult, Voters
from annotary.core.plugins.manager import load_plugins
from annotary.core.project import parse_project
from annotary.core.schema.fields import AnnotationSchema
from annotary.errors import Invalid, Unavailable
from annotary.hookspecs import hookimpl
from tests.core.plugins.sample import MAX_RATING, Failing, MaxRating, max_rating

PROJECT = """\
name: rated
objective: {{use_case: other}}
schema:
  fields:
    - {{name: quality, kind: rating, min: 1, max: 5}}
    - {{name: sentiment, kind: label, labels: [pos, neg]}}
guidelines: Rate it.
workflow:
  consensus:
    {field}: {{method: {method}}}
"""

SCHEMA = AnnotationSchema.model_validate(
    {
        "fields": [
            {"name": "quality", "kind": "rating", "min": 1, "max": 5},
            {"name": "fluency", "kind": "rating", "min": 1, "max": 5},
        ]
    }
)
PLUGINS = load_plugins(MaxRating(), entry_points=False)
VOTERS = Voters((1, 2, 3))


def problems(field: str, method: str, **kwargs: Any) -> list[str]:
    with pytest.raises(Invalid) as raised:
        parse_project(PROJECT.format(field=field, method=method), "rated.yaml", **kwargs)
    assert raised.value.code == "E101"
    return [f"{d.location} {d.path}: {d.reason}" for d in raised.value.details]


def test_a_project_file_names_a_plugin_method() -> None:
    text = PROJECT.format(field="quality", method=MAX_RATING)
    project = parse_project(text, "rated.yaml", plugins=PLUGINS)
    assert project.workflow.consensus["quality"].method == MAX_RATING


def test_a_method_no_plugin_registers_names_the_valid_ones() -> None:
    assert problems("quality", MAX_RATING) == [
        "rated.yaml:10 workflow.consensus.quality.method: unknown consensus method "
        "'acme.max_rating.v1' (no installed plugin registers it); valid for the rating field "
        "'quality': median"
    ]
    assert problems("quality", "trimmed_mean", plugins=PLUGINS) == [
        "rated.yaml:10 workflow.consensus.quality.method: unknown consensus method "
        "'trimmed_mean' (no installed plugin registers it); valid for the rating field "
        "'quality': median, acme.max_rating.v1"
    ]


def test_a_plugin_method_on_a_kind_it_does_not_combine() -> None:
    assert problems("sentiment", MAX_RATING, plugins=PLUGINS) == [
        "rated.yaml:10 workflow.consensus.sentiment.method: method 'acme.max_rating.v1' does "
        "not fit the label field 'sentiment'; valid: majority, weighted, dawid_skene"
    ]


def test_the_plugin_method_combines_the_field() -> None:
    rules = field_rules(SCHEMA, "majority", 0.3, {"quality": FieldSetting(MAX_RATING)}, PLUGINS)
    payloads = [
        {"quality": 3, "fluency": 3},
        {"quality": 4, "fluency": 4},
        {"quality": 5, "fluency": 4},
    ]
    result = item_consensus(SCHEMA, rules, payloads, VOTERS, plugins=PLUGINS)
    assert result.payload == {"quality": 5, "fluency": 4}
    assert result.fields["quality"].record() == {
        "method": MAX_RATING,
        "measure": "share_at_max",
        "agreement": pytest.approx(1 / 3),
        "confidence": pytest.approx(1 / 3),
        "threshold": 0.3,
    }
    assert result.fields["fluency"].method == "median"
    assert result.agreed


def test_a_stored_project_whose_plugin_is_gone() -> None:
    settings = {"quality": FieldSetting(MAX_RATING)}
    with pytest.raises(Unavailable) as raised:
        field_rules(SCHEMA, "majority", 0.66, settings, load_plugins(entry_points=False))
    assert raised.value.code == "E905"
    assert raised.value.message == (
        "field 'quality' uses the consensus method 'acme.max_rating.v1', which no installed "
        "plugin registers; installed for rating fields: median (`annotary plugins` lists them)"
    )
    rules = field_rules(SCHEMA, "majority", 0.66, settings, PLUGINS)
    with pytest.raises(Unavailable) as raised:
        item_consensus(
            SCHEMA, rules, [{"quality": 1}], VOTERS, plugins=load_plugins(entry_points=False)
        )
    assert raised.value.code == "E905"


def test_a_method_that_raises_names_its_plugin() -> None:
    plugins = load_plugins(Failing(), entry_points=False)
    rules = field_rules(
        SCHEMA, "majority", 0.66, {"fluency": FieldSetting("acme.failing.v1")}, plugins
    )
    with pytest.raises(Unavailable) as raised:
        item_consensus(SCHEMA, rules, [{"quality": 1, "fluency": 2}], VOTERS, plugins=plugins)
    assert raised.value.code == "E906"
    assert raised.value.message == (
        "consensus method 'acme.failing.v1' of plugin 'tests.core.plugins.sample.Failing' "
        "failed on field 'fluency': ZeroDivisionError: the plugin divided by zero"
    )


def returning(results: Any) -> object:
    class Sloppy:
        @hookimpl
        def register_aggregators(self) -> AggregatorSpec:
            return AggregatorSpec(
                "acme.sloppy.v1", frozenset({"rating"}), "share", lambda *_: results
            )

    return Sloppy()


@pytest.mark.parametrize(
    ("results", "why"),
    [
        (None, "returned NoneType, not a list"),
        ([], "0 results for 1 units"),
        ([3], "returned int where a UnitResult belongs"),
        ([UnitResult(3, 1.5, 1.0)], "agreement 1.5 is not from 0 to 1"),
        ([UnitResult(3, 1.0, "high")], "confidence 'high' is not from 0 to 1"),
        ([UnitResult(3, 1.0, 1.0, method="mean")], "method 'mean' is not a registered"),
    ],
)
def test_a_method_that_returns_garbage_names_its_plugin(results: Any, why: str) -> None:
    plugins = load_plugins(returning(results), entry_points=False)
    rules = field_rules(
        SCHEMA, "majority", 0.66, {"quality": FieldSetting("acme.sloppy.v1")}, plugins
    )
    with pytest.raises(Unavailable) as raised:
        item_consensus(SCHEMA, rules, [{"quality": 1, "fluency": 2}], VOTERS, plugins=plugins)
    assert raised.value.code == "E906"
    assert "of plugin 'tests.core.plugins.test_consensus_plugins.returning.<locals>.Sloppy' " in (
        raised.value.message
    )
    assert f"failed on field 'quality': {why}" in raised.value.message


class Batched:
    """A method that combines all its fields of an item in one call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def many(self, fields: Sequence[FieldUnits], voters: Voters) -> list[list[UnitResult]]:
        self.calls.append([spec.name for spec, _, _ in fields])
        return [max_rating(spec, rule, units, voters) for spec, rule, units in fields]

    @hookimpl
    def register_aggregators(self) -> AggregatorSpec:
        return AggregatorSpec(
            "acme.batched.v1",
            frozenset({"rating"}),
            "share",
            max_rating,
            per_turn=False,
            combine_many=self.many,
        )


def test_combine_many_takes_every_field_of_the_item_at_once() -> None:
    batched = Batched()
    plugins = load_plugins(batched, entry_points=False)
    both = {name: FieldSetting("acme.batched.v1") for name in ("quality", "fluency")}
    rules = field_rules(SCHEMA, "majority", 0.66, both, plugins)
    result = item_consensus(
        SCHEMA,
        rules,
        [{"quality": 2, "fluency": 5}, {"quality": 1, "fluency": 5}],
        VOTERS,
        plugins=plugins,
    )
    assert batched.calls == [["quality", "fluency"]]
    assert result.payload == {"quality": 2, "fluency": 5}


def test_a_method_without_per_turn_support_is_not_offered_for_per_turn_fields() -> None:
    plugins = load_plugins(Batched(), entry_points=False)
    text = PROJECT.format(field="quality", method="acme.batched.v1").replace(
        "{name: quality, kind: rating, min: 1, max: 5}",
        "{name: quality, kind: rating, min: 1, max: 5, per_turn: true}",
    )
    with pytest.raises(Invalid) as raised:
        parse_project(text, "rated.yaml", plugins=plugins)
    assert [d.reason for d in raised.value.details] == [
        "method 'acme.batched.v1' does not fit the rating field 'quality'; valid: median"
    ]
