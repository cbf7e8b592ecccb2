"""Gold accuracy with Wilson intervals, checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from annotary.core.quality.gold import gold_accuracy, gold_difficulty, wilson_interval


@pytest.mark.parametrize("n", [1, 2, 5, 10, 37, 100, 1000])
def test_wilson_matches_statsmodels_for_every_count(n: int) -> None:
    for successes in range(n + 1):
        low, high = wilson_interval(successes, n)
        ref_low, ref_high = proportion_confint(successes, n, alpha=0.05, method="wilson")
        assert low == pytest.approx(ref_low, abs=1e-12)
        assert high == pytest.approx(ref_high, abs=1e-12)


def test_wilson_other_levels_and_arrays() -> None:
    successes = np.array([0, 3, 7, 12])
    n = np.array([4, 10, 7, 50])
    low, high = wilson_interval(successes, n, z=2.5758293035489004)  # 99%
    ref_low, ref_high = proportion_confint(successes, n, alpha=0.01, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_wilson_without_data_and_bad_input() -> None:
    low, high = wilson_interval(0, 0)
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        wilson_interval(5, 4)


def test_gold_accuracy_per_annotator_and_field() -> None:
    annotators = np.array([0, 0, 0, 0, 1, 1, 1])
    fields = np.array([0, 0, 0, 1, 0, 1, 1])
    correct = np.array([True, True, False, True, False, True, True])
    acc = gold_accuracy(annotators, fields, correct, n_annotators=3, n_fields=2)
    assert acc.answered.tolist() == [[3, 1], [1, 2], [0, 0]]
    assert acc.correct.tolist() == [[2, 1], [0, 2], [0, 0]]
    np.testing.assert_allclose(acc.accuracy[:2], [[2 / 3, 1.0], [0.0, 1.0]])
    assert np.isnan(acc.accuracy[2]).all() and np.isnan(acc.ci_low[2]).all()
    ref_low, ref_high = proportion_confint(2, 3, method="wilson")
    assert acc.ci_low[0, 0] == pytest.approx(ref_low)
    assert acc.ci_high[0, 0] == pytest.approx(ref_high)


def test_gold_difficulty_is_the_share_wrong() -> None:
    items = np.array([0, 0, 0, 0, 1, 1, 2])
    correct = np.array([False, False, False, True, True, True, False])
    hard = gold_difficulty(items, correct, n_gold_items=4)
    assert hard.answered.tolist() == [4, 2, 1, 0]
    assert hard.wrong.tolist() == [3, 0, 1, 0]
    np.testing.assert_allclose(hard.difficulty[:3], [0.75, 0.0, 1.0])
    assert np.isnan(hard.difficulty[3])
    ref_low, _ = proportion_confint(3, 4, method="wilson")
    assert hard.ci_low[0] == pytest.approx(ref_low)


def test_gold_accuracy_rejects_mismatched_rows() -> None:
    with pytest.raises(ValueError, match="one entry per row"):
        gold_accuracy([0, 1], [0, 0], [True], 2, 1)
    with pytest.raises(ValueError, match="annotator_codes must lie"):
        gold_accuracy([0, 3], [0, 0], [True, False], 2, 1)
