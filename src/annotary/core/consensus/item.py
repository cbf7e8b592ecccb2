"""An item's consensus: every field through its kind's aggregator, then one verdict.

A per-turn field (conversations) is aggregated turn by turn; its agreement and
confidence are the smallest over its turns. The item may be finalized when
every compared field reaches its threshold, no free-text answer waits for a
reviewer, and the combined answer is itself a valid annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotary.core.consensus.choices import (
    label_consensus,
    labels_consensus,
    preference_consensus,
)
from annotary.core.consensus.outcome import FieldOutcome, ItemConsensus, UnitResult, Voters
from annotary.core.consensus.rankings import rankings_consensus
from annotary.core.consensus.ratings import ratings_consensus, ratings_consensus_many
from annotary.core.consensus.settings import MEASURES, FieldRule
from annotary.core.consensus.spans import spans_consensus
from annotary.core.schema.fields import (
    AnnotationSchema,
    AnyField,
    LabelField,
    LabelsField,
    PreferenceField,
    RankingField,
    RatingField,
    SpansField,
    TextField,
)
from annotary.core.schema.validation import validate_annotation


def item_consensus(
    schema: AnnotationSchema,
    rules: Mapping[str, FieldRule],
    payloads: Sequence[dict[str, Any]],
    voters: Voters,
    item: dict[str, Any] | None = None,
) -> ItemConsensus:
    """The consensus of one item's annotations (`payloads`, in submission order).

    The combined answer is checked against the schema, with the item's content
    when given (`item`); without it, the checks that need the item (which turns
    a per-turn field must cover) are skipped.

    >>> from annotary.core.consensus.settings import field_rules
    >>> s = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "r", "kind": "rating", "min": 1, "max": 5},
    ...     {"name": "why", "kind": "text", "required": False}]})
    >>> rules = field_rules(s, "majority", 0.66, {})
    >>> c = item_consensus(s, rules, [{"r": 3}, {"r": 4}, {"r": 4, "why": "ok"}], Voters((1, 2, 3)))
    >>> c.payload, c.agreed, c.fields["why"].candidates
    ({'r': 4, 'why': 'ok'}, False, ('ok',))
    """
    if not payloads:
        raise ValueError("consensus needs at least one annotation")
    units = {
        spec.name: _split_turns(spec, [p.get(spec.name) for p in payloads])
        for spec in schema.fields
    }
    rated = [spec for spec in schema.fields if isinstance(spec, RatingField)]
    results = dict(
        zip(
            [spec.name for spec in rated],
            ratings_consensus_many(
                [(spec, rules[spec.name].tolerance, units[spec.name][1]) for spec in rated]
            ),
            strict=True,
        )
    )
    outcomes: dict[str, FieldOutcome] = {}
    payload: dict[str, Any] = {}
    for spec in schema.fields:
        rule = rules[spec.name]
        turns, field_units = units[spec.name]
        if spec.name not in results:
            results[spec.name] = _units(spec, rule, field_units, voters) if field_units else []
        outcome = _outcome(spec, rule, turns, results[spec.name])
        outcomes[spec.name] = outcome
        if outcome.value is not None:
            payload[spec.name] = outcome.value
    omitted = [name for name, rule in rules.items() if rule.method == "omit"]
    problems = tuple(
        f"{p.path}: {p.reason}"
        for p in validate_annotation(schema, payload, item)
        if not any(_under(p.path, name) for name in omitted)
        and (item is not None or not _needs_turns(schema, p.path, p.reason))
    )
    return ItemConsensus(payload, outcomes, problems)


def _needs_turns(schema: AnnotationSchema, path: str, reason: str) -> bool:
    """Whether a problem is about which turns a per-turn field covers: without the
    item, its turns and their roles are unknown (the annotations were checked with it)."""
    spec = next((f for f in schema.fields if _under(path, f.name)), None)
    return spec is not None and spec.per_turn and reason.startswith("is required")


def _under(path: str, name: str) -> bool:
    """Whether an error path points into the field `name`."""
    return path == name or path.startswith((f"{name}.", f"{name}["))


def _split_turns(spec: AnyField, values: list[Any]) -> tuple[list[str], list[list[Any]]]:
    """The units of a field: one of all its values, or one per turn of a per-turn field."""
    if not spec.per_turn:
        return [], [values]
    turns = sorted(
        {str(k) for v in values if isinstance(v, dict) for k in v},
        key=lambda k: (len(k), k),  # turn indices: '2' before '10'
    )
    return turns, [[v.get(turn) if isinstance(v, dict) else None for v in values] for turn in turns]


def _outcome(
    spec: AnyField, rule: FieldRule, turns: list[str], results: list[UnitResult]
) -> FieldOutcome:
    """A field's outcome from its units' results (the smallest agreement over turns)."""
    if spec.per_turn:
        by_turn = {t: r.value for t, r in zip(turns, results, strict=True) if r.value is not None}
        value: Any = by_turn or None
    else:
        value = results[0].value
    agreements = [r.agreement for r in results if r.agreement is not None]
    confidences = [r.confidence for r in results if r.confidence is not None]
    compared = MEASURES[rule.method] is not None
    method = next((r.method for r in results if r.method is not None), rule.method)
    return FieldOutcome(
        value=value,
        method=method,
        measure=MEASURES[method],
        agreement=(min(agreements) if agreements else 1.0) if compared else None,
        confidence=(min(confidences) if confidences else None) if compared else None,
        threshold=rule.threshold if compared else None,
        needs_review=any(r.needs_review for r in results),
        candidates=tuple(c for r in results for c in r.candidates),
    )


def _units(
    spec: AnyField, rule: FieldRule, units: list[list[Any]], voters: Voters
) -> list[UnitResult]:
    """Each unit's consensus with the field kind's aggregator."""
    if isinstance(spec, SpansField):
        return spans_consensus(spec, units)
    if isinstance(spec, RatingField):
        return ratings_consensus(spec, rule.tolerance, units)  # (item_consensus batches these)
    if isinstance(spec, RankingField):
        return rankings_consensus(spec, rule.method, units)
    if isinstance(spec, TextField):
        return [_text(rule.method, unit) for unit in units]
    if isinstance(spec, LabelField):
        return [label_consensus(spec, rule.method, unit, voters) for unit in units]
    if isinstance(spec, LabelsField):
        return [labels_consensus(spec, rule.method, unit, voters) for unit in units]
    if isinstance(spec, PreferenceField):
        return [preference_consensus(spec, rule.method, unit, voters) for unit in units]
    raise TypeError(f"no consensus for field kind {spec.kind!r}")


def _text(method: str, values: list[Any]) -> UnitResult:
    """Free text is never combined: with `adjudicate` any non-blank answer waits for a
    reviewer (the first one stands in the suggestion); with `omit` the final label
    leaves the field out and each annotation keeps its own."""
    if method == "omit":
        return UnitResult(None, None, None)
    answers = tuple(v for v in values if isinstance(v, str) and v.strip())
    return UnitResult(answers[0] if answers else None, None, None, bool(answers), answers)
