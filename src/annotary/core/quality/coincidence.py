"""Krippendorff's coincidence matrix and difference functions (vectorised).

The coincidence matrix o[c, k] counts, over all units with at least two values
("pairable" units), the ordered pairs of values (c, k) from different coders,
each unit's pairs weighted 1 / (m_u - 1) for its m_u values (Krippendorff 2011,
"Computing Krippendorff's Alpha-Reliability", sec. C). Built without a Python
loop over units: per-unit category counts and one matrix product per distinct
m_u, or, when categories outnumber coder pairs, one weighted `np.bincount` per
pair of coder columns.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import Codes, agreement_undefined

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: Final = ("nominal", "ordinal", "interval", "ratio")
Floats = npt.NDArray[np.float64]
MAX_CATEGORIES: Final = 4096  # a K x K float matrix of this size is 128 MiB
_BLOCK: Final = 1 << 22  # per-unit count cells built at a time (32 MiB of int64)


def pairable(codes: Codes) -> Codes:
    """The rows (units) of a codes matrix with at least two values.

    >>> pairable(np.array([[0, -1], [1, 1]])).tolist()
    [[1, 1]]
    """
    kept: Codes = codes[np.count_nonzero(codes >= 0, axis=1) >= 2]
    return kept


def _by_unit_counts(codes: Codes, k: int, unit_weights: Floats | None) -> Floats:
    """sum_u w_u (N_u^T N_u - diag N_u) / (m_u - 1), grouped by m_u so the pair
    counts inside each group are exact integers (BLAS float matmul on counts)."""
    result = np.zeros((k, k))
    values_per_unit = np.count_nonzero(codes >= 0, axis=1)
    step = max(1, _BLOCK // max(k, 1))
    for start in range(0, codes.shape[0], step):
        block = codes[start : start + step]
        m_block = values_per_unit[start : start + step]
        rows = np.broadcast_to(np.arange(block.shape[0])[:, None], block.shape)
        present = block >= 0
        counts = np.bincount(
            rows[present] * k + block[present], minlength=block.shape[0] * k
        ).reshape(block.shape[0], k)
        weights = None if unit_weights is None else unit_weights[start : start + step]
        for m in np.unique(m_block):
            chosen = m_block == m
            n_u = counts[chosen].astype(np.float64)
            weighted = n_u if weights is None else n_u * weights[chosen, None]
            pairs = weighted.T @ n_u - np.diag(weighted.sum(axis=0))
            result += pairs / (int(m) - 1)
    return result


def _by_coder_pairs(codes: Codes, k: int, unit_weights: Floats | None) -> Floats:
    """The same sum as one weighted bincount per unordered pair of coder columns."""
    per_unit = 1.0 / (np.count_nonzero(codes >= 0, axis=1) - 1)
    if unit_weights is not None:
        per_unit = per_unit * unit_weights
    flat = np.zeros(k * k)
    n_coders = codes.shape[1]
    for left in range(n_coders):
        for right in range(left + 1, n_coders):
            a, b = codes[:, left], codes[:, right]
            both = (a >= 0) & (b >= 0)
            flat += np.bincount(a[both] * k + b[both], per_unit[both], minlength=k * k)
    half = flat.reshape(k, k)
    return half + half.T


def coincidence_matrix(
    codes: Codes, n_categories: int, unit_weights: Floats | None = None
) -> Floats:
    """K x K coincidence matrix of a codes matrix (Krippendorff 2011, sec. C).

    Units with fewer than two values are ignored. ``unit_weights`` multiplies each
    unit's contribution (a bootstrap passes resampling multiplicities).

    >>> coincidence_matrix(np.array([[0, 0, 1], [1, 1, -1]]), 2).tolist()
    [[1.0, 1.0], [1.0, 2.0]]
    """
    if n_categories > MAX_CATEGORIES:
        raise agreement_undefined(
            f"{n_categories} distinct values exceed the {MAX_CATEGORIES} a coincidence "
            "matrix supports here; round or bin the values"
        )
    mask = np.count_nonzero(codes >= 0, axis=1) >= 2
    codes = codes[mask]
    if unit_weights is not None:
        unit_weights = unit_weights[mask]
    n_coders = codes.shape[1] if codes.ndim == 2 else 0
    # Per-unit counts cost ~K^2 per unit, coder pairs ~R^2/2 numpy passes per unit.
    if n_categories * n_categories <= 4 * n_coders * (n_coders - 1):
        return _by_unit_counts(codes, n_categories, unit_weights)
    return _by_coder_pairs(codes, n_categories, unit_weights)


def difference_matrix(level: Level, values: Floats, marginals: Floats) -> Floats:
    """Squared difference delta^2[c, k] for category values sorted ascending.

    nominal: 0 if c == k else 1; interval: (v_c - v_k)^2; ratio:
    ((v_c - v_k) / (v_c + v_k))^2; ordinal: (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2
    with n_g the coincidence marginals (Krippendorff 2011, sec. E).

    >>> difference_matrix("ordinal", np.array([1.0, 2.0]), np.array([3.0, 1.0])).tolist()
    [[0.0, 4.0], [4.0, 0.0]]
    """
    k = values.size
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "interval":
        return np.subtract.outer(values, values) ** 2
    if level == "ratio":
        total = np.add.outer(values, values)
        diff = np.subtract.outer(values, values)
        safe = np.where(total == 0, 1.0, total)
        ratio: Floats = np.where(total == 0, 0.0, (diff / safe) ** 2)
        return ratio
    if level == "ordinal":
        cumulative = np.cumsum(marginals)
        low = np.minimum.outer(np.arange(k), np.arange(k))
        high = np.maximum.outer(np.arange(k), np.arange(k))
        between = cumulative[high] - cumulative[low] + marginals[low]
        ordinal: Floats = (between - (marginals[low] + marginals[high]) / 2.0) ** 2
        return ordinal
    raise agreement_undefined(f"level {level!r} is not valid; valid: {', '.join(LEVELS)}", "level")


def alpha_from_coincidences(coincidences: Floats, distances: Floats) -> float:
    """alpha = 1 - D_o / D_e = 1 - (n - 1) sum(o * d) / sum(n_c n_k d).

    E601 when nothing is pairable or D_e = 0 (all pairable values equivalent).

    >>> alpha_from_coincidences(np.array([[2.0, 0.0], [0.0, 2.0]]), 1 - np.eye(2))
    1.0
    """
    marginals = coincidences.sum(axis=1)
    n = float(marginals.sum())
    if n == 0:
        raise agreement_undefined("no unit has two or more values (nothing is pairable)")
    expected = float(marginals @ distances @ marginals)
    if expected <= 0.0:
        raise agreement_undefined(
            "all pairable values are identical (expected disagreement D_e = 0)"
        )
    observed = float((coincidences * distances).sum())
    return 1.0 - (n - 1.0) * observed / expected
