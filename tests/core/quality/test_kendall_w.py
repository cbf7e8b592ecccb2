"""Kendall's W against SciPy through an identity, and its degenerate cases.

Without ties, the mean Spearman rho over all pairs of m raters equals
(m W - 1) / (m - 1) (Kendall 1948, *Rank Correlation Methods*, ch. 6), so
`scipy.stats.spearmanr` is a reference for W. The published worked examples
(one untied, one with ties) are in tests/data/qa_vectors/kendall_w_*.json.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from annotary.core.quality import kendall_w
from annotary.errors import Invalid


@st.composite
def permutations(draw: st.DrawFn) -> list[list[int]]:
    """m raters (2-6) each ranking the same n objects (2-9) without ties."""
    raters = draw(st.integers(2, 6))
    objects = draw(st.integers(2, 9))
    return [draw(st.permutations(list(range(1, objects + 1)))) for _ in range(raters)]


@given(permutations())
@settings(max_examples=300, deadline=None)
def test_untied_w_matches_mean_pairwise_spearman_from_scipy(rows: list[list[int]]) -> None:
    raters = len(rows)
    rhos = []
    for a, b in combinations(range(raters), 2):
        rho = stats.spearmanr(rows[a], rows[b]).statistic
        rhos.append(float(rho))
    w = kendall_w(rows)
    assert (raters * w - 1) / (raters - 1) == pytest.approx(float(np.mean(rhos)), abs=1e-9)


@st.composite
def scores_with_ties(draw: st.DrawFn) -> list[list[int]]:
    raters = draw(st.integers(2, 5))
    objects = draw(st.integers(2, 7))
    row = st.lists(st.integers(1, 3), min_size=objects, max_size=objects)
    return [draw(row) for _ in range(raters)]


def exact_w(rows: list[list[int]]) -> Fraction:
    """W written out from the definition with fractions (average ranks, tie correction)."""
    m, n = len(rows), len(rows[0])
    ranks = []
    for row in rows:
        ordered = sorted(row)
        ranks.append([Fraction(2 * ordered.index(v) + 1 + ordered.count(v), 2) for v in row])
    sums = [sum(r[j] for r in ranks) for j in range(n)]
    mean = sum(sums, Fraction(0)) / n
    spread = sum((s - mean) ** 2 for s in sums)
    ties = sum(row.count(v) ** 3 - row.count(v) for row in rows for v in set(row))
    return 12 * spread / (m * m * (n**3 - n) - m * ties)


@given(scores_with_ties())
@settings(max_examples=300, deadline=None)
def test_tied_w_is_the_exact_definition_and_between_0_and_1(rows: list[list[int]]) -> None:
    if all(len(set(row)) == 1 for row in rows):
        with pytest.raises(Invalid) as raised:
            kendall_w(rows)
        assert raised.value.code == "E601"
        return
    w = kendall_w(rows)
    assert w == pytest.approx(float(exact_w(rows)), abs=1e-12)
    assert -1e-12 <= w <= 1 + 1e-12
    assert kendall_w(rows[::-1]) == pytest.approx(w, abs=1e-12)  # rater order is irrelevant


def test_identical_orders_agree_fully_and_opposite_pairs_not_at_all() -> None:
    assert kendall_w([[1, 2, 3, 4]] * 3) == pytest.approx(1.0)
    assert kendall_w([[1, 2, 3, 4], [4, 3, 2, 1]]) == pytest.approx(0.0)
    # One rater ties two objects the others order: still high, below 1.
    assert 0.8 < kendall_w([[1, 2, 3], [1, 2, 3], [1, 1, 3]]) < 1


@pytest.mark.parametrize(
    "rows", [[[1, 2, 3]], [[1], [1]], [[1, 1], [2, 2]], [[1, float("nan")], [1, 2]], [1, 2]]
)
def test_undefined_cases_are_e601(rows: object) -> None:
    with pytest.raises(Invalid) as raised:
        kendall_w(rows)  # type: ignore[arg-type]
    assert raised.value.code == "E601"
