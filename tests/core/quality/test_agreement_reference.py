"""Randomised comparisons with the reference libraries, to 1e-9.

krippendorff (Castro), statsmodels, scikit-learn and SciPy are test-only
references. Where a reference has no number (NaN, or it raises) because the
statistic is undefined, ours must raise E601; where ours raises, the reference
must have no number either. Fleiss/AC1/BP with missing ratings and MASI alpha,
which no installed library computes, are checked against exact-fraction
re-implementations written from the papers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import krippendorff
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from annotary.core.quality import (
    LEVELS,
    alpha_masi,
    bootstrap_alpha,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    kendall_tau_b,
    krippendorff_alpha,
    spearman_rho,
)
from annotary.core.quality.agreement import Weights
from annotary.core.quality.coincidence import Level, _by_coder_pairs, _by_unit_counts, pairable
from annotary.core.quality.ranking import _inversions
from annotary.errors import E_AGREEMENT_UNDEFINED, Invalid

Draw = Callable[[st.SearchStrategy[Any]], Any]
Codes = npt.NDArray[np.int64]
REFERENCE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOLERANCE = 1e-9


@st.composite
def code_matrices(
    draw: Draw, min_coders: int = 1, max_coders: int = 6, missing: bool = True
) -> tuple[Codes, int]:
    """A units x coders codes matrix (-1 = missing) and its number of categories."""
    units = draw(st.integers(1, 25))
    coders = draw(st.integers(min_coders, max_coders))
    k = draw(st.integers(1, 5))
    cell = st.integers(-1 if missing else 0, k - 1)
    flat = draw(st.lists(cell, min_size=units * coders, max_size=units * coders))
    return np.array(flat, dtype=np.int64).reshape(units, coders), k


def reference(compute: Callable[[], Any]) -> float | None:
    """A reference library's value, or None when it has no finite number."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = float(compute())
        except (ValueError, ZeroDivisionError):
            return None
    return value if np.isfinite(value) else None


def outcome(call: Callable[[], float]) -> float | Invalid:
    """The value of `call`, or the Invalid it raised."""
    try:
        return call()
    except Invalid as error:
        return error


def assert_same(ours: Callable[[], float], theirs: float | None) -> None:
    result = outcome(ours)
    if isinstance(result, Invalid):
        assert result.code == E_AGREEMENT_UNDEFINED
        assert result.message.startswith("agreement undefined: ")
        assert theirs is None, f"we raised ({result.message}) but the reference gives {theirs}"
        return
    assert theirs is not None, f"we gave {result} where the reference has no number"
    assert abs(result - theirs) <= TOLERANCE, (result, theirs)


@REFERENCE
@given(
    code_matrices(),
    st.sampled_from(LEVELS),
    st.lists(st.integers(0, 20), min_size=5, max_size=5, unique=True),
)
def test_alpha_matches_krippendorff(
    matrix: tuple[Codes, int], level: Level, pool: list[int]
) -> None:
    codes, k = matrix
    category_values = np.array(pool[:k], dtype=np.float64)  # unsorted on purpose
    values = np.where(codes >= 0, category_values[np.maximum(codes, 0)], np.nan)
    theirs = reference(
        lambda: krippendorff.alpha(reliability_data=values.T, level_of_measurement=level)
    )
    assert_same(lambda: krippendorff_alpha(values, level), theirs)
    assert_same(lambda: krippendorff_alpha(codes, level, values=category_values), theirs)
    if level in ("nominal", "ordinal"):  # codes alone: their positions are the order
        positions = np.where(codes >= 0, codes, np.nan)
        theirs = reference(
            lambda: krippendorff.alpha(reliability_data=positions.T, level_of_measurement=level)
        )
        assert_same(lambda: krippendorff_alpha(codes, level), theirs)


@REFERENCE
@given(code_matrices(min_coders=2, missing=False))
def test_fleiss_matches_statsmodels(matrix: tuple[Codes, int]) -> None:
    codes, k = matrix
    table, _ = aggregate_raters(codes, n_cat=k)
    theirs = reference(lambda: statsmodels_fleiss(table, method="fleiss"))
    assert_same(lambda: fleiss_kappa(codes, k), theirs)


@REFERENCE
@given(
    st.integers(1, 5).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1),
        )
    ),
    st.sampled_from([None, "linear", "quadratic"]),
    st.lists(st.integers(0, 40), max_size=5),
)
def test_cohen_matches_sklearn(
    data: tuple[int, list[tuple[int, int]]], weights: Weights | None, gaps: list[int]
) -> None:
    k, pairs = data
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    theirs = reference(lambda: cohen_kappa_score(a, b, labels=list(range(k)), weights=weights))
    # units where one coder is missing must not change anything
    for gap in gaps:
        at = gap % (len(a) + 1)
        a.insert(at, -1 if gap % 2 else 0)
        b.insert(at, 0 if gap % 2 else -1)
    assert_same(lambda: cohen_kappa(a, b, weights, n_categories=k), theirs)


scores = st.one_of(
    st.lists(st.integers(0, 6), min_size=2, max_size=60),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=60),
)


@REFERENCE
@given(scores.flatmap(lambda x: st.tuples(st.just(x), st.permutations(x))), st.randoms())
def test_rank_correlations_match_scipy(pair: tuple[list[float], list[float]], rnd: Any) -> None:
    x, y = pair
    y = [v if rnd.random() < 0.7 else rnd.choice(x) for v in y]  # extra ties, not a permutation
    assert_same(lambda: kendall_tau_b(x, y), reference(lambda: stats.kendalltau(x, y).statistic))
    assert_same(lambda: spearman_rho(x, y), reference(lambda: stats.spearmanr(x, y).statistic))


@REFERENCE
@given(st.lists(st.integers(0, 9), max_size=80))
def test_inversion_count_is_brute_force(ranks: list[int]) -> None:
    brute = sum(ranks[i] > ranks[j] for i in range(len(ranks)) for j in range(i + 1, len(ranks)))
    assert _inversions(np.array(ranks, dtype=np.int64)) == brute


@REFERENCE
@given(code_matrices(), st.lists(st.integers(0, 3), min_size=25, max_size=25))
def test_coincidence_paths_agree(matrix: tuple[Codes, int], multiplicity: list[int]) -> None:
    codes, k = matrix
    kept = pairable(codes)
    weights = np.array(multiplicity[: kept.shape[0]], dtype=np.float64)
    for unit_weights in (None, weights):
        by_counts = _by_unit_counts(kept, k, unit_weights)
        by_pairs = _by_coder_pairs(kept, k, unit_weights)
        assert np.allclose(by_counts, by_pairs, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- exact re-implementations


def exact_multi_rater(rows: list[list[int]], q: int) -> dict[str, float | None]:
    """Fleiss, AC1, BP per Gwet (2014) with units of < 2 ratings dropped, in fractions."""
    units = [[v for v in row if v >= 0] for row in rows]
    units = [u for u in units if len(u) >= 2]
    if not units:
        return {"fleiss": None, "ac1": None, "bp": None}
    agree = [
        Fraction(sum(u.count(c) * (u.count(c) - 1) for c in set(u)), len(u) * (len(u) - 1))
        for u in units
    ]
    p_a = sum(agree, Fraction(0)) / len(units)
    shares = [
        sum((Fraction(u.count(c), len(u)) for u in units), Fraction(0)) / len(units)
        for c in range(q)
    ]
    p_fleiss = sum(s * s for s in shares)
    p_gwet = sum(s * (1 - s) for s in shares) / (q - 1)
    chance = Fraction(1, q)
    return {
        "fleiss": None if p_fleiss == 1 else float((p_a - p_fleiss) / (1 - p_fleiss)),
        "ac1": float((p_a - p_gwet) / (1 - p_gwet)),
        "bp": float((p_a - chance) / (1 - chance)),
    }


@REFERENCE
@given(code_matrices(min_coders=2))
def test_multi_rater_with_missing_matches_exact_formula(matrix: tuple[Codes, int]) -> None:
    codes, k = matrix
    q = max(k, 2)
    exact = exact_multi_rater(codes.tolist(), q)
    assert_same(lambda: fleiss_kappa(codes, q), exact["fleiss"])
    assert_same(lambda: gwet_ac1(codes, q), exact["ac1"])
    assert_same(lambda: brennan_prediger(codes, q), exact["bp"])


def exact_masi(a: frozenset[str], b: frozenset[str]) -> Fraction:
    if a == b:
        return Fraction(0)
    jaccard = Fraction(len(a & b), len(a | b))
    monotonicity = Fraction(2, 3) if a < b or b < a else Fraction(1, 3) if a & b else Fraction(0)
    return 1 - jaccard * monotonicity


def exact_masi_alpha(units: list[list[frozenset[str] | None]]) -> float | None:
    """alpha = 1 - D_o / D_e from all ordered pairs of values (Krippendorff 2011, sec. G)."""
    values = [[v for v in unit if v is not None] for unit in units]
    values = [u for u in values if len(u) >= 2]
    n = sum(len(u) for u in values)
    pooled = [v for u in values for v in u]
    observed = sum(
        (
            sum(exact_masi(a, b) for i, a in enumerate(u) for j, b in enumerate(u) if i != j)
            / (len(u) - 1)
            for u in values
        ),
        Fraction(0),
    )
    expected = sum(
        exact_masi(a, b) for i, a in enumerate(pooled) for j, b in enumerate(pooled) if i != j
    )
    if n == 0 or expected == 0:
        return None
    return float(1 - (n - 1) * observed / expected)


label_sets = st.frozensets(st.sampled_from("abc"), max_size=3)


@REFERENCE
@given(st.lists(st.lists(st.none() | label_sets, min_size=1, max_size=4), min_size=1, max_size=12))
def test_masi_alpha_matches_exact_pairwise_definition(
    units: list[list[frozenset[str] | None]],
) -> None:
    assert_same(lambda: alpha_masi(units), exact_masi_alpha(units))


def test_bootstrap_is_seeded_and_matches_naive_unit_resampling() -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 60)
    codes = np.where(rng.random((60, 3)) < 0.7, truth[:, None], rng.integers(0, 3, (60, 3)))
    codes[rng.random(codes.shape) < 0.15] = -1
    interval = bootstrap_alpha(codes, "ordinal", n_boot=1000, seed=3)
    assert interval == bootstrap_alpha(codes, "ordinal", n_boot=1000, seed=3)
    assert interval != bootstrap_alpha(codes, "ordinal", n_boot=1000, seed=4)
    kept = pairable(codes)
    naive_rng = np.random.default_rng(11)
    naive = [
        krippendorff_alpha(kept[naive_rng.integers(0, kept.shape[0], kept.shape[0])], "ordinal")
        for _ in range(1000)
    ]
    low, high = np.quantile(naive, [0.025, 0.975])
    assert interval[0] < krippendorff_alpha(codes, "ordinal") < interval[1]
    assert interval == pytest.approx((low, high), abs=0.03)
