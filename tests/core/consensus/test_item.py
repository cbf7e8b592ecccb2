"""The item verdict: free text waits for a reviewer, `omit`, thresholds per field,
and a combined answer that must itself be valid."""

from __future__ import annotations

import pytest

from annotary.core.consensus import FieldSetting
from tests.core.consensus.build import consensus, schema_of

CLASSIFY = schema_of(
    {"name": "sentiment", "kind": "label", "labels": ["positive", "negative"]},
    {
        "name": "rationale",
        "kind": "text",
        "required": False,
        "when": {"field": "sentiment", "equals": "negative"},
    },
)


def test_a_non_blank_free_text_answer_goes_to_a_reviewer() -> None:
    result = consensus(
        CLASSIFY,
        [
            {"sentiment": "negative", "rationale": "late delivery"},
            {"sentiment": "negative"},
            {"sentiment": "negative", "rationale": "  "},
            {"sentiment": "negative", "rationale": "rude staff"},
        ],
    )
    assert not result.agreed
    text = result.fields["rationale"]
    assert (text.method, text.measure, text.agreement) == ("adjudicate", None, None)
    assert text.candidates == ("late delivery", "rude staff")
    # The suggestion is a complete answer: the first text stands in for the reviewer's pick.
    assert result.payload == {"sentiment": "negative", "rationale": "late delivery"}


def test_blank_free_text_everywhere_does_not_hold_the_item_back() -> None:
    result = consensus(CLASSIFY, [{"sentiment": "positive"}, {"sentiment": "positive"}])
    assert result.agreed
    assert result.payload == {"sentiment": "positive"}
    assert result.fields["rationale"].record() == {
        "method": "adjudicate",
        "measure": None,
        "agreement": None,
        "confidence": None,
        "threshold": None,
    }


def test_omit_leaves_auxiliary_text_out_of_the_final_label() -> None:
    result = consensus(
        CLASSIFY,
        [
            {"sentiment": "negative", "rationale": "late"},
            {"sentiment": "negative", "rationale": "slow"},
        ],
        settings={"rationale": FieldSetting(method="omit")},
    )
    assert result.agreed
    assert result.payload == {"sentiment": "negative"}
    assert result.fields["rationale"].method == "omit"
    assert result.agreement == 1.0  # only the label is compared


def test_required_omitted_text_does_not_make_the_final_label_invalid() -> None:
    schema = schema_of(
        {"name": "s", "kind": "label", "labels": ["a", "b"]},
        {"name": "why", "kind": "text"},
    )
    result = consensus(
        schema,
        [{"s": "a", "why": "x"}, {"s": "a", "why": "y"}],
        settings={"why": FieldSetting(method="omit")},
    )
    assert result.agreed and result.payload == {"s": "a"}


def test_every_compared_field_must_reach_its_own_threshold() -> None:
    schema = schema_of(
        {"name": "s", "kind": "label", "labels": ["a", "b"]},
        {"name": "r", "kind": "rating", "min": 1, "max": 5},
    )
    payloads = [{"s": "a", "r": 1}, {"s": "a", "r": 3}, {"s": "b", "r": 3}]
    loose = consensus(schema, payloads, threshold=0.6)
    assert loose.agreed
    assert loose.agreement == pytest.approx(2 / 3)  # the smallest over the fields
    strict = consensus(schema, payloads, settings={"r": FieldSetting(threshold=0.9)})
    assert strict.fields["r"].agreement == pytest.approx(2 / 3)  # 1 is two steps from 3
    assert not strict.fields["r"].passed and strict.fields["s"].passed
    assert not strict.agreed


def test_a_combined_answer_that_breaks_the_schema_goes_to_a_reviewer() -> None:
    schema = schema_of(
        {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
        {
            "name": "why",
            "kind": "labels",
            "labels": ["price", "service"],
            "min_count": 1,
            "when": {"field": "s", "equals": "neg"},
        },
    )
    result = consensus(
        schema,
        [
            {"s": "neg", "why": ["price"]},
            {"s": "neg", "why": ["service"]},
            {"s": "pos"},
        ],
        threshold=0.3,
    )
    assert result.payload == {"s": "neg", "why": []}
    assert result.problems == ("why: choose at least 1 labels, not 0",)
    assert not result.agreed


def test_item_level_method_is_the_vote_used() -> None:
    schema = schema_of(
        {"name": "s", "kind": "label", "labels": ["a", "b"]},
        {"name": "r", "kind": "rating", "min": 1, "max": 5},
    )
    payloads = [{"s": "a", "r": 2}, {"s": "a", "r": 2}]
    assert consensus(schema, payloads).method == "majority"
    weighted = consensus(schema, payloads, aggregation="weighted", weights=[1.0, 2.0])
    assert weighted.method == "weighted"
    assert set(weighted.record()) == {"s", "r"}
    assert weighted.record()["r"]["method"] == "median"
