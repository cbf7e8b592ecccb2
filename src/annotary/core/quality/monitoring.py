"""Annotator monitoring: outliers against consensus and the pool, speed, fatigue and drift.

Every check takes long-format arrays of codes (one row per annotation), returns
its per-annotator figures and a list of `Finding`s, each naming the annotator,
the value, the threshold it crossed and the evidence in words. Findings are
prompts for a human review, not verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.spatial.distance import jensenshannon

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ROBUST_Z_THRESHOLD = 3.5
"""Iglewicz & Hoaglin (1993) cut-off for modified z-scores: |M| > 3.5 is a potential outlier."""
READING_CHARS_PER_SECOND = 50.0
"""Default reading-time floor: about twice the mean silent reading rate of English
non-fiction (238 words per minute, Brysbaert 2019, *How many words do we read per
minute?*, J. Memory and Language 109:104047, at ~6 characters per word with the space)."""
SESSION_GAP_SECONDS = 30 * 60
"""A pause longer than this starts a new work session."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One flagged annotator: what was measured, the threshold crossed and why."""

    annotator: int
    kind: str
    value: float
    threshold: float
    evidence: str


@dataclass(frozen=True, slots=True)
class ShareCheck:
    """Per annotator: rows counted (`n`), rows that hit (`hits`), `share` (NaN if n = 0)."""

    n: IntArray
    hits: IntArray
    share: FloatArray
    robust_z: FloatArray
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LabelDivergence:
    """Per annotator: label counts vs the rest of the pool (chi-square and Jensen-Shannon)."""

    n: IntArray
    chi2: FloatArray
    dof: IntArray
    p_value: FloatArray
    js_distance: FloatArray
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TrendCheck:
    """Per annotator least-squares slopes and their two-sided p-values (NaN if undefined)."""

    n: IntArray
    slope: FloatArray
    p_value: FloatArray
    findings: list[Finding] = field(default_factory=list)


def robust_z_scores(values: npt.ArrayLike) -> FloatArray:
    """Modified z-scores `0.6745 (x - median) / MAD` (Iglewicz & Hoaglin 1993).

    B. Iglewicz and D. C. Hoaglin, *How to Detect and Handle Outliers*, ASQC
    Quality Press, 1993: 0.6745 makes the MAD estimate the standard deviation of
    normal data; |M| > 3.5 marks a potential outlier. NaN values are ignored and
    stay NaN. When the MAD is 0 (over half the values equal), the mean absolute
    deviation times sqrt(pi/2) = 1.2533 (the normal-data scale of the mean absolute
    deviation) replaces it; if that is 0 too, every score is 0.

    >>> robust_z_scores([1.0, 2.0, 3.0, 4.0, 100.0]).round(2).tolist()
    [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    known = ~np.isnan(x)
    if not known.any():
        return out
    centre = float(np.median(x[known]))
    deviation = x[known] - centre
    mad = float(np.median(np.abs(deviation)))
    if mad > 0:
        out[known] = 0.6745 * deviation / mad
        return out
    mean_ad = float(np.mean(np.abs(deviation)))
    out[known] = deviation / (1.2533141373155003 * mean_ad) if mean_ad > 0 else 0.0
    return out


def robust_outliers(
    values: npt.ArrayLike,
    metric: str,
    threshold: float = ROBUST_Z_THRESHOLD,
    side: Literal["both", "low", "high"] = "both",
) -> list[Finding]:
    """Annotators whose modified z-score on a per-annotator `metric` passes `threshold`."""
    x = np.asarray(values, dtype=np.float64)
    z = robust_z_scores(x)
    flagged = np.zeros(z.shape, dtype=np.bool_)
    known = ~np.isnan(z)
    if side in ("both", "low"):
        flagged[known] |= z[known] < -threshold
    if side in ("both", "high"):
        flagged[known] |= z[known] > threshold
    median = float(np.nanmedian(x)) if known.any() else np.nan
    return [
        Finding(
            int(a),
            f"robust_outlier:{metric}",
            float(z[a]),
            threshold,
            f"{metric} = {x[a]:.4g} against a pool median of {median:.4g}; modified z "
            f"{z[a]:.2f} beyond ±{threshold} (Iglewicz & Hoaglin 1993)",
        )
        for a in np.flatnonzero(flagged)
    ]


def consensus_agreement(
    item_codes: npt.ArrayLike,
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    consensus: npt.ArrayLike,
    n_workers: int,
    threshold: float = ROBUST_Z_THRESHOLD,
    min_items: int = 20,
) -> ShareCheck:
    """Share of each annotator's labels equal to the item's aggregated label.

    Rows on items without a consensus (label -1) are skipped. The annotator's own
    label is part of a majority consensus, which flatters agreement when items
    have few annotators; a Dawid-Skene consensus weighs it by skill instead.
    Annotators with at least `min_items` rows whose modified z-score of the
    share is below `-threshold` are flagged.
    """
    workers, decided, agreed = _consensus_rows(
        item_codes, worker_codes, label_codes, consensus, n_workers
    )
    n = np.bincount(workers[decided], minlength=n_workers)
    hits = np.bincount(workers[agreed], minlength=n_workers)
    share = _share(hits, n)
    z = robust_z_scores(np.where(n >= min_items, share, np.nan))
    findings = [
        Finding(
            int(a),
            "low_consensus_agreement",
            float(share[a]),
            threshold,
            f"agrees with the consensus on {hits[a]} of {n[a]} items ({share[a]:.1%}); "
            f"modified z {z[a]:.2f} < -{threshold} against annotators with >= {min_items} items",
        )
        for a in np.flatnonzero(np.nan_to_num(z, nan=0.0) < -threshold)
    ]
    return ShareCheck(n.astype(np.int64), hits.astype(np.int64), share, z, findings)


def label_divergence(
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    n_workers: int,
    n_labels: int,
    alpha: float = 0.05,
    min_items: int = 20,
    min_js: float = 0.1,
) -> LabelDivergence:
    """Compare each annotator's label counts with the distribution of everyone else's.

    Pearson's chi-square goodness-of-fit of the annotator's counts against the
    expected counts from the pool *without* that annotator (labels the rest of
    the pool never used are left out of the test; an annotator using one gets
    chi-square inf, p 0), p-value from `scipy.stats.chi2`; and the Jensen-Shannon
    distance (base 2, in [0, 1]; Endres & Schindelin 2003, IEEE Trans. Inf.
    Theory 49:1858-1860) between the two distributions as the effect size.
    Flagged: `n >= min_items`, p below `alpha` divided by the number of annotators
    tested (Bonferroni) and JS distance at least `min_js`, so a large pool does
    not flag trivial differences.
    """
    workers = _codes(worker_codes, "worker_codes", n_workers)
    labels = _codes(label_codes, "label_codes", n_labels, size=workers.size)
    counts = np.bincount(workers * n_labels + labels, minlength=n_workers * n_labels)
    counts = counts.reshape(n_workers, n_labels).astype(np.float64)
    rest = counts.sum(axis=0)[None, :] - counts
    n = counts.sum(axis=1)
    rest_total = rest.sum(axis=1, keepdims=True)
    rest_share = np.divide(rest, rest_total, out=np.zeros_like(rest), where=rest_total > 0)
    expected = rest_share * n[:, None]
    in_test = expected > 0
    terms = np.divide((counts - expected) ** 2, expected, out=np.zeros_like(counts), where=in_test)
    impossible = ((counts > 0) & ~in_test).any(axis=1)
    chi2 = np.where(impossible, np.inf, terms.sum(axis=1))
    dof = np.maximum(in_test.sum(axis=1) - 1, 0)
    testable = (n > 0) & (dof > 0)
    p_value = np.full(n_workers, np.nan)
    p_value[testable] = stats.chi2.sf(chi2[testable], dof[testable])
    own_share = np.divide(counts, n[:, None], out=np.zeros_like(counts), where=n[:, None] > 0)
    js = np.full(n_workers, np.nan)
    has_rest = (n > 0) & (rest_total[:, 0] > 0)
    js[has_rest] = jensenshannon(own_share[has_rest], rest_share[has_rest], base=2, axis=1)
    chi2[~testable] = np.nan

    tested = testable & (n >= min_items)
    cutoff = alpha / max(int(tested.sum()), 1)
    flagged = tested & (p_value < cutoff) & (js >= min_js)
    findings = [
        Finding(
            int(a),
            "label_distribution",
            float(p_value[a]),
            cutoff,
            f"label counts over {int(n[a])} items differ from the rest of the pool: chi-square "
            f"{chi2[a]:.2f} on {dof[a]} df, p = {p_value[a]:.3g} < {cutoff:.3g} "
            f"(alpha {alpha} / {int(tested.sum())} annotators); Jensen-Shannon distance "
            f"{js[a]:.3f} >= {min_js}",
        )
        for a in np.flatnonzero(flagged)
    ]
    return LabelDivergence(n.astype(np.int64), chi2, dof.astype(np.int64), p_value, js, findings)


def speed_anomalies(
    worker_codes: npt.ArrayLike,
    seconds: npt.ArrayLike,
    text_chars: npt.ArrayLike,
    n_workers: int,
    chars_per_second: float = READING_CHARS_PER_SECOND,
    max_share: float = 0.2,
    min_items: int = 10,
) -> ShareCheck:
    """Share of each annotator's items done faster than the text can be read.

    The floor of an item is `text_chars / chars_per_second` seconds. Annotators
    with at least `min_items` items and more than `max_share` of them under the
    floor are flagged.
    """
    workers = _codes(worker_codes, "worker_codes", n_workers)
    spent = _floats(seconds, "seconds", workers.size)
    chars = _floats(text_chars, "text_chars", workers.size)
    if not chars_per_second > 0:
        raise ValueError(f"chars_per_second must be positive, not {chars_per_second}")
    too_fast = spent < chars / chars_per_second
    n = np.bincount(workers, minlength=n_workers)
    hits = np.bincount(workers[too_fast], minlength=n_workers)
    share = _share(hits, n)
    flagged = (n >= min_items) & (np.nan_to_num(share) > max_share)
    findings = [
        Finding(
            int(a),
            "too_fast",
            float(share[a]),
            max_share,
            f"{hits[a]} of {n[a]} items ({share[a]:.1%}) took less than the reading floor of "
            f"text length / {chars_per_second:g} chars per second; allowed share {max_share:.0%}",
        )
        for a in np.flatnonzero(flagged)
    ]
    return ShareCheck(
        n.astype(np.int64), hits.astype(np.int64), share, robust_z_scores(share), findings
    )


def work_sessions(
    worker_codes: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    gap_seconds: float = SESSION_GAP_SECONDS,
) -> tuple[IntArray, IntArray]:
    """Session number and 0-based position within the session of every row.

    An annotator's rows are ordered by time; a pause longer than `gap_seconds`
    starts a new session. Session numbers are global and increase with time per
    annotator.
    """
    workers = _codes(worker_codes, "worker_codes")
    when = _floats(timestamps, "timestamps", workers.size)
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
    workers = _codes(worker_codes, "worker_codes", n_workers)
    y = _floats(values, "values", workers.size)
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
    workers, decided, agreed = _consensus_rows(
        item_codes, worker_codes, label_codes, consensus, n_workers
    )
    when = _floats(timestamps, "timestamps", workers.size)
    window = ((when - when.min()) // window_seconds).astype(np.int64) if when.size else workers
    n_windows = int(window.max()) + 1 if when.size else 0
    cell = workers * n_windows + window
    n = np.bincount(cell[decided], minlength=n_workers * n_windows).reshape(n_workers, -1)
    hits = np.bincount(cell[agreed], minlength=n_workers * n_windows).reshape(n_workers, -1)
    share = np.where(n >= min_items_per_window, _share(hits, n), np.nan)
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


def _consensus_rows(
    item_codes: npt.ArrayLike,
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    consensus: npt.ArrayLike,
    n_workers: int,
) -> tuple[IntArray, BoolArray, BoolArray]:
    """Worker codes, whether the row's item has a consensus, and whether the row agrees."""
    items = _codes(item_codes, "item_codes")
    workers = _codes(worker_codes, "worker_codes", n_workers, size=items.size)
    labels = _codes(label_codes, "label_codes", size=items.size)
    final = np.asarray(consensus, dtype=np.int64)
    if items.size and int(items.max()) >= final.size:
        raise ValueError("consensus needs one label (or -1) per item code")
    chosen = final[items] if items.size else np.zeros(0, dtype=np.int64)
    decided = chosen >= 0
    return workers, decided, decided & (labels == chosen)


def _codes(
    values: npt.ArrayLike, name: str, upper: int | None = None, size: int | None = None
) -> IntArray:
    """1-D non-negative integer codes (below `upper`, of length `size` when given)."""
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.astype(np.int64).reshape(0)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer codes")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} entries, one per row")
    if arr.size and (int(arr.min()) < 0 or (upper is not None and int(arr.max()) >= upper)):
        raise ValueError(f"{name} must lie in 0..{'' if upper is None else upper - 1}")
    return arr.astype(np.int64, copy=False)


def _floats(values: npt.ArrayLike, name: str, size: int) -> FloatArray:
    """1-D finite floats of length `size`."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be {size} finite numbers, one per row")
    return arr


def _share(part: npt.NDArray[np.integer], whole: npt.NDArray[np.integer]) -> FloatArray:
    """`part / whole` elementwise, NaN where `whole` is 0."""
    out = np.full(whole.shape, np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out
