"""Whole-value comparison of annotations, as gold scoring needs it.

Two values of a field are the same answer when their canonical forms are equal:
a multi-label choice is compared as a set, spans as the set of
(start, end, label, normalized) regardless of order, anything else as canonical
JSON. Free-text fields are never compared: two good rewrites differ. (The
consensus of several annotators compares more finely, per field kind: see the
package docstring.)
"""

from __future__ import annotations

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
