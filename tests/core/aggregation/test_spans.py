"""TokenVote: per-position majority over annotators' spans."""

from __future__ import annotations

import numpy as np
import pytest

from annotary.core.aggregation import AggregatedSpan, TokenVote


def _fit(
    spans: list[tuple[int, int, int, int, int]],
    n_items: int = 1,
    annotators_per_item: list[int] | None = None,
) -> TokenVote:
    """Fit from rows (item, annotator, start, end, label) with 3 labels."""
    rows = np.array(spans, dtype=np.int64).reshape(-1, 5)
    columns = (rows[:, k] for k in range(5))
    return TokenVote().fit(*columns, n_items, 3, annotators_per_item)


def test_strict_majority_of_annotators_keeps_a_position() -> None:
    tv = _fit([(0, 0, 0, 10, 1), (0, 1, 2, 8, 1), (0, 2, 4, 12, 1)])
    # coverage: [0,2) 1 vote, [2,4) 2, [4,8) 3, [8,10) 2, [10,12) 1 -> majority on [2,10)
    (span,) = tv.labels_[0]
    assert (span.start, span.end, span.label) == (2, 10, 1)
    expected = (2 * 2 / 3 + 4 * 1.0 + 2 * 2 / 3) / 8
    assert span.confidence == pytest.approx(expected)
    assert tv.confidence_[0] == pytest.approx(expected)
    assert tv.method == "token_vote"


def test_half_is_not_a_majority() -> None:
    tv = _fit([(0, 0, 0, 5, 0), (0, 1, 5, 9, 0)])
    assert tv.labels_[0] == []
    assert np.isnan(tv.confidence_[0])


def test_silent_annotators_count_in_the_denominator() -> None:
    rows = [(0, 0, 0, 4, 2), (0, 1, 0, 4, 2)]
    assert [(s.start, s.end) for s in _fit(rows).labels_[0]] == [(0, 4)]
    assert _fit(rows, annotators_per_item=[4]).labels_[0] == []
    with pytest.raises(ValueError, match="annotators_per_item is 1"):
        _fit(rows, annotators_per_item=[1])


def test_overlapping_spans_of_one_annotator_vote_once() -> None:
    rows = [(0, 0, 0, 6, 1), (0, 0, 2, 8, 1), (0, 1, 10, 12, 1), (0, 2, 10, 12, 1)]
    tv = _fit(rows)
    assert [(s.start, s.end, s.label) for s in tv.labels_[0]] == [(10, 12, 1)]


def test_labels_are_voted_separately_and_runs_split_on_label_change() -> None:
    rows = [
        (0, 0, 0, 5, 0), (0, 1, 0, 5, 0), (0, 2, 0, 5, 2),
        (0, 0, 5, 9, 2), (0, 1, 5, 9, 2), (0, 2, 5, 9, 2),
    ]  # fmt: skip
    tv = _fit(rows)
    assert tv.labels_[0] == [
        AggregatedSpan(0, 5, 0, pytest.approx(2 / 3)),  # type: ignore[arg-type]
        AggregatedSpan(5, 9, 2, 1.0),
    ]
    assert tv.confidence_[0] == pytest.approx((5 * 2 / 3 + 4 * 1.0) / 9)


def test_items_are_independent_and_empty_items_have_no_spans() -> None:
    rows = [(0, 0, 0, 3, 1), (2, 0, 5, 7, 0), (2, 1, 5, 7, 0), (2, 2, 6, 7, 0)]
    tv = _fit(rows, n_items=3)
    assert [[(s.start, s.end, s.label) for s in item] for item in tv.labels_] == [
        [(0, 3, 1)],
        [],
        [(5, 7, 0)],
    ]
    assert np.isnan(tv.confidence_[1])


def test_agrees_with_a_per_position_count_on_random_spans() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        n_annotators, length = int(rng.integers(1, 6)), 40
        rows = []
        for annotator in range(n_annotators):
            for _ in range(int(rng.integers(0, 4))):
                start = int(rng.integers(0, length - 1))
                rows.append(
                    (
                        0,
                        annotator,
                        start,
                        int(rng.integers(start + 1, length + 1)),
                        int(rng.integers(0, 3)),
                    )
                )
        if not rows:
            continue
        tv = _fit(rows, annotators_per_item=[n_annotators])
        votes = np.zeros((3, length), dtype=int)
        for label in range(3):
            for annotator in range(n_annotators):
                covered = np.zeros(length, dtype=bool)
                for _, a, s, e, lab in rows:
                    if a == annotator and lab == label:
                        covered[s:e] = True
                votes[label] += covered
        passing = np.where(2 * votes > n_annotators, votes, 0)
        expected = np.where(passing.max(axis=0) > 0, passing.argmax(axis=0), -1)
        got = np.full(length, -1)
        for span in tv.labels_[0]:
            got[span.start : span.end] = span.label
        assert (got == expected).all()


def test_rejects_empty_or_reversed_spans() -> None:
    with pytest.raises(ValueError, match="start < end"):
        _fit([(0, 0, 3, 3, 0)])
