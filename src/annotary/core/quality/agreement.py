"""Chance-corrected agreement on nominal (and ordered) labels, from integer codes.

Two-coder statistics (`percent_agreement`, `cohen_kappa`, `scott_pi`) take two
code vectors and use only the units both coders labelled. Multi-coder statistics
(`fleiss_kappa`, `gwet_ac1`, `brennan_prediger`) take a units x coders codes
matrix (-1 = missing) and drop units with fewer than two ratings, which carry no
agreement information; with two coders they then equal their contingency-table
forms over the complete pairs.

Interpretation (Landis & Koch 1977, Biometrics 33:159-174, for kappa-type
coefficients): < 0 poor, 0-.20 slight, .21-.40 fair, .41-.60 moderate,
.61-.80 substantial, .81-1 almost perfect. The bands are conventions, not tests.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import (
    Codes,
    agreement_undefined,
    as_codes,
    category_counts,
    n_categories_of,
)

Weights = Literal["linear", "quadratic"]
MAX_TABLE_CATEGORIES: Final = 4096  # a K x K table of this size is 128 MiB


def _complete_pairs(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[Codes, Codes]:
    first, second = as_codes(a, ndim=1), as_codes(b, ndim=1)
    if first.shape != second.shape:
        raise agreement_undefined(
            f"the two coders have {first.size} and {second.size} codes; need one per unit"
        )
    both = (first >= 0) & (second >= 0)
    if not both.any():
        raise agreement_undefined("no unit was labelled by both coders")
    return first[both], second[both]


def contingency_table(a: npt.ArrayLike, b: npt.ArrayLike, n_categories: int | None = None) -> Codes:
    """Categories x categories counts (rows = coder a, columns = coder b), complete pairs.

    >>> contingency_table([0, 1, 1, -1], [0, 1, 0, 1]).tolist()
    [[1, 0], [1, 1]]
    """
    first, second = _complete_pairs(a, b)
    k = max(int(first.max()), int(second.max())) + 1
    if n_categories is not None:
        if n_categories < k:
            raise agreement_undefined(
                f"code {k - 1} is out of range for {n_categories} categories", "n_categories"
            )
        k = n_categories
    if k > MAX_TABLE_CATEGORIES:
        raise agreement_undefined(
            f"{k} categories exceed the {MAX_TABLE_CATEGORIES} a contingency table supports "
            "here; merge rare categories",
            "n_categories",
        )
    return np.bincount(first * k + second, minlength=k * k).reshape(k, k)


def percent_agreement(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Share of units, among those both coders labelled, with identical codes.

    No chance correction: inflated when one category dominates. A common rule of
    thumb asks for at least .80 (McHugh 2012, Biochemia Medica 22:276-282).

    >>> percent_agreement([0, 1, 1, 2], [0, 1, 0, -1])
    0.6666666666666666
    """
    first, second = _complete_pairs(a, b)
    return int(np.count_nonzero(first == second)) / first.size


def _disagreement_weights(k: int, weights: Weights | None) -> npt.NDArray[np.int64]:
    rows, cols = np.indices((k, k))
    distance: npt.NDArray[np.int64] = np.abs(rows - cols)
    if weights is None:
        return (distance > 0).astype(np.int64)
    if weights == "linear":
        return distance
    if weights == "quadratic":
        return distance * distance
    raise agreement_undefined(
        f"weights {weights!r} is not valid; valid: None, 'linear', 'quadratic'", "weights"
    )


def cohen_kappa(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    weights: Weights | None = None,
    n_categories: int | None = None,
) -> float:
    """Cohen's kappa (1960) for two coders; weighted kappa (Cohen 1968) with `weights`.

    kappa = 1 - sum(w * observed) / sum(w * expected), expected = outer product of
    the two coders' marginals; disagreement weights w are 0/1 (unweighted),
    |i - j| (linear) or (i - j)^2 (quadratic) in category *positions*, so pass
    `n_categories` (and order the codes) when an unused category should count.
    Equals `sklearn.metrics.cohen_kappa_score`. Undefined (E601) when both coders
    used one and the same category only (p_e = 1). Landis & Koch (1977) bands:
    .41-.60 moderate, .61-.80 substantial, > .80 almost perfect.

    >>> cohen_kappa([0, 1, 0, 2, 1], [0, 1, 0, 2, 0])
    0.6875
    """
    first, second = _complete_pairs(a, b)
    table = contingency_table(first, second, n_categories)
    w = _disagreement_weights(table.shape[0], weights).astype(np.float64)
    n = float(table.sum())
    observed = float((w * table).sum())
    # float64: exact below 2^53, and no int64 overflow for large n and quadratic weights
    margins = np.outer(table.sum(axis=1).astype(np.float64), table.sum(axis=0))
    expected = float((w * margins).sum())
    if expected == 0.0:
        raise agreement_undefined(
            "both coders used a single, identical category, so chance agreement is 1"
        )
    return 1.0 - n * observed / expected


def scott_pi(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Scott's pi (1955) for two coders: chance from the pooled category shares.

    pi = (p_o - p_e) / (1 - p_e), p_e = sum_k ((n_1k + n_2k) / 2N)^2 over the N
    units both coders labelled; equals Fleiss' kappa with two coders. Same
    Landis & Koch (1977) bands as kappa. Undefined (E601) when every value is
    the same category.

    >>> scott_pi([0, 0, 1, 1], [0, 1, 1, 1])
    0.4666666666666667
    """
    first, second = _complete_pairs(a, b)
    n = first.size
    pooled = np.bincount(np.concatenate([first, second]))
    square_sum = int((pooled * pooled).sum())  # p_e = square_sum / (2n)^2
    agree = int(np.count_nonzero(first == second))
    if square_sum == 4 * n * n:
        raise agreement_undefined("every value is the same category, so chance agreement is 1")
    return (4 * n * agree - square_sum) / (4 * n * n - square_sum)


Floats = npt.NDArray[np.float64]


def _rated_units(counts: npt.NDArray[np.int64]) -> tuple[Floats, Floats, float]:
    """Units with >= 2 ratings (as floats: BLAS row sums, exact for counts < 2^53),
    their numbers of ratings r_i, and the observed agreement P_a."""
    table = counts.astype(np.float64)
    ones = np.ones(table.shape[1])
    raters = table @ ones
    kept = raters >= 2
    table, raters = table[kept], raters[kept]
    if table.shape[0] == 0:
        raise agreement_undefined("no unit has two or more ratings")
    pairs_agreeing = (table * (table - 1.0)) @ ones
    return table, raters, float(np.mean(pairs_agreeing / (raters * (raters - 1.0))))


def _category_shares(table: Floats, raters: Floats) -> Floats:
    """pi_k: the mean over units of each unit's share of ratings in category k."""
    shares: Floats = (1.0 / raters) @ table / table.shape[0]
    return shares


def fleiss_kappa_counts(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa (1971) from a units x categories count matrix.

    P_i = sum_k n_ik (n_ik - 1) / (r_i (r_i - 1)), P_a = mean_i P_i; pi_k = mean_i
    n_ik / r_i, P_e = sum_k pi_k^2; kappa = (P_a - P_e) / (1 - P_e). With the same
    number of raters r_i per unit this is Fleiss (1971) exactly (=
    `statsmodels.stats.inter_rater.fleiss_kappa`, which requires equal r_i). With
    unequal r_i it is Gwet's (2014, Handbook of Inter-Rater Reliability, 4th ed.)
    generalisation, which averages per-unit shares; units with fewer than
    two ratings are dropped first (irrCAC keeps one-rating units in pi_k; we do
    not). Bands as Landis & Koch (1977); Fleiss (1981): < .40 poor, .40-.75 fair
    to good, > .75 excellent. Undefined (E601) if all ratings share one category.

    >>> round(fleiss_kappa_counts([[3, 0], [0, 3], [2, 1]]), 4)
    0.55
    """
    try:
        array = np.asarray(counts)
    except ValueError:  # ragged nested lists
        array = np.empty(0)
    if array.ndim != 2 or (array.size and array.dtype.kind not in "iuf"):
        raise agreement_undefined("counts must be a units x categories matrix", "counts")
    whole = np.isfinite(array) & (array == np.round(array)) & (array >= 0) & (array < 2**53)
    if not np.all(whole):
        raise agreement_undefined("counts must be non-negative whole numbers", "counts")
    table = array.astype(np.int64)
    return _fleiss(table)


def _fleiss(counts: npt.NDArray[np.int64]) -> float:
    rated, raters, p_a = _rated_units(counts)
    shares = _category_shares(rated, raters)
    if np.count_nonzero(shares) < 2:
        raise agreement_undefined("all ratings fall in one category, so chance agreement is 1")
    p_e = float(shares @ shares)
    return (p_a - p_e) / (1.0 - p_e)


def fleiss_kappa(codes: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Fleiss' kappa (1971) from a units x coders codes matrix (-1 = missing).

    Counts the codes per unit and category, then `fleiss_kappa_counts` (see there
    for unequal numbers of ratings and the interpretation bands).

    >>> round(fleiss_kappa([[0, 0, 0], [1, 1, 1], [0, 0, 1]]), 4)
    0.55
    """
    return _fleiss(category_counts(codes, n_categories))


def _multi_rater(
    codes: npt.ArrayLike, n_categories: int | None
) -> tuple[Floats, Floats, float, int]:
    matrix = as_codes(codes, n_categories)
    q = n_categories_of(matrix, n_categories)
    if q < 2:
        raise agreement_undefined(
            f"{q} categories: chance agreement needs at least two (pass n_categories)",
            "n_categories",
        )
    rated, raters, p_a = _rated_units(category_counts(matrix, q))
    return rated, raters, p_a, q


def gwet_ac1(codes: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Gwet's AC1 (Gwet 2008, Br J Math Stat Psychol 61:29-48) for two or more coders.

    AC1 = (P_a - P_e) / (1 - P_e), P_e = sum_k pi_k (1 - pi_k) / (q - 1), with P_a
    and pi_k as in `fleiss_kappa_counts` (Gwet 2014 multi-rater form; for two
    coders the contingency-table form over complete pairs). q = `n_categories`
    (default: largest code + 1); pass it when a category went unused. Gwet (2014)
    benchmarks AC1 on the Landis & Koch (1977) scale. Stable when one
    category dominates, where kappa collapses.

    >>> round(gwet_ac1([[0, 0], [1, 1], [0, 1], [0, 0]]), 4)
    0.5294
    """
    rated, raters, p_a, q = _multi_rater(codes, n_categories)
    shares = _category_shares(rated, raters)
    p_e = float((shares * (1.0 - shares)).sum()) / (q - 1)
    return (p_a - p_e) / (1.0 - p_e)


def brennan_prediger(codes: npt.ArrayLike, n_categories: int | None = None) -> float:
    """Brennan & Prediger's (1981) kappa_q: chance agreement fixed at 1/q.

    BP = (P_a - 1/q) / (1 - 1/q), P_a as in `fleiss_kappa_counts`, q =
    `n_categories` (default: largest code + 1); Gwet (2014) benchmarks it on the
    Landis & Koch (1977) scale. Depends on q, so count the categories offered,
    not only those used.

    >>> brennan_prediger([[0, 0], [1, 1], [0, 1], [0, 0]])
    0.5
    """
    _, _, p_a, q = _multi_rater(codes, n_categories)
    return (p_a - 1.0 / q) / (1.0 - 1.0 / q)
