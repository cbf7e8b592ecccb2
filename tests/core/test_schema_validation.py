"""Annotation payloads against a schema: one test per rule, exact path and reason."""

from __future__ import annotations

import pytest

from annotary.core.schema import ChoiceField, implied_labels
from tests.core.schema_checks import (
    ENTITIES,
    PAIR_ITEM,
    TEXT_ITEM,
    assert_error,
    errors,
    only_error,
    schema,
    span,
)

SENTIMENT = {"name": "sentiment", "kind": "label", "labels": ["positive", "neutral", "negative"]}
TOPICS = {"name": "topics", "kind": "labels", "labels": ["sport", "politics", "science"]}
HARM = {
    "name": "harm",
    "kind": "labels",
    "hierarchical": True,
    "required": False,
    "labels": ["safety/hate/slur", "safety/violence", "quality/off_topic"],
}
RATING = {"name": "score", "kind": "rating", "min": 1, "max": 5}
RANKING = {"name": "order", "kind": "ranking"}
PREFERENCE = {"name": "pref", "kind": "preference", "strengths": ["slightly", "clearly"]}
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
