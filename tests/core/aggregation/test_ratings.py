"""MedianRating: lower median, agreement share and MAD against the standard library."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from annotary.core.aggregation import MedianRating


def test_even_counts_take_the_lower_median() -> None:
    mr = MedianRating().fit([0, 0, 0, 0], [0, 1, 2, 3], [4, 1, 3, 2], 1, 4, 5)
    assert mr.labels_.tolist() == [2]
    assert mr.method == "median"


def test_tolerance_widens_the_agreement_share() -> None:
    args = ([0] * 5, list(range(5)), [2, 2, 3, 1, 4], 1, 5, 5)
    assert MedianRating().fit(*args).confidence_.tolist() == [0.4]
    assert MedianRating(tolerance=1).fit(*args).confidence_.tolist() == [0.8]


def test_unrated_items() -> None:
    mr = MedianRating().fit([1], [0], [3], 3, 1, 5)
    assert mr.labels_.tolist() == [-1, 3, -1]
    assert np.isnan(mr.confidence_[[0, 2]]).all()
    assert np.isnan(mr.mad_[0])
    assert mr.counts_.tolist() == [0, 1, 0]


def test_matches_statistics_median_low_on_random_ratings() -> None:
    rng = np.random.default_rng(2)
    n_items, n_levels = 300, 7
    items = rng.integers(0, n_items, 1500)
    ratings = rng.integers(0, n_levels, items.size)
    mr = MedianRating(tolerance=1).fit(items, np.zeros_like(items), ratings, n_items, 1, n_levels)
    for item in range(n_items):
        values = ratings[items == item].tolist()
        if not values:
            assert mr.labels_[item] == -1
            continue
        median = statistics.median_low(values)
        assert mr.labels_[item] == median
        within = sum(abs(v - median) <= 1 for v in values) / len(values)
        assert mr.confidence_[item] == pytest.approx(within)
        assert mr.mad_[item] == statistics.median_low([abs(v - median) for v in values])
