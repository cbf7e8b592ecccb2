"""Median rating: the per-item median of ordinal ratings."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation._codes import FloatArray, IntArray, check_long


class MedianRating:
    """Aggregate ordinal ratings per item by their median.

    Ratings are codes of an ordered scale (`0 .. n_levels - 1`, e.g. a 1-5 Likert
    scale coded 0-4). The median is the location statistic that only uses the
    order of the scale (Stevens 1946, *On the theory of scales of measurement*,
    Science 103:677-680). **Even counts** take the *lower* median (the smaller of
    the two middle ratings, as Python's `statistics.median_low`), so the result is
    always a rating someone gave and never a half-step between scale points.

    `confidence_` is the share of the item's ratings within `tolerance` scale
    steps of the median (`tolerance=0`: the share that gave exactly the median;
    `tolerance=1`: within one step). `mad_` is the (lower) median absolute
    deviation from the median in scale steps (Hampel 1974, *The influence curve
    and its role in robust estimation*, JASA 69:383-393), unscaled. Items without
    ratings get label -1 and NaN.

    >>> mr = MedianRating().fit([0, 0, 0, 0], [0, 1, 2, 3], [1, 3, 2, 4], 1, 4, 5)
    >>> mr.labels_.tolist(), mr.confidence_.tolist(), mr.mad_.tolist()
    ([2], [0.25], [1.0])
    """

    method: ClassVar[str] = "median"

    labels_: IntArray
    """Lower median rating code per item; -1 where the item has no rating."""
    confidence_: FloatArray
    """Share of the item's ratings within `tolerance` of the median; NaN where none."""
    mad_: FloatArray
    """Lower median absolute deviation from the median, in scale steps; NaN where none."""
    counts_: IntArray
    """Number of ratings per item."""

    def __init__(self, tolerance: int = 0) -> None:
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0 scale steps, not {tolerance}")
        self.tolerance = tolerance

    def fit(
        self,
        item_codes: npt.ArrayLike,
        worker_codes: npt.ArrayLike,
        rating_codes: npt.ArrayLike,
        n_items: int,
        n_workers: int,
        n_levels: int,
    ) -> Self:
        """Sort ratings within items and read off the lower median of each."""
        items, _, ratings = check_long(
            item_codes, worker_codes, rating_codes, n_items, n_workers, n_levels
        )
        counts = np.bincount(items, minlength=n_items).astype(np.int64)
        rated = counts > 0
        median = _lower_median(items, ratings, counts)
        deviation = np.abs(ratings - median[items])
        within = np.bincount(items, weights=deviation <= self.tolerance, minlength=n_items)
        self.counts_ = counts
        self.labels_ = median
        self.confidence_ = np.divide(within, counts, out=np.full(n_items, np.nan), where=rated)
        self.mad_ = np.where(rated, _lower_median(items, deviation, counts), np.nan)
        return self


def _lower_median(items: IntArray, values: IntArray, counts: IntArray) -> IntArray:
    """Lower median of `values` per item (-1 for items without values), fully vectorized."""
    order = np.lexsort((values, items))
    first = np.cumsum(counts) - counts
    middle = first + (counts - 1) // 2
    rated = counts > 0
    out = np.full(counts.size, -1, dtype=np.int64)
    out[rated] = values[order][middle[rated]]
    return out
