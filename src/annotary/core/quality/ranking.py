"""Agreement between rankings and between pairwise preference judgements.

`kendall_tau_b` and `spearman_rho` compare two annotators' scores or ranks of
the same items (ties allowed); `kendall_w` measures how well any number of
annotators agree on one ordering; `pairwise_preference_agreement` measures how
often annotators make the same choice on a pairwise comparison (A, B or tie).

Interpretation of correlations (Cohen 1988, Statistical Power Analysis, 2nd ed.):
|r| around .10 small, .30 medium, .50 large. These describe effect sizes; there
is no published threshold for annotator agreement on rankings, so compare with
the agreement of experienced annotators on the same guideline.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import agreement_undefined, as_codes, category_counts

Floats = npt.NDArray[np.float64]


def _paired(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[Floats, Floats]:
    try:
        first = np.asarray(x, dtype=np.float64)
        second = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise agreement_undefined("scores must be numbers", "x") from None
    if first.ndim != 1 or first.shape != second.shape:
        raise agreement_undefined(
            f"need two score vectors of equal length; got shapes {first.shape}, {second.shape}"
        )
    if not (np.all(np.isfinite(first)) and np.all(np.isfinite(second))):
        raise agreement_undefined("scores must be finite numbers (drop missing pairs first)")
    if first.size < 2:
        raise agreement_undefined("a correlation needs at least two items")
    return first, second


def _tied_pairs(values: Floats) -> int:
    """Number of pairs of equal values: sum over tie groups of t (t - 1) / 2."""
    _, size = np.unique(values, return_counts=True)
    return int((size * (size - 1) // 2).sum())


def _inversions(ranks: npt.NDArray[np.int64]) -> int:
    """Pairs i < j with ranks[i] > ranks[j]: bottom-up merge sort, one vectorised
    pass per level (keys offset by block so one global sort merges every block)."""
    n = ranks.size
    span = int(ranks.max()) + 1 if n else 1
    position = np.arange(n)
    values = ranks.astype(np.int64)
    total = 0
    width = 1
    while width < n:
        block = position // (2 * width)
        right = (position // width) % 2 == 1
        keys = block * span + values  # each run of `width` is sorted already
        left_keys = keys[~right]
        right_keys = keys[right]
        # left elements of the same block greater than each right element
        not_greater = np.searchsorted(left_keys, right_keys, side="right")
        block_end = np.searchsorted(left_keys, (block[right] + 1) * span, side="left")
        total += int((block_end - not_greater).sum())
        values = np.sort(keys) - block * span
        width *= 2
    return total


def kendall_tau_b(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Kendall's tau-b (Kendall 1945): (C - D) / sqrt((n0 - n1)(n0 - n2)), ties allowed.

    C, D: concordant and discordant pairs; n0 = n(n-1)/2; n1, n2: pairs tied in x,
    in y. O(n log^2 n) via Knight's (1966) inversion count. Equals
    `scipy.stats.kendalltau` (variant 'b'). Undefined (E601) if x or y is constant.
    Correlation bands: Cohen (1988) .10 small, .30 medium, .50 large.

    >>> kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4])
    0.6666666666666666
    """
    first, second = _paired(x, y)
    n = first.size
    order = np.lexsort((second, first))  # by x, ties in x broken by y ascending
    _, y_ranks = np.unique(second[order], return_inverse=True)
    discordant = _inversions(y_ranks.reshape(-1).astype(np.int64))
    all_pairs = n * (n - 1) // 2
    tied_x, tied_y = _tied_pairs(first), _tied_pairs(second)
    _, joint_size = np.unique(np.column_stack([first, second]), axis=0, return_counts=True)
    tied_both = int((joint_size * (joint_size - 1) // 2).sum())  # equal in x and in y
    if tied_x == all_pairs or tied_y == all_pairs:
        raise agreement_undefined("all scores of one annotator are tied (no ordering)")
    score = all_pairs - tied_x - tied_y + tied_both - 2 * discordant  # C - D
    return score / math.sqrt((all_pairs - tied_x) * (all_pairs - tied_y))


def average_ranks(values: npt.ArrayLike) -> Floats:
    """Ranks 1..n, tied values sharing their mean rank (scipy ``rankdata('average')``).

    >>> average_ranks([10, 20, 20, 30]).tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    _, group, size = np.unique(array, return_inverse=True, return_counts=True)
    last = np.cumsum(size)  # rank of each group's last member
    mean_rank = last - (size - 1) / 2.0
    ranks: Floats = mean_rank[group.reshape(-1)]
    return ranks


def spearman_rho(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman's rho (1904): Pearson correlation of average ranks (ties allowed).

    Equals `scipy.stats.spearmanr`. Undefined (E601) if x or y is constant.
    Correlation bands: Cohen (1988) .10 small, .30 medium, .50 large.

    >>> spearman_rho([1, 2, 3, 4], [1, 3, 2, 4])
    0.8
    """
    first, second = _paired(x, y)
    rx = average_ranks(first)
    ry = average_ranks(second)
    rx -= rx.mean()
    ry -= ry.mean()
    sxx, syy = float(rx @ rx), float(ry @ ry)
    if sxx == 0.0 or syy == 0.0:
        raise agreement_undefined("all scores of one annotator are tied (no ordering)")
    return float(rx @ ry) / math.sqrt(sxx * syy)


def pairwise_preference_agreement(choices: npt.ArrayLike, n_categories: int = 3) -> float:
    """Share of annotator pairs making the same pairwise choice, averaged over items.

    `choices` is a comparisons x annotators codes matrix (e.g. 0 = A preferred,
    1 = B preferred, 2 = tie; -1 = not judged); a tie is a choice like any other,
    so two annotators agree only if both pick A, both B, or both call it a tie.
    Per comparison with m judgements, agreement = sum_k n_k (n_k - 1) / (m (m - 1))
    (the share of agreeing annotator pairs; Fleiss 1971's P_i); the result is the
    unweighted mean over comparisons with at least two judgements. Not chance-
    corrected (for that use `fleiss_kappa` on the same matrix): with three options
    chosen at random it is about 1/3, so read it against that baseline.

    >>> pairwise_preference_agreement([[0, 0, 0], [0, 1, 2], [1, 1, -1]])
    0.6666666666666666
    """
    counts = category_counts(as_codes(choices, n_categories), n_categories)
    judged = counts.sum(axis=1)
    kept = judged >= 2
    if not kept.any():
        raise agreement_undefined("no comparison has two or more judgements")
    agreeing = (counts[kept] * (counts[kept] - 1)).sum(axis=1)
    per_item = agreeing / (judged[kept] * (judged[kept] - 1))
    return float(per_item.mean())


def kendall_w(scores: npt.ArrayLike) -> float:
    """Kendall's coefficient of concordance W, corrected for ties.

    `scores` is a raters x objects matrix (every rater scores or ranks every
    object; only the order within a row matters, equal values are ties). Each
    row becomes average ranks; with rank sums R_j over the m raters of the n
    objects, S = sum_j (R_j - mean R)^2 and, per rater, T = sum over its tie
    groups of (t^3 - t):

        W = 12 S / (m^2 (n^3 - n) - m sum T)

    (Kendall & Babington Smith 1939, *The problem of m rankings*, Annals of
    Mathematical Statistics 10(3):275-287; tie correction as in Kendall 1948,
    *Rank Correlation Methods*, and Siegel & Castellan 1988, *Nonparametric
    Statistics for the Behavioral Sciences*, 2nd ed., eq. 9.16). W is 1 when all
    raters give the same order and 0 when the rank sums are all equal. Without
    ties, the mean Spearman rho over all pairs of raters is (m W - 1) / (m - 1).
    Undefined (E601) with fewer than 2 raters or 2 objects, or when every rater
    ties every object. Bands (Schmidt 1997, *Managing Delphi surveys using
    nonparametric statistical techniques*, Decision Sciences 28(3):763-774):
    .1 very weak, .3 weak, .5 moderate, .7 strong, .9 unusually strong agreement.

    >>> kendall_w([[1, 2, 3], [1, 2, 3], [1, 3, 2]])
    0.7777777777777778
    >>> kendall_w([[1, 1, 2], [1, 2, 3]])  # 13/14
    0.9285714285714286
    """
    try:
        matrix = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise agreement_undefined("scores must be numbers", "scores") from None
    if matrix.ndim != 2:
        raise agreement_undefined(f"need a raters x objects matrix; got shape {matrix.shape}")
    raters, objects = matrix.shape
    if raters < 2 or objects < 2:
        raise agreement_undefined("concordance needs at least 2 raters and 2 objects")
    if not np.all(np.isfinite(matrix)):
        raise agreement_undefined("scores must be finite numbers (every rater scores every object)")
    ranks = np.vstack([average_ranks(row) for row in matrix])
    sums = ranks.sum(axis=0)
    spread = float(((sums - sums.mean()) ** 2).sum())
    ties = 0
    for row in matrix:
        _, size = np.unique(row, return_counts=True)
        ties += int((size**3 - size).sum())
    denominator = raters**2 * (objects**3 - objects) - raters * ties
    if denominator == 0:
        raise agreement_undefined("every rater ties every object (no ordering)")
    return float(12.0 * spread / denominator)
