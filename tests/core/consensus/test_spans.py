"""spans: token vote with every annotator in the denominator, exact span F1 as agreement."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotary.core.consensus.spans import mean_pairwise_f1
from annotary.core.quality import span_agreement
from tests.core.consensus.build import consensus, schema_of

NER = schema_of(
    {
        "name": "entities",
        "kind": "spans",
        "labels": ["PER", "ORG", "LOC"],
        "normalization": {"pattern": "Q[0-9]+"},
        "relations": [
            {"name": "coref", "kind": "chain"},
            {"name": "works_for", "head_labels": ["PER"], "tail_labels": ["ORG"]},
        ],
    }
)
PLAIN = schema_of({"name": "e", "kind": "spans", "labels": ["PER", "ORG", "LOC"]})
# "Maria Lopez joined Acme in Paris. Lopez said..."
MARIA, ACME, PARIS, LOPEZ = (0, 11, "PER"), (19, 23, "ORG"), (27, 32, "LOC"), (34, 39, "PER")


def spans(*keys: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": label} for s, e, label in keys]


def test_one_boundary_off_still_agrees_and_the_majority_span_wins() -> None:
    """The issue's example: whole-value comparison never agreed on this item."""
    off_by_one = (0, 12, "PER")  # 'Maria Lopez ' with the trailing space
    payloads = [
        {"e": spans(MARIA, ACME, PARIS, LOPEZ)},
        {"e": spans(off_by_one, ACME, PARIS, LOPEZ)},
        {"e": spans(MARIA, ACME, PARIS, LOPEZ)},
    ]
    result = consensus(PLAIN, payloads, threshold=0.8)
    assert result.payload == {"e": spans(MARIA, ACME, PARIS, LOPEZ)}
    outcome = result.fields["e"]
    # F1 pairs: (1, 2) = 6/8, (1, 3) = 1, (2, 3) = 6/8 -> mean 5/6
    assert outcome.agreement == pytest.approx(5 / 6)
    assert (outcome.method, outcome.measure) == ("token_vote", "span_f1_exact")
    assert result.agreed


def test_abutting_spans_stay_apart_when_most_annotators_split_there() -> None:
    new, york = (0, 3, "LOC"), (3, 7, "LOC")
    both = consensus(
        PLAIN, [{"e": spans(new, york)}, {"e": spans(new, york)}, {"e": spans((0, 7, "LOC"))}]
    )
    assert both.payload == {"e": spans(new, york)}
    merged = consensus(
        PLAIN, [{"e": spans(new, york)}, {"e": spans((0, 7, "LOC"))}, {"e": spans((0, 7, "LOC"))}]
    )
    assert merged.payload == {"e": spans((0, 7, "LOC"))}


def test_a_span_only_a_minority_marked_does_not_pass() -> None:
    payloads = [{"e": spans(MARIA, ACME)}, {"e": spans(MARIA)}, {"e": spans(MARIA)}]
    result = consensus(PLAIN, payloads)
    assert result.payload == {"e": spans(MARIA)}
    # Without the annotator count as denominator ACME (1 of the 1 who marked
    # anything there) would pass.
    lonely = consensus(PLAIN, [{"e": spans(ACME)}, {}, {"e": []}])
    assert lonely.payload == {"e": []}
    assert lonely.fields["e"].agreement == pytest.approx(1 / 3)  # (1,2)=0 (1,3)=0 (2,3)=1


def test_two_annotators_who_marked_nothing_agree_fully() -> None:
    result = consensus(PLAIN, [{"e": []}, {"e": []}])
    assert result.fields["e"].agreement == 1.0
    assert result.agreed
    assert result.payload == {"e": []}
    left_out = consensus(PLAIN, [{}, {}, {"e": []}])  # leaving the field out marks nothing
    assert (left_out.payload, left_out.fields["e"].agreement) == ({}, 1.0)


def test_normalized_values_and_relations_by_majority_of_exact_matches() -> None:
    def marks(maria_id: str | None, acme_id: str | None, chain: bool) -> dict[str, Any]:
        maria = {"id": "m", "start": 0, "end": 11, "label": "PER"}
        if maria_id:
            maria["normalized"] = maria_id
        acme = {"id": "a", "start": 19, "end": 23, "label": "ORG"}
        if acme_id:
            acme["normalized"] = acme_id
        lopez = {"id": "l", "start": 34, "end": 39, "label": "PER"}
        relations: list[dict[str, Any]] = [{"type": "works_for", "head": "m", "tail": "a"}]
        if chain:
            relations.append({"type": "coref", "members": ["m", "l"]})
        return {"entities": {"spans": [maria, acme, lopez], "relations": relations}}

    result = consensus(
        NER,
        [marks("Q1", "Q9", True), marks("Q1", None, False), marks("Q2", None, True)],
    )
    value = result.payload["entities"]
    assert value["spans"] == [
        {"start": 0, "end": 11, "label": "PER", "normalized": "Q1", "id": "s1"},
        {"start": 19, "end": 23, "label": "ORG", "id": "s2"},  # Q9 is 1 of 3
        {"start": 34, "end": 39, "label": "PER", "id": "s3"},
    ]
    assert value["relations"] == [
        {"type": "works_for", "head": "s1", "tail": "s2"},
        {"type": "coref", "members": ["s1", "s3"]},
    ]
    assert result.agreed and not result.problems


def test_chains_join_kept_links() -> None:
    def marks(*members: list[str]) -> dict[str, Any]:
        ents = [
            {"id": "a", "start": 0, "end": 5, "label": "PER"},
            {"id": "b", "start": 6, "end": 11, "label": "PER"},
            {"id": "c", "start": 34, "end": 39, "label": "PER"},
        ]
        return {
            "entities": {
                "spans": ents,
                "relations": [{"type": "coref", "members": m} for m in members],
            }
        }

    result = consensus(NER, [marks(["a", "b", "c"]), marks(["a", "b"]), marks(["b", "c"])])
    assert result.payload["entities"]["relations"] == [
        {"type": "coref", "members": ["s1", "s2", "s3"]}
    ]


@st.composite
def span_sets(draw: st.DrawFn) -> list[list[tuple[int, int, str]]]:
    annotators = draw(st.integers(1, 5))
    out = []
    for _ in range(annotators):
        starts = sorted(draw(st.sets(st.integers(0, 30), max_size=4)))
        chosen = []
        for i, start in enumerate(starts):
            limit = starts[i + 1] if i + 1 < len(starts) else 35
            end = draw(st.integers(start + 1, limit))
            chosen.append((start, end, draw(st.sampled_from(["PER", "ORG"]))))
        out.append(chosen)
    return out


@given(span_sets())
@settings(max_examples=200, deadline=None)
def test_every_kept_position_has_a_majority_and_agreement_is_pairwise_f1(
    annotators: list[list[tuple[int, int, str]]],
) -> None:
    result = consensus(PLAIN, [{"e": spans(*keys)} for keys in annotators])
    kept = result.payload.get("e", [])
    for span in kept:
        for position in range(span["start"], span["end"]):
            votes = sum(
                any(s <= position < e and label == span["label"] for s, e, label in keys)
                for keys in annotators
            )
            assert 2 * votes > len(annotators)
    sets = [set(keys) for keys in annotators]
    assert result.fields["e"].agreement == pytest.approx(mean_pairwise_f1(sets))
    if len(annotators) == 1:
        assert kept == spans(*annotators[0])  # a single annotation is its own consensus
    if all(keys == annotators[0] for keys in annotators):
        assert result.fields["e"].agreement == 1.0


@given(span_sets())
@settings(max_examples=200, deadline=None)
def test_pairwise_f1_is_the_qa_report_exact_f1(
    annotators: list[list[tuple[int, int, str]]],
) -> None:
    for first in annotators:
        for second in annotators:
            if first and second:
                expected = span_agreement(first, second, mode="exact").micro.f1
                assert mean_pairwise_f1([set(first), set(second)]) == pytest.approx(expected)
