"""Whole-value comparison, as gold scoring uses it."""

from __future__ import annotations

from annotary.core.consensus import gold_matches, value_key
from annotary.core.schema.fields import AnnotationSchema

SCHEMA = AnnotationSchema.model_validate(
    {
        "fields": [
            {"name": "s", "kind": "label", "labels": ["a", "b", "c"]},
            {"name": "tags", "kind": "labels", "labels": ["x", "y"], "required": False},
            {"name": "ents", "kind": "spans", "labels": ["PER"]},
            {"name": "why", "kind": "text", "required": False},
        ]
    }
)


def test_value_keys_ignore_order_where_order_means_nothing() -> None:
    tags = SCHEMA.field("tags")
    ents = SCHEMA.field("ents")
    assert value_key(tags, ["y", "x"]) == value_key(tags, ["x", "y"])
    one = [{"start": 0, "end": 2, "label": "PER"}, {"start": 5, "end": 7, "label": "PER"}]
    assert value_key(ents, one) == value_key(ents, list(reversed(one)))
    assert value_key(ents, one) == value_key(ents, {"spans": one, "relations": []})
    assert value_key(ents, one) != value_key(ents, one[:1])


def test_gold_matches_per_field_skips_text() -> None:
    gold = {"s": "a", "tags": ["x", "y"], "why": "because"}
    answer = {"s": "a", "tags": ["y"], "why": "other words"}
    assert gold_matches(SCHEMA, gold, answer) == {"s": True, "tags": False}
