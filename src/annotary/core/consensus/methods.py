"""The built-in consensus methods: the nine SPEC 6 names, as aggregator descriptors.

They reach the registry like any plugin's: `core.consensus.plugin` returns
them from its `register_aggregators` hook, and the plugin manager registers
that plugin before any third-party one, so a kind's first method here is its
default. The functions that combine import their NumPy-backed modules when
first called: reading a project file needs only the names, kinds and measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from annotary.core.consensus.aggregator import DAWID_SKENE_FITS, GOLD_WEIGHTS, AggregatorSpec
from annotary.core.consensus.outcome import UnitResult, Voters
from annotary.core.schema.fields import (
    FIELD_KINDS,
    AnyField,
    LabelField,
    LabelsField,
    PreferenceField,
    RankingField,
    RatingField,
    SpansField,
)

if TYPE_CHECKING:
    from annotary.core.consensus.aggregator import FieldUnits
    from annotary.core.consensus.settings import FieldRule

CHOICE_KINDS: Final = frozenset({"label", "labels", "preference"})


def _vote(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """label, labels, preference: the vote `rule.method` names (`core.consensus.choices`)."""
    from annotary.core.consensus import choices  # NumPy: imported when first used

    if isinstance(spec, LabelField):
        return [choices.label_consensus(spec, rule.method, unit, voters) for unit in units]
    if isinstance(spec, LabelsField):
        return [choices.labels_consensus(spec, rule.method, unit, voters) for unit in units]
    if isinstance(spec, PreferenceField):
        return [choices.preference_consensus(spec, rule.method, unit, voters) for unit in units]
    raise TypeError(f"{rule.method} does not combine {spec.kind} fields")


def _token_vote(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """spans: the character-level vote (`core.consensus.spans`)."""
    from annotary.core.consensus.spans import spans_consensus

    if not isinstance(spec, SpansField):
        raise TypeError(f"token_vote does not combine {spec.kind} fields")
    return spans_consensus(spec, units)


def _median(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """rating: the lower median within a tolerance (`core.consensus.ratings`)."""
    return _medians([(spec, rule, units)], voters)[0]


def _medians(fields: Sequence[FieldUnits], voters: Voters) -> list[list[UnitResult]]:
    """Every rating field of an item with one median fit."""
    from annotary.core.consensus.ratings import ratings_consensus_many

    rated = []
    for spec, rule, units in fields:
        if not isinstance(spec, RatingField):
            raise TypeError(f"median does not combine {spec.kind} fields")
        rated.append((spec, rule.tolerance, units))
    return ratings_consensus_many(rated)


def _ranking(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """ranking: Borda count or Bradley-Terry (`core.consensus.rankings`)."""
    from annotary.core.consensus.rankings import rankings_consensus

    if not isinstance(spec, RankingField):
        raise TypeError(f"{rule.method} does not combine {spec.kind} fields")
    return rankings_consensus(spec, rule.method, units)


def _adjudicate(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """Free text is never combined: any non-blank answer waits for a reviewer (the
    first one stands in the suggestion)."""
    results = []
    for unit in units:
        answers = tuple(v for v in unit if isinstance(v, str) and v.strip())
        results.append(
            UnitResult(answers[0] if answers else None, None, None, bool(answers), answers)
        )
    return results


def _omit(
    spec: AnyField, rule: FieldRule, units: Sequence[Sequence[Any]], voters: Voters
) -> list[UnitResult]:
    """The final label leaves the field out; each annotation keeps its own."""
    return [UnitResult(None, None, None) for _ in units]


BUILTIN_AGGREGATORS: Final = (
    AggregatorSpec(
        "majority", CHOICE_KINDS, "share", _vote, description="the most votes; ties: first given"
    ),
    AggregatorSpec(
        "weighted",
        CHOICE_KINDS,
        "share",
        _vote,
        uses=frozenset({GOLD_WEIGHTS}),
        description="votes weighted by the log-odds of each annotator's gold accuracy",
    ),
    AggregatorSpec(
        "dawid_skene",
        frozenset({"label"}),
        "share",
        _vote,
        per_turn=False,
        uses=frozenset({DAWID_SKENE_FITS}),
        description="posterior under the last project-wide Dawid-Skene fit (majority before)",
    ),
    AggregatorSpec(
        "token_vote",
        frozenset({"spans"}),
        "span_f1_exact",
        _token_vote,
        description="characters keep the label most annotators gave them",
    ),
    AggregatorSpec(
        "median",
        frozenset({"rating"}),
        "share_within_tolerance",
        _median,
        combine_many=_medians,
        description="the lower median; agreement within a tolerance in scale steps",
    ),
    AggregatorSpec(
        "borda", frozenset({"ranking"}), "kendall_w", _ranking, description="Borda count"
    ),
    AggregatorSpec(
        "bradley_terry",
        frozenset({"ranking"}),
        "kendall_w",
        _ranking,
        description="Bradley-Terry strengths from the pairwise preferences",
    ),
    AggregatorSpec(
        "adjudicate",
        frozenset({"text"}),
        None,
        _adjudicate,
        description="never combined: a reviewer picks or edits",
    ),
    AggregatorSpec(
        "omit", frozenset({"text"}), None, _omit, description="left out of the final label"
    ),
)
"""The built-in methods in registration order (a kind's first is its default)."""

KIND_METHODS: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(a.name for a in BUILTIN_AGGREGATORS if kind in a.kinds) for kind in FIELD_KINDS
}
"""The built-in methods each field kind accepts; the first is its default (label,
labels and preference default to the project's `workflow.aggregation` where it
fits). Plugins add theirs after these."""
