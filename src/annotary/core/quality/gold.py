"""Gold-standard checks: annotator accuracy on gold items with Wilson intervals,
and how hard each gold item is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

Z_95 = 1.959963984540054
"""Standard normal quantile for a two-sided 95% interval (scipy.stats.norm.ppf(0.975))."""


@overload
def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]: ...
@overload
def wilson_interval(
    successes: npt.NDArray[np.integer], n: npt.NDArray[np.integer] | int, z: float = Z_95
) -> tuple[FloatArray, FloatArray]: ...
def wilson_interval(
    successes: int | npt.NDArray[np.integer],
    n: int | npt.NDArray[np.integer],
    z: float = Z_95,
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion `successes / n`.

    With `p = successes / n`: centre `(p + z²/2n) / (1 + z²/n)`, half-width
    `z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)` (Wilson 1927, *Probable inference,
    the law of succession, and statistical inference*, JASA 22:209-212). Unlike
    the Wald interval it stays inside [0, 1] and keeps close to nominal coverage
    for small `n` and extreme `p` (Brown, Cai & DasGupta 2001, Statistical
    Science 16:101-133). `n = 0` gives (NaN, NaN): no data, no interval.
    Scalars in, floats out; arrays in, arrays out (elementwise).

    >>> low, high = wilson_interval(8, 10)
    >>> round(low, 4), round(high, 4)
    (0.4902, 0.9433)
    """
    hits = np.asarray(successes)
    total = np.asarray(n)
    if not (np.issubdtype(hits.dtype, np.integer) and np.issubdtype(total.dtype, np.integer)):
        raise ValueError("successes and n must be whole numbers")
    if np.any(total < 0) or np.any(hits < 0) or np.any(hits > total):
        raise ValueError("need 0 <= successes <= n")
    if not z > 0:
        raise ValueError(f"z must be positive, not {z}")
    hits_f = hits.astype(np.float64)
    total_f = np.broadcast_to(total, hits.shape).astype(np.float64)
    has_data = total_f > 0
    safe_n = np.where(has_data, total_f, 1.0)
    share = hits_f / safe_n
    z2 = z * z
    denominator = 1.0 + z2 / safe_n
    centre = (share + z2 / (2.0 * safe_n)) / denominator
    half = z * np.sqrt(share * (1.0 - share) / safe_n + z2 / (4.0 * safe_n**2)) / denominator
    low = np.where(has_data, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(has_data, np.clip(centre + half, 0.0, 1.0), np.nan)
    if hits.ndim == 0 and total.ndim == 0:
        return float(low), float(high)
    return low, high


@dataclass(frozen=True, slots=True)
class GoldAccuracy:
    """Accuracy on gold per annotator (rows) and field (columns), with Wilson intervals.

    Cells without gold answers have accuracy and bounds NaN.
    """

    answered: IntArray
    correct: IntArray
    accuracy: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


@dataclass(frozen=True, slots=True)
class GoldDifficulty:
    """Per gold item: answers, wrong answers, the share wrong and its Wilson interval."""

    answered: IntArray
    wrong: IntArray
    difficulty: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def gold_accuracy(
    annotator_codes: npt.ArrayLike,
    field_codes: npt.ArrayLike,
    correct: npt.ArrayLike,
    n_annotators: int,
    n_fields: int,
    z: float = Z_95,
) -> GoldAccuracy:
    """Accuracy per annotator per field from one row per gold answer.

    Each row is an annotator's answer to one field of one gold item and whether
    it matched the gold value. For an accuracy over all fields, pass field code 0
    for every row and `n_fields=1`.

    >>> acc = gold_accuracy([0, 0, 0, 1], [0, 0, 1, 0], [True, False, True, True], 2, 2)
    >>> acc.answered.tolist(), acc.accuracy.tolist()
    ([[2, 1], [1, 0]], [[0.5, 1.0], [1.0, nan]])
    """
    annotators = _codes(annotator_codes, "annotator_codes", n_annotators)
    fields = _codes(field_codes, "field_codes", n_fields)
    hits = _flags(correct, "correct", annotators.size)
    if fields.size != annotators.size:
        raise ValueError("annotator_codes, field_codes and correct must have the same length")
    cell = annotators * n_fields + fields
    size = n_annotators * n_fields
    answered = np.bincount(cell, minlength=size).reshape(n_annotators, n_fields)
    right = np.bincount(cell[hits], minlength=size).reshape(n_annotators, n_fields)
    low, high = wilson_interval(right.astype(np.int64), answered.astype(np.int64), z)
    return GoldAccuracy(
        answered=answered.astype(np.int64),
        correct=right.astype(np.int64),
        accuracy=_share(right, answered),
        ci_low=low,
        ci_high=high,
    )


def gold_difficulty(
    gold_item_codes: npt.ArrayLike,
    correct: npt.ArrayLike,
    n_gold_items: int,
    z: float = Z_95,
) -> GoldDifficulty:
    """Share of wrong answers per gold item (NaN for items nobody answered).

    A gold item most annotators miss is more likely ambiguous or wrongly keyed
    than a sign of bad annotators; review it before trusting the accuracies.

    >>> gold_difficulty([0, 0, 0, 1], [True, False, False, True], 2).difficulty.tolist()
    [0.6666666666666666, 0.0]
    """
    items = _codes(gold_item_codes, "gold_item_codes", n_gold_items)
    hits = _flags(correct, "correct", items.size)
    answered = np.bincount(items, minlength=n_gold_items).astype(np.int64)
    wrong = np.bincount(items[~hits], minlength=n_gold_items).astype(np.int64)
    low, high = wilson_interval(wrong, answered, z)
    return GoldDifficulty(answered, wrong, _share(wrong, answered), low, high)


def _codes(values: npt.ArrayLike, name: str, upper: int) -> IntArray:
    """1-D integer codes in `0 .. upper - 1`, or ValueError."""
    arr = np.asarray(values)
    if upper < 0:
        raise ValueError(f"the number of codes for {name} must be >= 0")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer codes")
    if int(arr.min()) < 0 or int(arr.max()) >= upper:
        raise ValueError(f"{name} must lie in 0..{upper - 1}")
    return arr.astype(np.int64, copy=False)


def _flags(values: npt.ArrayLike, name: str, size: int) -> npt.NDArray[np.bool_]:
    """1-D boolean array of length `size`, or ValueError."""
    arr = np.asarray(values)
    if arr.size == 0 and size == 0:
        return np.zeros(0, dtype=np.bool_)
    if arr.shape != (size,) or arr.dtype != np.bool_:
        raise ValueError(f"{name} must be a 1-D boolean array with one entry per row")
    return arr


def _share(part: npt.NDArray[np.integer], whole: npt.NDArray[np.integer]) -> FloatArray:
    """`part / whole` elementwise, NaN where `whole` is 0."""
    out = np.full(whole.shape, np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out
