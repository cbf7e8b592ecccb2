"""Bias checks: chi-square and Cramér's V against scipy, suppression of small groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats.contingency import association

from annotary.core.quality.bias import (
    SUPPRESSED,
    bias_tag_rates,
    cramers_v,
    label_association,
    labels_by_annotator_group,
    labels_by_item_metadata,
    pool_diversity,
)
from annotary.core.quality.gold import wilson_interval


def test_chi_square_and_cramers_v_match_scipy() -> None:
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 4, 500)
    labels = np.where(rng.random(500) < 0.3, rows % 3, rng.integers(0, 3, 500))
    result = label_association(rows, labels, 4, 3)
    table = np.zeros((4, 3), dtype=int)
    np.add.at(table, (rows, labels), 1)
    assert (result.table == table).all()
    reference = stats.chi2_contingency(table, correction=False)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.dof == reference.dof
    assert result.cramers_v == pytest.approx(association(table, method="cramer"))
    assert cramers_v(table) == pytest.approx(association(table, method="cramer"))


def test_two_by_two_uses_no_continuity_correction() -> None:
    table = np.array([[12, 5], [3, 10]])
    rows = np.repeat([0, 0, 1, 1], table.ravel())
    labels = np.repeat([0, 1, 0, 1], table.ravel())
    result = label_association(rows, labels, 2, 2)
    assert result.chi2 == pytest.approx(stats.chi2_contingency(table, correction=False).statistic)
    assert result.cramers_v == pytest.approx(association(table, method="cramer"))


def test_empty_rows_and_columns_are_left_out_of_the_test() -> None:
    result = label_association([0, 0, 2, 2], [0, 1, 0, 0], 3, 4)
    reference = stats.chi2_contingency(np.array([[1, 1], [2, 0]]), correction=False)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.dof == 1
    single = label_association([0, 0], [1, 1], 2, 2)
    assert np.isnan(single.chi2) and np.isnan(single.cramers_v)


def _group_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # groups: 0 has 6 annotators, 1 has 8, 2 has 3 (below k = 5); -1 undisclosed
    groups = np.array([0] * 6 + [1] * 8 + [2] * 3 + [-1])
    rng = np.random.default_rng(9)
    workers = rng.integers(0, groups.size, 900)
    labels = rng.integers(0, 3, 900)
    return workers, labels, groups


def test_small_annotator_groups_are_suppressed_with_a_complement() -> None:
    workers, labels, groups = _group_data()
    result = labels_by_annotator_group(workers, labels, groups, n_groups=3, n_labels=3)
    # group 2 (3 people) is below k; alone it would be derivable from the totals, so the
    # next smallest group (0, 6 people) is withheld with it: 9 people together
    assert result.suppressed == (0, 2)
    assert result.groups.tolist() == [1]
    rows = result.rows()
    assert rows[0] == rows[2] == SUPPRESSED
    in_group_1 = groups[workers] == 1
    assert rows[1] == np.bincount(labels[in_group_1], minlength=3).tolist()
    assert np.isnan(result.chi2)  # one reported group: nothing to test


def test_suppressed_counts_never_reach_the_test() -> None:
    # groups: 0 has 6 annotators, 1 has 8, 2 has 3, 3 has 10
    groups = np.array([0] * 6 + [1] * 8 + [2] * 3 + [3] * 10)
    rng = np.random.default_rng(4)
    workers = rng.integers(0, groups.size, 2000)
    labels = np.where(groups[workers] == 2, 0, rng.integers(0, 3, workers.size))
    result = labels_by_annotator_group(workers, labels, groups, n_groups=4, n_labels=3)
    assert result.suppressed == (0, 2)
    assert result.groups.tolist() == [1, 3]
    shown = np.isin(groups[workers], [1, 3])
    table = np.zeros((4, 3), dtype=int)
    np.add.at(table, (groups[workers][shown], labels[shown]), 1)
    reference = stats.chi2_contingency(table[[1, 3]], correction=False)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    lenient = labels_by_annotator_group(workers, labels, groups, n_groups=4, n_labels=3, k=3)
    assert lenient.suppressed == ()
    assert lenient.groups.tolist() == [0, 1, 2, 3]


def test_labels_by_item_metadata_are_not_suppressed() -> None:
    values = np.array([0, 0, 1, -1])
    result = labels_by_item_metadata([0, 1, 2, 3, 2], [0, 0, 1, 1, 1], values, 2, 2)
    assert result.table.tolist() == [[2, 0], [0, 2]]
    assert result.suppressed == ()
    assert result.cramers_v == pytest.approx(1.0)


def test_bias_tag_rates_count_items_once_with_wilson_intervals() -> None:
    rates = bias_tag_rates([0, 0, 1, 1, 1, 4], [2, 2, 2, 0, 0, 0], n_items=10, n_tags=3)
    assert rates.items_tagged.tolist() == [2, 0, 2]
    np.testing.assert_allclose(rates.rate, [0.2, 0.0, 0.2])
    low, high = wilson_interval(2, 10)
    assert rates.ci_low[0] == pytest.approx(low)
    assert rates.ci_high[2] == pytest.approx(high)


def test_pool_diversity_suppresses_small_values_and_pools_them_for_entropy() -> None:
    values = np.array([0] * 10 + [1] * 7 + [2] * 2 + [3] * 4 + [-1] * 3)
    summary = pool_diversity(values, n_values=5)
    assert summary.counts == {0: 10, 1: 7, 2: SUPPRESSED, 3: SUPPRESSED}
    assert 4 not in summary.counts  # nobody holds value 4: not listed at all
    assert summary.n_unknown == 3
    pooled = np.array([10, 7, 6])
    assert summary.entropy == pytest.approx(stats.entropy(pooled))
    assert summary.normalized_entropy == pytest.approx(stats.entropy(pooled) / np.log(3))
    even = pool_diversity(np.repeat([0, 1, 2], 5), n_values=3)
    assert even.normalized_entropy == pytest.approx(1.0)


def test_a_lone_small_value_is_complemented() -> None:
    values = np.array([0] * 20 + [1] * 6 + [2] * 2)
    summary = pool_diversity(values, n_values=3)
    # value 2 alone (2 people) could be read off the total; value 1 is withheld too
    assert summary.counts == {0: 20, 1: SUPPRESSED, 2: SUPPRESSED}
