"""Annotator monitoring: outliers against consensus and the pool, and speed
(fatigue and drift over time are in `trends`).

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
    workers, decided, agreed = consensus_rows(
        item_codes, worker_codes, label_codes, consensus, n_workers
    )
    n = np.bincount(workers[decided], minlength=n_workers)
    hits = np.bincount(workers[agreed], minlength=n_workers)
    share = share_of(hits, n)
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
    workers = codes(worker_codes, "worker_codes", n_workers)
    labels = codes(label_codes, "label_codes", n_labels, size=workers.size)
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
    workers = codes(worker_codes, "worker_codes", n_workers)
    spent = floats(seconds, "seconds", workers.size)
    chars = floats(text_chars, "text_chars", workers.size)
    if not chars_per_second > 0:
        raise ValueError(f"chars_per_second must be positive, not {chars_per_second}")
    too_fast = spent < chars / chars_per_second
    n = np.bincount(workers, minlength=n_workers)
    hits = np.bincount(workers[too_fast], minlength=n_workers)
    share = share_of(hits, n)
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


# Input checks shared with `trends`.


def consensus_rows(
    item_codes: npt.ArrayLike,
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    consensus: npt.ArrayLike,
    n_workers: int,
) -> tuple[IntArray, BoolArray, BoolArray]:
    """Worker codes, whether the row's item has a consensus, and whether the row agrees."""
    items = codes(item_codes, "item_codes")
    workers = codes(worker_codes, "worker_codes", n_workers, size=items.size)
    labels = codes(label_codes, "label_codes", size=items.size)
    final = np.asarray(consensus, dtype=np.int64)
    if items.size and int(items.max()) >= final.size:
        raise ValueError("consensus needs one label (or -1) per item code")
    chosen = final[items] if items.size else np.zeros(0, dtype=np.int64)
    decided = chosen >= 0
    return workers, decided, decided & (labels == chosen)


def codes(
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


def floats(values: npt.ArrayLike, name: str, size: int) -> FloatArray:
    """1-D finite floats of length `size`."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (size,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be {size} finite numbers, one per row")
    return arr


def share_of(part: npt.NDArray[np.integer], whole: npt.NDArray[np.integer]) -> FloatArray:
    """`part / whole` elementwise, NaN where `whole` is 0."""
    out = np.full(whole.shape, np.nan)
    np.divide(part, whole, out=out, where=whole > 0)
    return out
