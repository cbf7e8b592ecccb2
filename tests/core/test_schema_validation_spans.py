"""Spans and relations in annotation payloads: one test per rule, exact path and reason."""

from __future__ import annotations

from typing import Any

from annotary.errors import FieldError
from tests.core.schema_checks import (
    ENTITIES,
    PAIR_ITEM,
    TEXT_ITEM,
    assert_error,
    errors,
    only_error,
    span,
)

# --- spans -------------------------------------------------------------------------------


def test_span_end_beyond_text_length() -> None:
    payload = {"entities": {"spans": [span(0, 3), span(4, 7), span(18, 22, "ORG"), span(26, 40)]}}
    found = only_error([ENTITIES], payload, TEXT_ITEM)
    assert_error(found, "entities.spans[3].end", "span end 40 is beyond the text length 32")


def test_span_bounds_are_not_checked_without_an_item() -> None:
    assert errors([ENTITIES], {"entities": [span(26, 40)]}) == []


def test_shorthand_span_list_paths_point_into_the_list() -> None:
    found = only_error([ENTITIES], {"entities": [span(0, 3), span(5, 99)]}, TEXT_ITEM)
    assert_error(found, "entities[1].end", "beyond the text length 32")


def test_span_start_must_not_be_negative() -> None:
    found = only_error([ENTITIES], {"entities": [span(-1, 3)]})
    assert_error(found, "entities[0].start", "span start -1 must be >= 0")


def test_span_end_must_follow_start() -> None:
    found = only_error([ENTITIES], {"entities": [span(5, 5)]})
    assert_error(found, "entities[0].end", "span end 5 must be greater than start 5")


def test_span_offsets_reject_booleans_and_strings() -> None:
    found = errors([ENTITIES], {"entities": [span(True, 3), span(0, "4")]})
    assert [(e.path, e.reason) for e in found] == [
        ("entities[0].start", "must be an integer offset, not True"),
        ("entities[1].end", "must be an integer offset, not '4'"),
    ]


def test_span_label_not_in_set() -> None:
    found = only_error([ENTITIES], {"entities": [span(0, 3, "PERSON")]})
    assert_error(found, "entities[0].label", "label 'PERSON' is not in the span label set; valid:")


def test_span_missing_keys_and_unknown_keys() -> None:
    found = errors([ENTITIES], {"entities": [{"start": 0, "label": "PER", "score": 0.9}]})
    assert {(e.path, e.reason.split(";")[0]) for e in found} == {
        ("entities[0].score", "unknown key 'score'"),
        ("entities[0].end", "is required"),
    }


def test_span_text_must_equal_the_slice() -> None:
    good = {"entities": [span(0, 7, text="Ann Lee")]}
    assert errors([ENTITIES], good, TEXT_ITEM) == []
    found = only_error([ENTITIES], {"entities": [span(0, 7, text="Ann Le")]}, TEXT_ITEM)
    assert_error(
        found, "entities[0].text", "span text 'Ann Le' does not match the item text 'Ann Lee'"
    )


def test_overlapping_spans_are_an_error_without_allow_overlap() -> None:
    spans = [span(0, 3), span(4, 7), span(18, 22, "ORG"), span(5, 10, "ORG")]
    found = only_error([ENTITIES], {"entities": {"spans": spans}}, TEXT_ITEM)
    assert_error(found, "entities.spans[3]", "overlaps entities.spans[1] (allow_overlap is false)")
    overlapping = {**ENTITIES, "allow_overlap": True}
    assert errors([overlapping], {"entities": {"spans": spans}}, TEXT_ITEM) == []


def test_adjacent_spans_do_not_overlap() -> None:
    assert errors([ENTITIES], {"entities": [span(3, 7), span(0, 3)]}) == []


def test_identical_spans_are_an_error_even_with_allow_overlap() -> None:
    overlapping = {**ENTITIES, "allow_overlap": True}
    found = only_error([overlapping], {"entities": [span(0, 3), span(0, 3)]})
    assert_error(found, "entities[1]", "duplicates entities[0]")


def test_normalized_value_must_match_the_pattern() -> None:
    linked = {**ENTITIES, "normalization": {"pattern": "Q[0-9]+"}}
    assert errors([linked], {"entities": [span(0, 3, normalized="Q42")]}) == []
    found = only_error([linked], {"entities": [span(0, 3, normalized="Q42x")]})
    assert_error(found, "entities[0].normalized", "does not match the pattern 'Q[0-9]+'")


def test_normalized_value_required_when_normalization_requires_it() -> None:
    linked = {**ENTITIES, "normalization": {"required": True}}
    found = only_error([linked], {"entities": [span(0, 3)]})
    assert_error(found, "entities[0].normalized", "is required (normalization.required is true)")


def test_normalized_value_not_allowed_without_normalization() -> None:
    found = only_error([ENTITIES], {"entities": [span(0, 3, normalized="Q1")]})
    assert_error(found, "entities[0].normalized", "this field has no normalization")


def test_span_ids_must_be_unique() -> None:
    found = only_error([ENTITIES], {"entities": [span(0, 3, id="a"), span(4, 7, id="a")]})
    assert_error(found, "entities[1].id", "duplicate span id 'a' (also at entities[0].id)")


def test_span_ids_are_required_when_relations_are_given() -> None:
    spans = [span(0, 7, id="p"), span(18, 22, "ORG", id="o"), span(26, 31, "LOC")]
    relations = [{"type": "works_for", "head": "p", "tail": "o"}]
    found = only_error([ENTITIES], {"entities": {"spans": spans, "relations": relations}})
    assert_error(found, "entities.spans[2].id", "is required when relations are given")


RELATED_SPANS = [
    span(0, 7, id="p"),
    span(18, 22, "ORG", id="o"),
    span(26, 31, "LOC", id="l"),
    span(0, 3, id="p2"),
]


def relation_errors(*relations: dict[str, Any], overlap: bool = True) -> list[FieldError]:
    field = {**ENTITIES, "allow_overlap": overlap}
    payload = {"entities": {"spans": RELATED_SPANS, "relations": list(relations)}}
    return errors([field], payload, TEXT_ITEM)


def test_valid_relations_of_every_kind() -> None:
    assert (
        relation_errors(
            {"type": "works_for", "head": "p", "tail": "o"},
            {"type": "near", "head": "o", "tail": "l"},  # undirected: either order
            {"type": "coref", "members": ["p", "p2"]},
        )
        == []
    )


def test_relation_type_must_be_defined() -> None:
    (found,) = relation_errors({"type": "likes", "head": "p", "tail": "o"})
    assert_error(
        found, "entities.relations[0].type", "relation type 'likes' is not defined; valid:"
    )


def test_relation_ends_must_be_existing_span_ids() -> None:
    (found,) = relation_errors({"type": "works_for", "head": "p", "tail": "x"})
    assert_error(found, "entities.relations[0].tail", "span id 'x' does not exist; valid: p, o, l")


def test_relation_head_and_tail_labels_are_enforced() -> None:
    found = relation_errors({"type": "works_for", "head": "o", "tail": "p"})
    assert [e.path for e in found] == ["entities.relations[0].head", "entities.relations[0].tail"]
    assert "the head of relation 'works_for' must be labelled PER" in found[0].reason
    (undirected,) = relation_errors({"type": "near", "head": "p", "tail": "o"})
    assert_error(undirected, "entities.relations[0]", "relation 'near' links a span labelled LOC")


def test_relation_needs_two_different_spans_and_no_repeats() -> None:
    (same,) = relation_errors(
        {"type": "coref", "members": ["p", "p2"]}, {"type": "near", "head": "l", "tail": "l"}
    )
    assert_error(same, "entities.relations[1].tail", "a relation needs two different spans")
    repeated = relation_errors(
        {"type": "near", "head": "l", "tail": "o"}, {"type": "near", "head": "o", "tail": "l"}
    )
    assert_error(repeated[0], "entities.relations[1]", "duplicates entities.relations[0]")


def test_chain_needs_two_unique_existing_members() -> None:
    (short,) = relation_errors({"type": "coref", "members": ["p"]})
    assert_error(short, "entities.relations[0].members", "at least 2 span ids")
    (twice,) = relation_errors({"type": "coref", "members": ["p", "p2", "p"]})
    assert_error(twice, "entities.relations[0].members[2]", "span 'p' is listed twice")
    (merged,) = relation_errors(
        {"type": "coref", "members": ["p", "p2"]}, {"type": "coref", "members": ["l", "p2"]}
    )
    assert_error(merged, "entities.relations[1].members[1]", "already in entities.relations[0]")


def test_unknown_keys_in_relations() -> None:
    (found,) = relation_errors({"type": "coref", "members": ["p", "p2"], "head": "p"})
    assert_error(found, "entities.relations[0].head", "unknown key 'head'; valid: type, members")


def test_relations_need_relation_types_in_the_field() -> None:
    plain = {"name": "entities", "kind": "spans", "labels": ["PER"]}
    payload = {"entities": {"spans": [span(0, 3, id="a")], "relations": [{"type": "x"}]}}
    found = only_error([plain], payload)
    assert_error(found, "entities.relations", "this field defines no relation types")


def test_spans_value_shape() -> None:
    assert_error(only_error([ENTITIES], {"entities": "Ann"}), "entities", "must be a list of spans")
    found = only_error([ENTITIES], {"entities": {"spans": [], "links": []}})
    assert_error(found, "entities.links", "unknown key 'links'; valid: spans, relations")


def test_spans_need_their_source_text_in_the_item() -> None:
    found = only_error([{**ENTITIES, "source": "prompt"}], {"entities": []}, TEXT_ITEM)
    assert_error(found, "entities", "the item has no text 'prompt' for these spans")


def test_spans_over_a_response_use_that_response() -> None:
    field = {**ENTITIES, "source": "responses[1]"}
    assert errors([field], {"entities": [span(0, 4, text="Hey.")]}, PAIR_ITEM) == []
    found = only_error([field], {"entities": [span(0, 4, text="Hell")]}, PAIR_ITEM)
    assert_error(found, "entities[0].text", "does not match the item text 'Hey.'")
