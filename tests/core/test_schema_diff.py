"""The schema diff, the recheck of stored values and the rework merges (pure core)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotary.core.rework import merge_answer, merge_final, redo_rule
from annotary.core.schema.diff import comparable, diff_fields, diff_schemas
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.recheck import check_values, recheck


def schema(*fields: dict[str, Any], version: int = 1) -> AnnotationSchema:
    return AnnotationSchema.model_validate({"version": version, "fields": list(fields)})


def one(field: dict[str, Any]) -> AnnotationSchema:
    return schema(field)


RATING = {"name": "r", "kind": "rating", "min": 1, "max": 5}
LABELS = {"name": "t", "kind": "labels", "labels": ["a", "b", "c"]}
SPANS = {"name": "e", "kind": "spans", "labels": ["PER", "ORG"]}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (RATING, {**RATING, "max": 7}, [("max", "widening")]),
        (RATING, {**RATING, "min": 2}, [("min", "breaking")]),
        (RATING, {**RATING, "scale": "interval"}, [("scale", "widening")]),
        (RATING, {**RATING, "step": 2}, [("step", "breaking")]),
        (RATING, {**RATING, "required": False}, [("required", "neutral")]),
        ({**RATING, "required": False}, RATING, [("required", "breaking")]),
        (RATING, {**RATING, "description": "How good"}, [("description", "neutral")]),
        (RATING, {**RATING, "point_labels": {"1": "bad"}}, [("point_labels", "neutral")]),
        (LABELS, {**LABELS, "max_count": 2}, [("max_count", "breaking")]),
        ({**LABELS, "max_count": 2}, LABELS, [("max_count", "widening")]),
        (LABELS, {**LABELS, "min_count": 1}, [("min_count", "breaking")]),
        (
            LABELS,
            {**LABELS, "labels": ["a", {"name": "b", "hotkey": "x"}, "c"]},
            [("label options", "neutral")],
        ),
        (LABELS, {**LABELS, "labels": ["a", "b"]}, [("labels removed", "breaking")]),
        (LABELS, {**LABELS, "kind": "label"}, [("kind", "breaking")]),
        (SPANS, {**SPANS, "allow_overlap": True}, [("allow_overlap", "widening")]),
        ({**SPANS, "allow_overlap": True}, SPANS, [("allow_overlap", "breaking")]),
        (SPANS, {**SPANS, "source": "prompt"}, [("source", "breaking")]),
        (
            SPANS,
            {**SPANS, "relations": [{"name": "works_for"}]},
            [("relations", "widening")],
        ),
        (
            {"name": "p", "kind": "preference", "strengths": ["slightly", "clearly"]},
            {"name": "p", "kind": "preference", "strengths": ["clearly", "slightly"]},
            [("strengths", "breaking")],
        ),
        (
            {"name": "p", "kind": "preference", "strengths": ["slightly"]},
            {"name": "p", "kind": "preference", "strengths": ["slightly", "much"]},
            [("strengths", "widening")],
        ),
    ],
)
def test_each_option_change_has_its_effect(
    old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    changes = diff_fields(one(old).fields[0], one(new).fields[0])
    assert [(c.aspect, c.effect) for c in changes] == expected


def test_fields_added_removed_moved_and_conditions() -> None:
    old = schema(
        {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
        {"name": "why", "kind": "text", "when": {"field": "s", "equals": "neg"}},
        {"name": "gone", "kind": "text", "required": False},
    )
    new = schema(
        {"name": "extra", "kind": "text", "required": False},
        {"name": "why", "kind": "text", "required": False},
        {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
        {"name": "must", "kind": "rating", "min": 1, "max": 3},
    )
    diff = diff_schemas(old, new)
    assert [str(c) for c in diff.changes] == [
        "extra: field added (text)",
        "why: required true -> false",
        "why: when {field: s, equals: neg} -> none",
        "why: position 2 -> 1",
        "s: position 1 -> 2",
        "must: field added (rating) (stored annotations have no value for it)",
        "gone: field removed (text) (its stored values are no longer part of the schema)",
    ]
    assert diff.added() == ["extra", "must"] and diff.removed() == ["gone"]
    assert [c.field for c in diff.breaking()] == ["why", "must", "gone"]
    assert diff.value_changed() == {"extra", "must", "gone"}
    assert diff.to_check() == {"extra", "why", "must", "gone"}


LABEL_NAMES = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, unique=True)


@given(LABEL_NAMES, LABEL_NAMES)
def test_label_set_diff_round_trips(old: list[str], new: list[str]) -> None:
    before = one({"name": "s", "kind": "label", "labels": old}).fields[0]
    after = one({"name": "s", "kind": "label", "labels": new}).fields[0]
    changes = {c.aspect: c for c in diff_fields(before, after)}
    removed = changes["labels removed"].before if "labels removed" in changes else []
    added = changes["labels added"].after if "labels added" in changes else []
    assert set(old) - set(removed) | set(added) == set(new)
    assert comparable(before, after) == (set(old) == set(new))
    assert not diff_fields(before, before)


def test_recheck_reads_the_item_for_spans() -> None:
    old = one(SPANS)
    new = one({**SPANS, "labels": ["PER"]})
    check = recheck(old, new)
    assert check.needs_item
    rows = [
        (1, 10, "a", {"e": [{"start": 0, "end": 3, "label": "ORG"}]}, {"text": "ACME"}),
        (2, 11, "b", {"e": [{"start": 0, "end": 3, "label": "PER"}]}, {"text": "Bob"}),
    ]
    tally = check_values(check, "annotation", [rows])
    assert (tally.checked, tally.invalid, tally.by_field) == (2, 1, {"e": 1})
    example = tally.examples[0]
    assert (example.record_id, example.path) == (1, "e[0].label")
    assert example.reason == "label 'ORG' is not in the span label set; valid: PER"


def test_recheck_counts_a_value_once_per_record_and_caps_examples() -> None:
    check = recheck(one(RATING), one({**RATING, "max": 3}))
    rows = [(i, i, None, {"r": 5}, None) for i in range(50)]
    tally = check_values(check, "annotation", [rows[:25], rows[25:]])
    assert tally.invalid == 50 and len(tally.examples) == 20


def test_rework_of_a_conditional_field_keeps_the_rest() -> None:
    old = schema(
        {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
        {"name": "r", "kind": "rating", "min": 1, "max": 7},
    )
    new = schema(
        {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
        {"name": "r", "kind": "rating", "min": 1, "max": 5},
        {"name": "why", "kind": "text", "when": {"field": "s", "equals": "neg"}},
        version=2,
    )
    rule = redo_rule(old, new)
    previous = {"s": "neg", "r": 6}
    assert rule.fields(previous, None) == ["r", "why"]
    merged, errors = merge_answer(new, previous, ["r", "why"], {"r": 4}, None)
    assert merged == {"s": "neg", "r": 4}
    assert [str(e) for e in errors] == ["why: is required (because 's' is 'neg')"]
    merged, errors = merge_answer(new, previous, ["r", "why"], {"r": 4, "why": "rude"}, None)
    assert errors == [] and merged == {"s": "neg", "r": 4, "why": "rude"}
    final = merge_final(new, {"s": "pos", "r": 6, "gone": 1}, {"s": "neg", "r": 4}, ["r", "why"])
    assert final == {"s": "pos", "r": 4}  # the adjudicated `s` stays; `gone` is dropped
