"""Shared input checks and vote counting for the aggregation estimators.

Every estimator takes observations in *long format of codes*: one row per
observation, with the item, the worker and the label each given as a
non-negative integer code (`0 .. n - 1`). Codes keep the hot paths in NumPy;
mapping names to codes (and back) is the caller's job.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Scores closer than this (relative to the top score) count as tied, so that
# float sums such as 0.1 + 0.2 and 0.3 do not decide a vote by rounding error.
TIE_RTOL = 1e-12


def check_count(value: int, name: str) -> int:
    """`value` as a non-negative int, or ValueError naming what is valid."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return int(value)


def as_codes(values: npt.ArrayLike, name: str, upper: int) -> IntArray:
    """`values` as a 1-D int64 array of codes in `0 .. upper - 1`, or ValueError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer codes, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer codes, not {arr.dtype}")
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high >= upper:
        bad = low if low < 0 else high
        raise ValueError(f"{name} must lie in 0..{upper - 1}; found {bad}")
    return arr.astype(np.int64, copy=False)


def as_floats(values: npt.ArrayLike, name: str, size: int) -> FloatArray:
    """`values` as a 1-D float64 array of length `size` with finite entries, or ValueError."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,):
        raise ValueError(f"{name} must be a 1-D array of length {size}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def check_long(
    item_codes: npt.ArrayLike,
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    n_items: int,
    n_workers: int,
    n_labels: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Validate one long-format table of (item, worker, label) codes."""
    n_items = check_count(n_items, "n_items")
    n_workers = check_count(n_workers, "n_workers")
    n_labels = check_count(n_labels, "n_labels")
    items = as_codes(item_codes, "item_codes", n_items)
    workers = as_codes(worker_codes, "worker_codes", n_workers)
    labels = as_codes(label_codes, "label_codes", n_labels)
    if not items.shape == workers.shape == labels.shape:
        raise ValueError(
            "item_codes, worker_codes and label_codes must have the same length; got "
            f"{items.size}, {workers.size}, {labels.size}"
        )
    return items, workers, labels


def vote_table(
    item_codes: IntArray,
    label_codes: IntArray,
    n_items: int,
    n_labels: int,
    weights: FloatArray | None = None,
) -> FloatArray:
    """Items x labels matrix of (weighted) vote counts, built with one bincount."""
    flat = np.bincount(
        item_codes * n_labels + label_codes, weights=weights, minlength=n_items * n_labels
    )
    return flat.astype(np.float64, copy=False).reshape(n_items, n_labels)


def top_label(scores: FloatArray, voted: BoolArray) -> tuple[IntArray, BoolArray]:
    """Per row, the smallest label code among the top scores (-1 where `voted` is False).

    Returns the labels and whether the top score was shared by several labels.
    """
    n_rows = scores.shape[0]
    if scores.shape[1] == 0:
        return np.full(n_rows, -1, dtype=np.int64), np.zeros(n_rows, dtype=np.bool_)
    best = scores.max(axis=1, keepdims=True)
    at_top = scores >= best - TIE_RTOL * np.maximum(np.abs(best), 1.0)
    labels = np.argmax(at_top, axis=1).astype(np.int64)  # first True = smallest code
    tied = at_top.sum(axis=1) > 1
    labels[~voted] = -1
    tied[~voted] = False
    return labels, tied


def chosen_value(table: FloatArray, labels: IntArray) -> FloatArray:
    """Per row, the entry of `table` at the row's chosen label; NaN where the label is -1."""
    out = np.full(labels.shape, np.nan)
    rows = np.flatnonzero(labels >= 0)
    out[rows] = table[rows, labels[rows]]
    return out
