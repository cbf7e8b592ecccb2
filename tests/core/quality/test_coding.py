"""Label encoding and the small building blocks around the statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotary.core.quality import (
    category_counts,
    encode_long,
    encode_observations,
    encode_wide,
    krippendorff_alpha,
    masi_distance,
    pairwise_preference_agreement,
    span_agreement,
)
from annotary.core.quality.spans import MatchMode


def test_encode_wide_sorts_labels_and_treats_none_and_nan_as_missing() -> None:
    codes, categories = encode_wide([[3, None], [1, math.nan], [2, 3]])
    assert categories == [1, 2, 3]
    assert codes.tolist() == [[2, -1], [0, -1], [1, 2]]
    assert codes.dtype == np.int64


def test_encode_wide_keeps_given_category_order_and_unused_categories() -> None:
    codes, categories = encode_wide([["high", "low"]], ["low", "mid", "high"])
    assert categories == ["low", "mid", "high"]
    assert codes.tolist() == [[2, 0]]


def test_encode_wide_with_unsortable_labels_uses_first_appearance() -> None:
    _, categories = encode_wide([["b", 1], [None, "a"]])
    assert categories == ["b", 1, "a"]


def test_encode_wide_accepts_numpy_rows_and_numpy_nan() -> None:
    codes, categories = encode_wide(np.array([[1.0, np.nan], [2.0, 1.0]], dtype=np.float32))
    assert categories == [1.0, 2.0]
    assert codes.tolist() == [[0, -1], [1, 0]]


def test_encode_wide_of_nothing() -> None:
    codes, categories = encode_wide([])
    assert codes.shape == (0, 0)
    assert categories == []


def test_encode_long_orders_items_and_annotators_by_first_appearance() -> None:
    coded = encode_long(
        [("i2", "bob", "no"), ("i1", "ann", "yes"), ("i2", "ann", "yes"), ("i3", "cy", None)]
    )
    assert coded.items == ["i2", "i1"]
    assert coded.annotators == ["bob", "ann"]
    assert coded.categories == ["no", "yes"]
    assert coded.codes.tolist() == [[0, 1], [-1, 1]]


def test_encode_observations_keeps_repeats_for_aggregation() -> None:
    obs = encode_observations([(1, "a", "x"), (1, "a", "x"), (2, "b", "y")])
    assert obs.item.tolist() == [0, 0, 1]
    assert obs.annotator.tolist() == [0, 0, 1]
    assert obs.label.tolist() == [0, 0, 1]


def test_category_counts_ignores_missing() -> None:
    assert category_counts([[0, -1, 0], [-1, -1, -1]], 3).tolist() == [[2, 0, 0], [0, 0, 0]]


def test_wide_and_long_encodings_give_the_same_alpha() -> None:
    rows: list[list[str | None]] = [
        ["a", "b", None],
        ["b", "b", "b"],
        ["a", None, "a"],
        ["c", "a", "c"],
    ]
    wide, _ = encode_wide(rows)
    triples = [(u, c, v) for u, row in enumerate(rows) for c, v in enumerate(row)]
    assert krippendorff_alpha(wide) == krippendorff_alpha(encode_long(triples).codes)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ({"x"}, {"x"}, 0.0),
        (set(), set(), 0.0),
        ({"x"}, {"y"}, 1.0),
        (set(), {"y"}, 1.0),
        ({"x", "y"}, {"x", "y", "z"}, 1 - (2 / 3) * (2 / 3)),  # subset
        ({"x", "y"}, {"y", "z"}, 1 - (1 / 3) * (1 / 3)),  # overlap
    ],
)
def test_masi_distance(a: set[str], b: set[str], distance: float) -> None:
    assert masi_distance(a, b) == pytest.approx(distance, abs=1e-15)
    assert masi_distance(b, a) == masi_distance(a, b)


def test_pairwise_preference_agreement_counts_ties_as_a_choice() -> None:
    # comparison 1: A, A, tie -> 1 of 3 pairs agree; comparison 2: tie, tie -> 1
    assert pairwise_preference_agreement([[0, 0, 2], [2, 2, -1]]) == pytest.approx(2 / 3)


def test_span_macro_is_the_mean_over_labels() -> None:
    result = span_agreement([(0, 2, "A"), (3, 4, "B")], [(0, 2, "A"), (5, 6, "B")])
    assert result.per_label["A"].f1 == 1.0
    assert result.per_label["B"].f1 == 0.0
    assert (result.macro_precision, result.macro_recall, result.macro_f1) == (0.5, 0.5, 0.5)
    assert result.micro.f1 == 0.5


def test_span_f1_is_symmetric_between_annotators() -> None:
    a = [(0, 5, "X"), (7, 9, "X"), (10, 12, "Y")]
    b = [(1, 3, "X"), (3, 6, "X"), (10, 11, "Z")]
    modes: tuple[MatchMode, ...] = ("exact", "overlap")
    for mode in modes:
        ab = span_agreement(a, b, mode=mode)
        ba = span_agreement(b, a, mode=mode)
        assert ab.micro.f1 == ba.micro.f1
        assert (ab.micro.precision, ab.micro.recall) == (ba.micro.recall, ba.micro.precision)
