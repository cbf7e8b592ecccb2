"""Comparing annotations: gold scoring and the consensus of an item's annotations.

Two values of a field are the same answer when their canonical forms are equal:
a multi-label choice is compared as a set, spans as the set of
(start, end, label, normalized) regardless of order, anything else as canonical
JSON. Free-text fields are never compared: two good rewrites differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from annotary.core.schema.fields import AnnotationSchema, AnyField, LabelsField, SpansField

UNCOMPARABLE_KINDS = frozenset({"text"})


def value_key(spec: AnyField, value: Any) -> str:
    """Canonical text of a field value; equal keys mean the same answer."""
    if value is None:
        return "null"
    if spec.per_turn and isinstance(value, dict):
        inner = {turn: _single_key(spec, v) for turn, v in value.items()}
        return orjson.dumps(inner, option=orjson.OPT_SORT_KEYS).decode()
    return _single_key(spec, value)


def _single_key(spec: AnyField, value: Any) -> str:
    if isinstance(spec, LabelsField) and isinstance(value, list):
        return orjson.dumps(sorted({str(v) for v in value})).decode()
    if isinstance(spec, SpansField):
        spans = value.get("spans", []) if isinstance(value, dict) else value
        if isinstance(spans, list):
            cells = sorted(
                (s.get("start"), s.get("end"), s.get("label"), s.get("normalized"))
                for s in spans
                if isinstance(s, dict)
            )
            return orjson.dumps(cells).decode()
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def comparable_fields(schema: AnnotationSchema) -> list[AnyField]:
    """Fields whose answers can be compared (all but free text)."""
    return [f for f in schema.fields if f.kind not in UNCOMPARABLE_KINDS]


def gold_matches(
    schema: AnnotationSchema, gold: dict[str, Any], answer: dict[str, Any]
) -> dict[str, bool]:
    """Per comparable field of the gold answer: whether `answer` gives the same value.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> s = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "label", "labels": ["a", "b"]}]})
    >>> gold_matches(s, {"s": "a"}, {"s": "b"})
    {'s': False}
    """
    return {
        spec.name: value_key(spec, gold.get(spec.name)) == value_key(spec, answer.get(spec.name))
        for spec in comparable_fields(schema)
        if spec.name in gold
    }


@dataclass(frozen=True)
class Consensus:
    """The consensus answer of an item and how strongly the annotators agree.

    `agreement` is the smallest per-field share of annotations that gave the
    chosen value (None when no field can be compared, e.g. only free text);
    `per_field` holds each compared field's share. `confidence` is the same
    with every annotation counted at its weight (equal to `agreement` for an
    unweighted vote).
    """

    payload: dict[str, Any]
    agreement: float | None
    per_field: dict[str, float]
    confidence: float | None = None


def majority_consensus(
    schema: AnnotationSchema,
    payloads: Sequence[dict[str, Any]],
    weights: Sequence[float] | None = None,
) -> Consensus:
    """(Weighted) vote per field over annotations in submission order.

    Each annotation counts with its weight (1 when `weights` is None). Tie
    rule: among values with the top total, the one submitted first wins; if
    every weight is 0 the plain count decides. Free-text fields take the value
    of the first annotation that agrees with the chosen value on every compared
    field (else the first annotation).

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> s = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "label", "labels": ["a", "b"]}]})
    >>> majority_consensus(s, [{"s": "a"}, {"s": "b"}, {"s": "b"}]).payload
    {'s': 'b'}
    >>> majority_consensus(s, [{"s": "a"}, {"s": "b"}, {"s": "b"}], [3.0, 1.0, 1.0]).payload
    {'s': 'a'}
    """
    if not payloads:
        raise ValueError("consensus needs at least one annotation")
    votes = list(weights) if weights is not None else [1.0] * len(payloads)
    if len(votes) != len(payloads) or sum(votes) <= 0:
        votes = [1.0] * len(payloads)
    payload: dict[str, Any] = {}
    per_field: dict[str, float] = {}
    weighted_share: dict[str, float] = {}
    winners: dict[str, str] = {}
    for spec in comparable_fields(schema):
        counts: dict[str, int] = {}
        totals: dict[str, float] = {}
        first_value: dict[str, Any] = {}
        for annotation, weight in zip(payloads, votes, strict=True):
            key = value_key(spec, annotation.get(spec.name))
            counts[key] = counts.get(key, 0) + 1
            totals[key] = totals.get(key, 0.0) + weight
            first_value.setdefault(key, annotation.get(spec.name))
        best = max(totals, key=lambda k: totals[k])  # max keeps the first of equals
        winners[spec.name] = best
        per_field[spec.name] = counts[best] / len(payloads)
        weighted_share[spec.name] = totals[best] / sum(votes)
        if first_value[best] is not None:
            payload[spec.name] = first_value[best]
    source = next(
        (
            a
            for a in payloads
            if all(
                value_key(schema.field(name), a.get(name)) == key for name, key in winners.items()
            )
        ),
        payloads[0],
    )
    for spec in schema.fields:
        if spec.kind in UNCOMPARABLE_KINDS and source.get(spec.name) is not None:
            payload[spec.name] = source[spec.name]
    agreement = min(per_field.values()) if per_field else None
    confidence = min(weighted_share.values()) if weighted_share else None
    return Consensus(payload, agreement, per_field, confidence)
