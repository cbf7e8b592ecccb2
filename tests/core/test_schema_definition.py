"""Schema definitions: a bad project schema is rejected with a reason that says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from annotary.core.schema import (
    AnnotationSchema,
    LabelField,
    RatingField,
    ancestors,
    with_ancestors,
)


def schema(*fields: dict[str, Any]) -> AnnotationSchema:
    return AnnotationSchema.model_validate({"fields": list(fields)})


def definition_error(*fields: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        schema(*fields)
    return str(caught.value)


SENTIMENT = {"name": "sentiment", "kind": "label", "labels": ["positive", "negative"]}
TAXONOMY = {
    "name": "harm",
    "kind": "label",
    "hierarchical": True,
    "labels": ["safety/hate/slur", "safety/violence", "quality/off_topic"],
}


def test_a_valid_schema_keeps_its_fields_in_order() -> None:
    parsed = schema(SENTIMENT, {"name": "notes", "kind": "text", "required": False})
    assert [f.name for f in parsed.fields] == ["sentiment", "notes"]
    assert isinstance(parsed.field("sentiment"), LabelField)


def test_empty_schema_is_rejected() -> None:
    with pytest.raises(ValidationError, match="at least one field"):
        AnnotationSchema.model_validate({"fields": []})


def test_duplicate_field_names_are_rejected() -> None:
    assert "duplicate field name 'sentiment'" in definition_error(SENTIMENT, SENTIMENT)


def test_field_names_must_be_identifiers() -> None:
    assert "string_pattern_mismatch" in definition_error({**SENTIMENT, "name": "Bad Name"})


def test_unknown_kind_is_rejected() -> None:
    assert "does not match any of the expected tags" in definition_error(
        {"name": "x", "kind": "checkbox"}
    )


def test_unknown_key_in_a_field_is_rejected() -> None:
    text = definition_error({**SENTIMENT, "colour": "red"})
    assert "colour" in text
    assert "Extra inputs are not permitted" in text


def test_unknown_key_in_the_schema_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        AnnotationSchema.model_validate({"fields": [SENTIMENT], "title": "x"})


def test_duplicate_labels_are_rejected() -> None:
    text = definition_error({**SENTIMENT, "labels": ["positive", "positive"]})
    assert "duplicate label 'positive'" in text


def test_duplicate_hotkeys_are_rejected() -> None:
    labels = [{"name": "positive", "hotkey": "p"}, {"name": "negative", "hotkey": "p"}]
    assert "duplicate hotkey 'p'" in definition_error({**SENTIMENT, "labels": labels})


def test_empty_label_set_is_rejected() -> None:
    assert "at least one label" in definition_error({**SENTIMENT, "labels": []})


def test_duplicate_span_labels_are_rejected() -> None:
    text = definition_error({"name": "ents", "kind": "spans", "labels": ["PER", "PER"]})
    assert "duplicate label 'PER'" in text


def test_slash_in_a_flat_label_set_asks_for_hierarchical() -> None:
    text = definition_error({**SENTIMENT, "labels": ["safety/hate"]})
    assert "set 'hierarchical: true'" in text


def test_malformed_taxonomy_path_is_rejected() -> None:
    text = definition_error({**TAXONOMY, "labels": ["safety//hate"]})
    assert "label 'safety//hate' is not valid" in text


def test_leaf_only_needs_hierarchical() -> None:
    assert "'leaf_only' is only allowed" in definition_error({**SENTIMENT, "leaf_only": True})


def test_taxonomy_label_names_include_ancestors_root_first() -> None:
    field = schema(TAXONOMY).field("harm")
    assert isinstance(field, LabelField)
    assert field.label_names() == [
        "safety",
        "safety/hate",
        "safety/hate/slur",
        "safety/violence",
        "quality",
        "quality/off_topic",
    ]


def test_leaf_only_label_names_are_the_leaves() -> None:
    field = schema({**TAXONOMY, "leaf_only": True}).field("harm")
    assert isinstance(field, LabelField)
    assert field.label_names() == ["safety/hate/slur", "safety/violence", "quality/off_topic"]


def test_ancestors_and_with_ancestors() -> None:
    assert ancestors("a/b/c") == ["a", "a/b"]
    assert ancestors("a") == []
    assert with_ancestors("a/b/c") == ["a", "a/b", "a/b/c"]


def test_labels_count_bounds_must_be_ordered() -> None:
    field = {"name": "topics", "kind": "labels", "labels": ["a", "b"], "min_count": 2}
    assert "'max_count' must be >= 'min_count'" in definition_error({**field, "max_count": 1})


@pytest.mark.parametrize(
    ("bounds", "reason"),
    [
        ({"min": 5, "max": 5}, "'max' must be greater than 'min'"),
        ({"min": 1, "max": 4.5}, "an ordinal scale needs integer 'min' and 'max'"),
        ({"min": 1, "max": 5, "step": 0}, "'step' must be positive"),
        ({"min": 1, "max": 5, "step": 0.5}, "an ordinal scale needs an integer 'step'"),
    ],
)
def test_bad_rating_bounds_are_rejected(bounds: dict[str, Any], reason: str) -> None:
    assert reason in definition_error({"name": "score", "kind": "rating", **bounds})


def test_interval_scale_accepts_fractional_bounds_and_step() -> None:
    field = schema(
        {"name": "score", "kind": "rating", "scale": "interval", "min": 0, "max": 1, "step": 0.1}
    ).field("score")
    assert isinstance(field, RatingField)
    assert field.effective_step() == 0.1


def test_text_length_bounds_must_be_ordered() -> None:
    text = definition_error({"name": "t", "kind": "text", "min_length": 5, "max_length": 2})
    assert "'max_length' must be >= 'min_length'" in text


def test_condition_must_refer_to_an_earlier_field() -> None:
    later = {"name": "why", "kind": "text", "when": {"field": "sentiment", "present": True}}
    assert "which is not an earlier field" in definition_error(later, SENTIMENT)


def test_condition_must_refer_to_an_existing_field() -> None:
    dependent = {"name": "why", "kind": "text", "when": {"field": "nope", "present": True}}
    assert "condition refers to 'nope'" in definition_error(SENTIMENT, dependent)


def test_condition_value_must_be_a_label_of_the_target() -> None:
    dependent = {"name": "why", "kind": "text", "when": {"field": "sentiment", "equals": "meh"}}
    text = definition_error(SENTIMENT, dependent)
    assert "condition value 'meh' is not a label of 'sentiment'; valid: positive, negative" in text


def test_condition_may_name_an_ancestor_of_a_leaf_only_taxonomy() -> None:
    dependent = {"name": "why", "kind": "text", "when": {"field": "harm", "equals": "safety"}}
    parsed = schema({**TAXONOMY, "leaf_only": True}, dependent)
    assert parsed.field("why").when is not None


def test_condition_needs_exactly_one_test() -> None:
    both = {"field": "sentiment", "equals": "positive", "present": True}
    dependent = {"name": "why", "kind": "text", "when": both}
    assert "exactly one of 'equals', 'in', 'present'" in definition_error(SENTIMENT, dependent)


def test_condition_must_match_per_turn_setting() -> None:
    dependent = {
        "name": "why",
        "kind": "text",
        "per_turn": True,
        "when": {"field": "sentiment", "present": True},
    }
    assert "same 'per_turn' setting" in definition_error(SENTIMENT, dependent)


def test_turn_roles_need_per_turn() -> None:
    assert "'turn_roles' is only allowed" in definition_error(
        {**SENTIMENT, "turn_roles": ["assistant"]}
    )


def test_unknown_turn_role_is_rejected() -> None:
    field = {**SENTIMENT, "per_turn": True, "turn_roles": ["asistant"]}
    assert "turn role 'asistant' is not known; valid: system, user" in definition_error(field)


def test_empty_turn_roles_is_rejected() -> None:
    field = {**SENTIMENT, "per_turn": True, "turn_roles": []}
    assert "'turn_roles' must not be empty" in definition_error(field)


def test_relation_labels_must_be_span_labels() -> None:
    field = {
        "name": "ents",
        "kind": "spans",
        "labels": ["PER", "ORG"],
        "relations": [{"name": "works_for", "head_labels": ["PERSON"]}],
    }
    text = definition_error(field)
    assert "relation 'works_for' names label 'PERSON'" in text
    assert "valid: ORG, PER" in text


def test_duplicate_relation_names_are_rejected() -> None:
    relations = [{"name": "coref", "kind": "chain"}, {"name": "coref"}]
    field = {"name": "ents", "kind": "spans", "labels": ["PER"], "relations": relations}
    assert "duplicate relation 'coref'" in definition_error(field)


def test_chain_relation_has_no_head_labels() -> None:
    relations = [{"name": "coref", "kind": "chain", "head_labels": ["PER"]}]
    field = {"name": "ents", "kind": "spans", "labels": ["PER"], "relations": relations}
    assert "a chain relation has no 'head_labels'" in definition_error(field)


def test_unknown_key_in_a_relation_type_is_rejected() -> None:
    relations = [{"name": "coref", "kind": "chain", "symmetric": True}]
    field = {"name": "ents", "kind": "spans", "labels": ["PER"], "relations": relations}
    assert "symmetric" in definition_error(field)


def test_normalization_pattern_must_compile() -> None:
    field = {"name": "ents", "kind": "spans", "labels": ["PER"], "normalization": {"pattern": "("}}
    assert "pattern does not compile" in definition_error(field)


def test_preference_strengths_rules() -> None:
    base = {"name": "pref", "kind": "preference"}
    assert "'strengths' must not be empty" in definition_error({**base, "strengths": []})
    assert "duplicate strength 'much'" in definition_error({**base, "strengths": ["much", "much"]})
    assert "'require_strength' needs 'strengths'" in definition_error(
        {**base, "require_strength": True}
    )
