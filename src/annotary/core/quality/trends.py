"""Annotator monitoring over time: work sessions, fatigue within a session, and
drift of agreement with the consensus across the project's life.

Like `monitoring`, every check takes long-format arrays of codes and returns
per-annotator figures and `Finding`s to review, not verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from annotary.core.quality.monitoring import (
    Finding,
    FloatArray,
    IntArray,
    codes,
    consensus_rows,
    floats,
    share_of,
)

SESSION_GAP_SECONDS = 30 * 60
"""A pause longer than this starts a new work session."""


@dataclass(frozen=True, slots=True)
class TrendCheck:
    """Per annotator least-squares slopes and their two-sided p-values (NaN if undefined)."""

    n: IntArray
    slope: FloatArray
    p_value: FloatArray
    findings: list[Finding] = field(default_factory=list)


def work_sessions(
    worker_codes: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    gap_seconds: float = SESSION_GAP_SECONDS,
) -> tuple[IntArray, IntArray]:
    """Session number and 0-based position within the session of every row.

    An annotator's rows are ordered by time; a pause longer than `gap_seconds`
    starts a new session. Session numbers are global and increase with time per
    annotator.

    Annotator 0 works at 0 s, 60 s and, after a break, at 4,000 s; annotator 1
    once at 30 s:

    >>> session, position = work_sessions([0, 0, 1, 0], [0, 60, 30, 4000])
    >>> session.tolist(), position.tolist()
    ([0, 0, 2, 1], [0, 1, 0, 0])
    """
    workers = codes(worker_codes, "worker_codes")
    when = floats(timestamps, "timestamps", workers.size)
    order = np.lexsort((when, workers))
    w, t = workers[order], when[order]
    starts = np.ones(w.size, dtype=np.bool_)
    starts[1:] = (w[1:] != w[:-1]) | (np.diff(t) > gap_seconds)
    session_sorted = np.cumsum(starts) - 1
    first_row = np.flatnonzero(starts)
    position_sorted = np.arange(w.size) - first_row[session_sorted]
    session = np.empty(w.size, dtype=np.int64)
    position = np.empty(w.size, dtype=np.int64)
    session[order] = session_sorted
    position[order] = position_sorted
    return session, position


def fatigue(
    worker_codes: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    values: npt.ArrayLike,
    n_workers: int,
    measure: Literal["correctness", "seconds"] = "correctness",
    gap_seconds: float = SESSION_GAP_SECONDS,
    alpha: float = 0.05,
    min_items: int = 20,
) -> TrendCheck:
    """Trend of correctness (or of time spent) with the position within a work session.

    Per annotator, an ordinary least-squares line of `values` (1/0 correctness
    against gold or consensus, or seconds spent) on the position within the
    session, pooled over the annotator's sessions (`scipy.stats.linregress`,
    two-sided p). Flagged: `n >= min_items`, `p < alpha` and a falling slope -
    declining correctness, or for seconds, speeding up as the session goes on
    (rushing; learning also speeds people up, so read it with the correctness
    trend).
    """
    workers = codes(worker_codes, "worker_codes", n_workers)
    y = floats(values, "values", workers.size)
    _, position = work_sessions(workers, timestamps, gap_seconds)
    return _trends(
        workers,
        position.astype(np.float64),
        y,
        n_workers,
        alpha,
        min_items,
        kind=f"fatigue_{measure}",
        described=f"{measure} per position within sessions split at {gap_seconds:g} s pauses",
    )


def agreement_drift(
    item_codes: npt.ArrayLike,
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    consensus: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    n_workers: int,
    window_seconds: float = 86_400.0,
    alpha: float = 0.05,
    min_windows: int = 3,
    min_items_per_window: int = 5,
) -> tuple[FloatArray, TrendCheck]:
    """Agreement with consensus per annotator per time window, and its trend.

    Windows are `window_seconds` long from the earliest timestamp (daily by
    default). Returns the annotators x windows agreement shares (NaN for windows
    with fewer than `min_items_per_window` rows) and the least-squares trend of
    those shares over the window index; a falling trend with `p < alpha` over at
    least `min_windows` windows is flagged.
    """
    workers, decided, agreed = consensus_rows(
        item_codes, worker_codes, label_codes, consensus, n_workers
    )
    when = floats(timestamps, "timestamps", workers.size)
    window = ((when - when.min()) // window_seconds).astype(np.int64) if when.size else workers
    n_windows = int(window.max()) + 1 if when.size else 0
    cell = workers * n_windows + window
    n = np.bincount(cell[decided], minlength=n_workers * n_windows).reshape(n_workers, -1)
    hits = np.bincount(cell[agreed], minlength=n_workers * n_windows).reshape(n_workers, -1)
    share = np.where(n >= min_items_per_window, share_of(hits, n), np.nan)
    rows, cols = np.nonzero(~np.isnan(share))
    trend = _trends(
        rows.astype(np.int64),
        cols.astype(np.float64),
        share[rows, cols],
        n_workers,
        alpha,
        min_windows,
        kind="agreement_drift",
        described=f"agreement with consensus per {window_seconds:g} s window",
    )
    return share, trend


def _trends(
    workers: IntArray,
    x: FloatArray,
    y: FloatArray,
    n_workers: int,
    alpha: float,
    min_points: int,
    kind: str,
    described: str,
) -> TrendCheck:
    """Per annotator `linregress(x, y)`; flag falling slopes with p < alpha."""
    n = np.bincount(workers, minlength=n_workers).astype(np.int64)
    slope = np.full(n_workers, np.nan)
    p_value = np.full(n_workers, np.nan)
    order = np.argsort(workers, kind="stable")
    bounds = np.searchsorted(workers[order], np.arange(n_workers + 1))
    for a in range(n_workers):
        rows = order[bounds[a] : bounds[a + 1]]
        xs, ys = x[rows], y[rows]
        if rows.size < 3 or np.ptp(xs) == 0:
            continue
        if np.ptp(ys) == 0:  # a flat series has slope 0 and no evidence of a trend
            slope[a], p_value[a] = 0.0, 1.0
            continue
        fit = stats.linregress(xs, ys)
        slope[a], p_value[a] = float(fit.slope), float(fit.pvalue)
    flagged = (
        (n >= min_points) & (np.nan_to_num(slope) < 0) & (np.nan_to_num(p_value, nan=1.0) < alpha)
    )
    findings = [
        Finding(
            int(a),
            kind,
            float(slope[a]),
            alpha,
            f"{described}: least-squares slope {slope[a]:.4g} over {n[a]} points, "
            f"p = {p_value[a]:.3g} < {alpha}",
        )
        for a in np.flatnonzero(flagged)
    ]
    return TrendCheck(n, slope, p_value, findings)
