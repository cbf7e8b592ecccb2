"""Annotation payloads against a schema: one test per rule, exact path and reason."""

from __future__ import annotations

from typing import Any

import pytest

from annotary.core.schema import (
    AnnotationSchema,
    ChoiceField,
    implied_labels,
    validate_annotation,
)
from annotary.errors import FieldError


def schema(*fields: dict[str, Any]) -> AnnotationSchema:
    return AnnotationSchema.model_validate({"fields": list(fields)})


def errors(
    fields: list[dict[str, Any]], payload: object, item: dict[str, Any] | None = None
) -> list[FieldError]:
    return validate_annotation(schema(*fields), payload, item)


def only_error(
    fields: list[dict[str, Any]], payload: object, item: dict[str, Any] | None = None
) -> FieldError:
    found = errors(fields, payload, item)
    assert len(found) == 1, found
    return found[0]


def assert_error(found: FieldError, path: str, reason: str) -> None:
    assert found.path == path, found
    assert reason in found.reason, found


SENTIMENT = {"name": "sentiment", "kind": "label", "labels": ["positive", "neutral", "negative"]}
TOPICS = {"name": "topics", "kind": "labels", "labels": ["sport", "politics", "science"]}
HARM = {
    "name": "harm",
    "kind": "labels",
    "hierarchical": True,
    "required": False,
    "labels": ["safety/hate/slur", "safety/violence", "quality/off_topic"],
}
ENTITIES = {
    "name": "entities",
    "kind": "spans",
    "labels": ["PER", "ORG", "LOC"],
    "relations": [
        {"name": "works_for", "head_labels": ["PER"], "tail_labels": ["ORG"]},
        {"name": "near", "kind": "undirected", "head_labels": ["LOC"], "tail_labels": ["ORG"]},
        {"name": "coref", "kind": "chain"},
    ],
}
TEXT_ITEM = {"text": "Ann Lee works for Acme in Paris."}  # 32 characters
RATING = {"name": "score", "kind": "rating", "min": 1, "max": 5}
RANKING = {"name": "order", "kind": "ranking"}
PREFERENCE = {"name": "pref", "kind": "preference", "strengths": ["slightly", "clearly"]}
PAIR_ITEM = {"prompt": "Hi?", "responses": ["Hello.", "Hey."]}
TRIPLE_ITEM = {"prompt": "Hi?", "responses": ["Hello.", "Hey.", "Yo."]}
CONVERSATION = {
    "turns": [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello Ann"},
        {"role": "user", "content": "Bye"},
        {"role": "assistant", "content": "Goodbye"},
    ]
}
COHERENCE = {**RATING, "name": "coherence", "per_turn": True, "turn_roles": ["assistant"]}


def span(start: Any, end: Any, label: str = "PER", **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, **extra}


# --- the payload and its fields ---------------------------------------------------------


def test_a_valid_annotation_has_no_errors() -> None:
    payload = {"sentiment": "negative", "topics": ["sport"], "entities": [span(0, 7)]}
    assert errors([SENTIMENT, TOPICS, ENTITIES], payload, TEXT_ITEM) == []


def test_payload_must_be_an_object() -> None:
    assert_error(only_error([SENTIMENT], ["negative"]), "", "must be an object")


def test_unknown_field_names_the_valid_ones() -> None:
    found = only_error([SENTIMENT, TOPICS], {"sentiment": "neutral", "topics": [], "mood": 1})
    assert_error(found, "mood", "unknown field 'mood'; valid: sentiment, topics")


def test_missing_required_field() -> None:
    assert_error(only_error([SENTIMENT, TOPICS], {"topics": []}), "sentiment", "is required")


def test_null_counts_as_absent() -> None:
    assert_error(only_error([SENTIMENT], {"sentiment": None}), "sentiment", "is required")
    assert errors([HARM], {"harm": None}) == []


def test_all_errors_are_reported_not_only_the_first() -> None:
    found = errors([SENTIMENT, TOPICS], {"sentiment": "bad", "topics": ["x", "y"], "z": 0})
    assert [e.path for e in found] == ["z", "sentiment", "topics[0]", "topics[1]"]


# --- conditions ----------------------------------------------------------------------------

WHY = {"name": "why", "kind": "text", "when": {"field": "sentiment", "equals": "negative"}}


def test_conditional_field_is_required_when_its_condition_holds() -> None:
    found = only_error([SENTIMENT, WHY], {"sentiment": "negative"})
    assert_error(found, "why", "is required (because 'sentiment' is 'negative')")


def test_conditional_field_must_be_absent_when_its_condition_is_false() -> None:
    found = only_error([SENTIMENT, WHY], {"sentiment": "positive", "why": "because"})
    assert_error(
        found, "why", "must be left out: 'why' applies only when 'sentiment' is 'negative'"
    )
    assert errors([SENTIMENT, WHY], {"sentiment": "positive", "why": None}) == []


def test_condition_equals_on_a_multi_label_field_means_among_the_chosen() -> None:
    why = {"name": "why", "kind": "text", "when": {"field": "topics", "equals": "politics"}}
    assert errors([TOPICS, why], {"topics": ["sport", "politics"], "why": "x"}) == []
    assert_error(only_error([TOPICS, why], {"topics": ["sport"], "why": "x"}), "why", "left out")


def test_condition_on_a_taxonomy_holds_for_an_implied_ancestor() -> None:
    why = {"name": "why", "kind": "text", "when": {"field": "harm", "equals": "safety"}}
    assert_error(only_error([HARM, why], {"harm": ["safety/hate/slur"]}), "why", "is required")
    assert errors([HARM, why], {"harm": ["quality/off_topic"]}) == []


def test_condition_in_holds_for_any_listed_value() -> None:
    cond = {"field": "sentiment", "in": ["negative", "neutral"]}
    why = {**WHY, "when": cond}
    assert_error(only_error([SENTIMENT, why], {"sentiment": "neutral"}), "why", "is required")
    assert errors([SENTIMENT, why], {"sentiment": "positive"}) == []


def test_condition_present_holds_when_the_other_field_has_a_value() -> None:
    optional = {**SENTIMENT, "required": False}
    why = {**WHY, "when": {"field": "sentiment", "present": True}}
    assert_error(only_error([optional, why], {"sentiment": "positive"}), "why", "is required")
    found = only_error([optional, why], {"sentiment": None, "why": "x"})
    assert_error(found, "why", "applies only when 'sentiment' has a value")


# --- label and labels ----------------------------------------------------------------------


def test_label_not_in_set_says_what_is_valid() -> None:
    found = only_error([SENTIMENT], {"sentiment": "neg"})
    assert_error(
        found,
        "sentiment",
        "label 'neg' is not in the label set; valid: positive, neutral, negative",
    )


def test_label_must_be_a_string() -> None:
    assert_error(only_error([SENTIMENT], {"sentiment": 1}), "sentiment", "must be a label")


def test_taxonomy_label_may_be_an_ancestor_unless_leaf_only() -> None:
    harm = {**HARM, "kind": "label", "required": True}
    assert errors([harm], {"harm": "safety"}) == []
    found = only_error([{**harm, "leaf_only": True}], {"harm": "safety"})
    assert_error(found, "harm", "label 'safety' is not a leaf (leaf_only is true)")


def test_labels_must_be_a_list() -> None:
    assert_error(only_error([TOPICS], {"topics": "sport"}), "topics", "must be a list of labels")


def test_labels_element_not_in_set() -> None:
    found = only_error([TOPICS], {"topics": ["sport", "art"]})
    assert_error(found, "topics[1]", "label 'art' is not in the label set; valid: sport, politics")


def test_labels_must_be_unique() -> None:
    found = only_error([TOPICS], {"topics": ["sport", "science", "sport"]})
    assert_error(found, "topics[2]", "duplicate label 'sport' (also at [0])")


def test_labels_count_bounds() -> None:
    bounded = {**TOPICS, "min_count": 1, "max_count": 2}
    assert_error(only_error([bounded], {"topics": []}), "topics", "choose at least 1 labels")
    found = only_error([bounded], {"topics": ["sport", "politics", "science"]})
    assert_error(found, "topics", "choose at most 2 labels, not 3")


def test_taxonomy_child_with_its_ancestor_is_not_a_duplicate() -> None:
    assert errors([HARM], {"harm": ["safety/hate", "safety", "safety/hate/slur"]}) == []


def test_implied_labels_adds_ancestors_once_in_stable_order() -> None:
    harm = schema(HARM).field("harm")
    assert isinstance(harm, ChoiceField)
    assert implied_labels(harm, ["safety/hate/slur", "safety/violence"]) == [
        "safety",
        "safety/hate",
        "safety/hate/slur",
        "safety/violence",
    ]
    assert implied_labels(harm, "quality/off_topic") == ["quality", "quality/off_topic"]
    topics = schema(TOPICS).field("topics")
    assert isinstance(topics, ChoiceField)
    assert implied_labels(topics, ["sport", "sport", "science"]) == ["sport", "science"]


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


# --- rating ------------------------------------------------------------------------------


def test_rating_must_be_a_number_not_a_boolean() -> None:
    assert_error(only_error([RATING], {"score": True}), "score", "must be a finite number")
    assert_error(only_error([RATING], {"score": "4"}), "score", "must be a finite number")


def test_rating_within_bounds() -> None:
    assert_error(
        only_error([RATING], {"score": 6}), "score", "rating 6 is outside the scale [1, 5]"
    )
    assert errors([RATING], {"score": 5}) == []


def test_ordinal_rating_is_a_whole_point() -> None:
    assert_error(only_error([RATING], {"score": 2.5}), "score", "must be a whole point")
    assert errors([RATING], {"score": 3.0}) == []


def test_rating_on_the_step_grid_with_float_tolerance() -> None:
    interval = {**RATING, "scale": "interval", "min": 0, "max": 1, "step": 0.1}
    assert errors([interval], {"score": 0.3}) == []  # 0.3 / 0.1 is 2.9999999999999996
    found = only_error([interval], {"score": 0.35})
    assert_error(found, "score", "not on the scale grid [0, 1] in steps of 0.1")
    stepped = {**RATING, "min": 1, "max": 9, "step": 2}
    assert_error(only_error([stepped], {"score": 4}), "score", "in steps of 2")


# --- ranking -----------------------------------------------------------------------------


def test_ranking_entries_are_unique_non_negative_integers() -> None:
    found = errors([RANKING], {"order": [1, -1, True, 1]})
    assert [(e.path, e.reason.split(" (")[0]) for e in found] == [
        ("order[1]", "must be a candidate index"),
        ("order[2]", "must be a candidate index"),
        ("order[3]", "candidate 1 is ranked twice"),
    ]


def test_ranking_is_a_permutation_of_the_item_candidates() -> None:
    assert errors([RANKING], {"order": [2, 0, 1]}, TRIPLE_ITEM) == []
    found = errors([RANKING], {"order": [3, 0]}, TRIPLE_ITEM)
    assert_error(found[0], "order[0]", "candidate 3 does not exist; the item has 3")
    assert_error(found[1], "order", "candidates 1, 2 are not ranked")


def test_ranking_without_item_only_checks_shape() -> None:
    assert errors([RANKING], {"order": [7, 3]}) == []


def test_ranking_with_ties_is_a_list_of_groups() -> None:
    tied = {**RANKING, "allow_ties": True}
    assert errors([tied], {"order": [[1, 2], [0]]}, TRIPLE_ITEM) == []
    found = errors([tied], {"order": [[1], [], 2, [1, 0]]}, TRIPLE_ITEM)
    assert [e.path for e in found] == ["order[1]", "order[2]", "order[3][0]", "order"]
    assert "a group sharing a rank" in found[0].reason
    assert "candidate 1 is ranked twice (also at order[0][0])" in found[2].reason
    assert "candidates 2 are not ranked" in found[3].reason


def test_ranking_needs_candidates_in_the_item() -> None:
    found = only_error([RANKING], {"order": [0]}, TEXT_ITEM)
    assert_error(found, "order", "the item has no candidate list 'responses'")


# --- preference --------------------------------------------------------------------------


def test_preference_choice_must_be_a_b_or_tie() -> None:
    assert errors([PREFERENCE], {"pref": {"choice": "tie"}}, PAIR_ITEM) == []
    found = only_error([PREFERENCE], {"pref": {"choice": "c"}})
    assert_error(found, "pref.choice", "choice 'c' is not valid; valid: a, b, tie")
    no_tie = {**PREFERENCE, "allow_tie": False}
    found = only_error([no_tie], {"pref": {"choice": "tie"}})
    assert_error(found, "pref.choice", "(allow_tie is false); valid: a, b")


def test_preference_strength_rules() -> None:
    ok = {"pref": {"choice": "a", "strength": "clearly"}}
    assert errors([PREFERENCE], ok) == []
    found = only_error([PREFERENCE], {"pref": {"choice": "a", "strength": "hugely"}})
    assert_error(found, "pref.strength", "strength 'hugely' is not valid; valid: slightly, clearly")
    found = only_error([PREFERENCE], {"pref": {"choice": "tie", "strength": "clearly"}})
    assert_error(found, "pref.strength", "a tie has no strength")
    plain = {"name": "pref", "kind": "preference"}
    found = only_error([plain], {"pref": {"choice": "b", "strength": "clearly"}})
    assert_error(found, "pref.strength", "this field has no strengths")
    required = {**PREFERENCE, "require_strength": True}
    found = only_error([required], {"pref": {"choice": "b"}})
    assert_error(found, "pref.strength", "is required (require_strength is true)")
    assert errors([required], {"pref": {"choice": "tie"}}) == []


def test_preference_needs_exactly_two_candidates() -> None:
    found = only_error([PREFERENCE], {"pref": {"choice": "a"}}, TRIPLE_ITEM)
    assert_error(found, "pref", "a preference needs exactly 2 candidates; the item has 3")


def test_preference_shape_and_unknown_keys() -> None:
    assert_error(only_error([PREFERENCE], {"pref": "a"}), "pref", "must be an object")
    found = only_error([PREFERENCE], {"pref": {"choice": "a", "why": "x"}})
    assert_error(found, "pref.why", "unknown key 'why'; valid: choice, strength")
    assert_error(only_error([PREFERENCE], {"pref": {}}), "pref.choice", "is required")


# --- text --------------------------------------------------------------------------------

REWRITE = {"name": "rewrite", "kind": "text", "min_length": 3, "max_length": 10}


def test_text_must_be_a_string() -> None:
    assert_error(only_error([REWRITE], {"rewrite": 42}), "rewrite", "must be a string")


def test_text_length_bounds() -> None:
    assert_error(only_error([REWRITE], {"rewrite": "ab"}), "rewrite", "at least 3 characters")
    found = only_error([REWRITE], {"rewrite": "abcdefghijk"})
    assert_error(found, "rewrite", "at most 10 characters, not 11")


def test_required_text_must_not_be_blank() -> None:
    assert_error(only_error([REWRITE], {"rewrite": "    "}), "rewrite", "must not be blank")
    optional = {**REWRITE, "required": False, "min_length": 0}
    assert errors([optional], {"rewrite": "  "}) == []


# --- per-turn ----------------------------------------------------------------------------


def test_per_turn_value_is_an_object_of_turn_indices() -> None:
    assert errors([COHERENCE], {"coherence": {"1": 4, "3": 5}}, CONVERSATION) == []
    found = only_error([COHERENCE], {"coherence": [4, 5]})
    assert_error(found, "coherence", "must be an object mapping turn indices")


@pytest.mark.parametrize("key", ["x", "-1", "03", "1.0"])
def test_per_turn_keys_are_decimal_turn_indices(key: str) -> None:
    found = only_error([COHERENCE], {"coherence": {"1": 4, key: 5}})
    assert_error(found, f"coherence.{key}", "must be a turn index such as '0' or '3'")


def test_per_turn_index_must_exist_in_the_item() -> None:
    found = only_error([COHERENCE], {"coherence": {"1": 4, "3": 5, "5": 5}}, CONVERSATION)
    assert_error(found, "coherence.5", "turn 5 does not exist; the item has 4 turns")


def test_per_turn_role_must_be_allowed() -> None:
    found = only_error([COHERENCE], {"coherence": {"0": 4, "1": 4, "3": 5}}, CONVERSATION)
    assert_error(found, "coherence.0", "turn 0 is a 'user' turn; 'coherence' applies only")


def test_required_per_turn_field_needs_every_applicable_turn() -> None:
    found = only_error([COHERENCE], {"coherence": {"1": 4}}, CONVERSATION)
    assert_error(found, "coherence.3", "is required for turn 3 (assistant)")


def test_required_per_turn_field_without_item_needs_one_turn() -> None:
    found = only_error([COHERENCE], {"coherence": {}})
    assert_error(found, "coherence", "give a value for at least one turn")
    assert errors([COHERENCE], {"coherence": {"7": 3}}) == []


def test_per_turn_values_are_checked_with_the_turn_in_the_path() -> None:
    found = only_error([COHERENCE], {"coherence": {"1": 4, "3": 9}}, CONVERSATION)
    assert_error(found, "coherence.3", "rating 9 is outside the scale [1, 5]")


def test_per_turn_spans_refer_to_the_turn_text() -> None:
    mentions = {**ENTITIES, "per_turn": True, "relations": []}
    payload = {"entities": {"1": {"spans": [span(6, 9, text="Ann"), span(6, 12)]}}}
    found = only_error([mentions], payload, CONVERSATION)
    assert_error(found, "entities.1.spans[1].end", "span end 12 is beyond the text length 9")


def test_per_turn_condition_is_checked_turn_by_turn() -> None:
    verdict = {**SENTIMENT, "name": "verdict", "per_turn": True, "turn_roles": ["assistant"]}
    why = {
        "name": "why",
        "kind": "text",
        "per_turn": True,
        "when": {"field": "verdict", "equals": "negative"},
    }
    payload = {"verdict": {"1": "negative", "3": "positive"}, "why": {"3": "no reason"}}
    found = errors([verdict, why], payload, CONVERSATION)
    assert [(e.path, e.reason.split(" (")[0].split(":")[0]) for e in found] == [
        ("why.3", "must be left out"),
        ("why.1", "is required for turn 1"),
    ]


def test_turn_item_annotates_only_its_own_turn() -> None:
    turn_item = {"turns": CONVERSATION["turns"][:2], "turn_index": 1}
    assert errors([COHERENCE], {"coherence": {"1": 4}}, turn_item) == []
    found = only_error([COHERENCE], {"coherence": {"0": 4, "1": 4}}, {**turn_item})
    assert_error(found, "coherence.0", "turn 0 is context in this item; only turn 1 is annotated")


def test_per_turn_field_needs_a_conversation_item() -> None:
    found = only_error([COHERENCE], {"coherence": {"1": 4}}, TEXT_ITEM)
    assert_error(found, "coherence", "the item has no conversation turns")
