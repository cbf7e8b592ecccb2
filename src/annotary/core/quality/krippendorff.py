"""Krippendorff's alpha: any number of coders, missing values, four levels, MASI.

alpha = 1 - D_o / D_e over the coincidence matrix (Krippendorff 2011,
"Computing Krippendorff's Alpha-Reliability", Annenberg Departmental Papers 43;
Hayes & Krippendorff 2007, Communication Methods and Measures 1:77-89). Units
with fewer than two values are not pairable and are dropped.

Interpretation (Krippendorff 2004, Content Analysis, 2nd ed., p. 241): rely on
data with alpha >= .800; .667 <= alpha < .800 only for tentative conclusions;
below .667, discard.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import MISSING, Codes, agreement_undefined, as_codes
from annotary.core.quality.coincidence import (
    LEVELS,
    Floats,
    Level,
    alpha_from_coincidences,
    coincidence_matrix,
    difference_matrix,
    pairable,
)

MAX_VALUE: Final = 1e100
# Integer codes, or numbers with NaN / None as missing.
Data = npt.ArrayLike | Sequence[Sequence[float | None]]


def _float_matrix(data: Data) -> Floats:
    try:
        array = np.asarray(data)
        if array.dtype == object:
            array = np.vectorize(lambda v: np.nan if v is None else v, otypes=[object])(array)
        floats: Floats = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise agreement_undefined(
            "values must be a rectangular units x coders array of numbers (None/NaN = "
            "missing); encode labels with encode_wide first",
            "data",
        ) from None
    return floats


def _sorted_categories(codes: Codes, raw_values: Floats) -> tuple[Codes, Floats]:
    """Re-code so categories are the distinct values in ascending order."""
    distinct, position = np.unique(raw_values, return_inverse=True)
    if distinct.size == 0:  # no categories: every code is missing
        return codes, distinct
    if distinct.size == raw_values.size and np.array_equal(position, np.arange(distinct.size)):
        return codes, distinct  # already distinct and ascending: nothing to re-code
    recoded = np.where(codes >= 0, position[np.maximum(codes, 0)], MISSING)
    return recoded.astype(np.int64), distinct


def _encode(data: Data, level: str, values: npt.ArrayLike | None) -> tuple[Codes, Floats]:
    """Codes matrix plus the ascending numeric value of each category."""
    if level not in LEVELS:
        raise agreement_undefined(
            f"level {level!r} is not valid; valid: {', '.join(LEVELS)}", "level"
        )
    try:
        array: npt.NDArray[Any] | None = np.asarray(data)
    except ValueError:  # ragged rows: reported by _float_matrix below
        array = None
    if array is not None and array.dtype.kind in "iu":
        codes = as_codes(array)
        if values is None:
            if level in ("interval", "ratio"):
                raise agreement_undefined(
                    f"{level} alpha on integer codes needs values= (the number each code "
                    "stands for), or pass a float array with NaN for missing",
                    "values",
                )
            k = int(codes.max()) + 1 if codes.size else 0
            category_values = np.arange(k, dtype=np.float64)
        else:
            try:
                category_values = np.asarray(values, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise agreement_undefined(
                    "values must be numbers, one per code (for labels, omit values)", "values"
                ) from None
            needed = int(codes.max()) + 1 if codes.size else 0
            if category_values.size < needed:
                raise agreement_undefined(
                    f"code {needed - 1} is out of range for {category_values.size} values",
                    "values",
                )
        if not np.all(np.isfinite(category_values)):
            raise agreement_undefined("values must be finite numbers", "values")
        codes, distinct = _sorted_categories(codes, category_values)
    else:
        if values is not None:
            raise agreement_undefined(
                "values= applies to integer codes only; these data are the values", "values"
            )
        matrix = _float_matrix(data)
        if matrix.ndim != 2:
            raise agreement_undefined(
                f"data must be a units x coders matrix; got shape {matrix.shape}", "data"
            )
        present = ~np.isnan(matrix)
        if np.isinf(matrix[present]).any():
            raise agreement_undefined("values must be finite (NaN = missing)", "data")
        codes = np.full(matrix.shape, MISSING, dtype=np.int64)
        distinct, position = np.unique(matrix[present], return_inverse=True)
        codes[present] = position.reshape(-1)
    if level == "ratio" and distinct.size and distinct[0] < 0:
        raise agreement_undefined("ratio alpha needs values >= 0 (a ratio scale)", "data")
    if distinct.size and float(np.abs(distinct).max()) > MAX_VALUE:
        raise agreement_undefined(
            f"values beyond +-{MAX_VALUE:g} would overflow squared differences; rescale them",
            "data",
        )
    return codes, distinct


def krippendorff_alpha(
    data: Data, level: Level = "nominal", *, values: npt.ArrayLike | None = None
) -> float:
    """Krippendorff's alpha for a units x coders matrix with missing values.

    `data` is either integer codes (any integer array, also a list of ints: -1 =
    missing; `values[k]` is the number code k stands for, needed for interval and
    ratio, default the code itself for ordinal) or numbers (a float array, or a
    list with None: NaN/None = missing; pass raw integer ratings such as -1/0/1
    this way, as floats). Difference functions: nominal
    (0/1), ordinal (Krippendorff's rank form from the coincidence marginals),
    interval ((v - v')^2), ratio (((v - v') / (v + v'))^2). Equals
    `krippendorff.alpha` (Castro 2017). Undefined (E601) if nothing is pairable or
    all pairable values are equal (D_e = 0). Thresholds: >= .800 reliable,
    .667-.800 tentative (Krippendorff 2004).

    >>> round(krippendorff_alpha([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [3.0, 2.0]], "interval"), 4)
    0.8205
    """
    codes, category_values = _encode(data, level, values)
    coincidences = coincidence_matrix(codes, category_values.size)
    distances = difference_matrix(level, category_values, coincidences.sum(axis=1))
    return alpha_from_coincidences(coincidences, distances)


def alpha_from_distances(codes: npt.ArrayLike, distances: npt.ArrayLike) -> float:
    """Krippendorff's alpha for codes with any K x K distance matrix between categories.

    The distance must be symmetric, non-negative and zero on the diagonal (a
    squared difference function delta^2 in Krippendorff's terms). Same thresholds
    as `krippendorff_alpha`.

    >>> alpha_from_distances([[0, 0], [1, 1], [0, 1]], [[0, 1], [1, 0]])
    0.4444444444444444
    """
    try:
        matrix = np.asarray(distances, dtype=np.float64)
    except (TypeError, ValueError):
        matrix = np.empty(0)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise agreement_undefined("distances must be a square matrix", "distances")
    coded = as_codes(codes, max(matrix.shape[0], 1))
    if (
        not np.all(np.isfinite(matrix))
        or np.any(matrix < 0)
        or np.any(np.diag(matrix) != 0)
        or not np.allclose(matrix, matrix.T)
    ):
        raise agreement_undefined(
            "distances must be finite, non-negative, symmetric, with a zero diagonal",
            "distances",
        )
    return alpha_from_coincidences(coincidence_matrix(coded, matrix.shape[0]), matrix)


def masi_distance(a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> float:
    """MASI distance between two label sets (Passonneau 2006, LREC): 1 - J * M.

    J is the Jaccard index |A & B| / |A | B|; M is 1 if A == B, 2/3 if one set
    contains the other, 1/3 if they overlap otherwise, 0 if disjoint. Two empty
    sets are identical (distance 0).

    >>> masi_distance({"a"}, {"a", "b"})
    0.6666666666666667
    """
    if a == b:
        return 0.0
    common = len(a & b)
    if common == 0:
        return 1.0
    monotonicity = 2 / 3 if (a <= b or b <= a) else 1 / 3
    return 1.0 - common / len(a | b) * monotonicity


def alpha_masi(units: Sequence[Sequence[AbstractSet[Hashable] | None]]) -> float:
    """Krippendorff's alpha with MASI distance for multi-label (set-valued) annotations.

    One list per unit, one label set per coder (None = missing; units may differ
    in length). alpha = 1 - D_o / D_e with delta = MASI distance (Passonneau 2006;
    Krippendorff 2011). Thresholds as for `krippendorff_alpha` (Passonneau notes
    set-valued alphas run lower than single-label ones on the same data).

    >>> round(alpha_masi([[{"a"}, {"a"}], [{"b"}, {"b", "a"}], [{"b"}, {"b"}]]), 4)
    0.6429
    """
    label_sets: dict[frozenset[Hashable], int] = {}
    width = max((len(unit) for unit in units if isinstance(unit, Sequence)), default=0)
    codes = np.full((len(units), width), MISSING, dtype=np.int64)
    for row, unit in enumerate(units):
        if not isinstance(unit, Sequence) or isinstance(unit, str):
            raise agreement_undefined(f"unit {row} must be a list of label sets", "units")
        for column, value in enumerate(unit):
            if value is None:
                continue
            if not isinstance(value, AbstractSet):
                raise agreement_undefined(
                    f"unit {row}: {value!r} is not a set of labels (use frozenset or None)",
                    "units",
                )
            codes[row, column] = label_sets.setdefault(frozenset(value), len(label_sets))
    distinct = list(label_sets)
    distances = np.array(
        [[masi_distance(a, b) for b in distinct] for a in distinct], dtype=np.float64
    ).reshape(len(distinct), len(distinct))
    return alpha_from_coincidences(coincidence_matrix(codes, len(distinct)), distances)


def bootstrap_alpha(
    data: Data,
    level: Level = "nominal",
    *,
    values: npt.ArrayLike | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval for Krippendorff's alpha, resampling units.

    Method: the pairable units (>= 2 values) are resampled with replacement,
    `n_boot` times, and alpha (D_o and D_e, and for ordinal the rank distances)
    is recomputed on each resample; the interval is the (1 - confidence)/2 and
    (1 + confidence)/2 quantiles of those alphas (`np.quantile`, linear
    interpolation). Alpha depends on a unit only through its multiset of values,
    so units are grouped by that multiset and each resample is drawn as
    multinomial counts over the groups (`numpy.random.default_rng(seed)`): the
    same distribution as drawing units, at a cost independent of their number.
    Resamples in which alpha is undefined (D_e = 0) are left out. Krippendorff
    recommends bootstrapping alpha; KALPHA (Hayes & Krippendorff 2007) resamples
    pairs of pairable values rather than units, so its intervals differ somewhat.

    >>> low, high = bootstrap_alpha([[0, 0], [1, 1], [0, 1], [1, 1], [0, 0]], n_boot=200)
    >>> low < 0.6 < high
    True
    """
    if n_boot < 1 or not 0.0 < confidence < 1.0:
        raise agreement_undefined("need n_boot >= 1 and 0 < confidence < 1", "n_boot")
    codes, category_values = _encode(data, level, values)
    krippendorff_alpha(codes, level, values=category_values)  # E601 if undefined on the data
    profiles, group_size = np.unique(np.sort(pairable(codes), axis=1), axis=0, return_counts=True)
    n_units = int(group_size.sum())
    draws = np.random.default_rng(seed).multinomial(n_units, group_size / n_units, size=n_boot)
    alphas: list[float] = []
    for multiplicity in draws:
        coincidences = coincidence_matrix(
            profiles, category_values.size, multiplicity.astype(np.float64)
        )
        distances = difference_matrix(level, category_values, coincidences.sum(axis=1))
        marginals = coincidences.sum(axis=1)
        if float(marginals @ distances @ marginals) > 0.0:
            alphas.append(alpha_from_coincidences(coincidences, distances))
    if not alphas:
        raise agreement_undefined("alpha is undefined (D_e = 0) in every bootstrap resample")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.array(alphas), [tail, 1.0 - tail])
    return float(low), float(high)
