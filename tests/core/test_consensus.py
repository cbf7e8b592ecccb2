from __future__ import annotations

import pytest

from annotary.core.consensus import gold_matches, majority_consensus, value_key
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


def test_majority_with_first_submitted_tie_rule() -> None:
    consensus = majority_consensus(
        SCHEMA,
        [
            {"s": "b", "why": "first"},
            {"s": "a", "why": "second"},
            {"s": "a", "tags": ["x"], "why": "third"},
            {"s": "b"},
        ],
    )
    assert consensus.payload["s"] == "b"  # 2-2 tie: b was submitted first
    assert consensus.per_field == {"s": 0.5, "tags": 0.75, "ents": 1.0}
    assert consensus.agreement == 0.5
    assert consensus.payload["why"] == "first"  # the first annotation matching the majority


def test_only_free_text_has_no_agreement() -> None:
    schema = AnnotationSchema.model_validate({"fields": [{"name": "t", "kind": "text"}]})
    consensus = majority_consensus(schema, [{"t": "one"}, {"t": "two"}])
    assert consensus.agreement is None
    assert consensus.payload == {"t": "one"}
    with pytest.raises(ValueError, match="at least one"):
        majority_consensus(schema, [])


def test_gold_matches_per_field_skips_text() -> None:
    gold = {"s": "a", "tags": ["x", "y"], "why": "because"}
    answer = {"s": "a", "tags": ["y"], "why": "other words"}
    assert gold_matches(SCHEMA, gold, answer) == {"s": True, "tags": False}
