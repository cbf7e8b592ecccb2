"""Annotator monitoring on constructed crowds: who is flagged, who is not, and why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from annotary.core.aggregation import MajorityVote
from annotary.core.quality.monitoring import (
    Finding,
    consensus_agreement,
    label_divergence,
    robust_outliers,
    robust_z_scores,
    speed_anomalies,
)
from annotary.core.quality.trends import agreement_drift, fatigue, work_sessions

NORMAL = list(range(12))
SPAMMER, FAST = 12, 13
N_WORKERS, N_LABELS, N_ITEMS = 14, 4, 600


@dataclass
class Crowd:
    items: np.ndarray
    workers: np.ndarray
    labels: np.ndarray
    seconds: np.ndarray
    chars: np.ndarray
    consensus: np.ndarray


@pytest.fixture(scope="module")
def crowd() -> Crowd:
    """Twelve careful annotators, a spammer answering uniformly at random, and a fast
    clicker who is accurate but spends a couple of seconds on texts of 300-1500 chars."""
    rng = np.random.default_rng(42)
    truth = rng.choice(N_LABELS, size=N_ITEMS, p=[0.6, 0.25, 0.1, 0.05])
    text_chars = rng.integers(300, 1500, N_ITEMS)
    items = np.repeat(np.arange(N_ITEMS), 5)
    workers = np.concatenate([rng.choice(N_WORKERS, 5, replace=False) for _ in range(N_ITEMS)])
    right = rng.random(items.size) < 0.85
    labels = np.where(right, truth[items], rng.integers(0, N_LABELS, items.size))
    spam = workers == SPAMMER
    labels[spam] = rng.integers(0, N_LABELS, spam.sum())
    chars = text_chars[items].astype(float)
    seconds = chars / 20.0 * rng.lognormal(0.0, 0.3, items.size) + 5.0
    fast = workers == FAST
    seconds[fast] = rng.uniform(1.5, 4.0, fast.sum())
    consensus = MajorityVote().fit(items, workers, labels, N_ITEMS, N_WORKERS, N_LABELS).labels_
    return Crowd(items, workers, labels, seconds, chars, consensus)


def _flagged(findings: list[Finding]) -> set[int]:
    return {f.annotator for f in findings}


def test_spammer_has_low_agreement_with_consensus(crowd: Crowd) -> None:
    check = consensus_agreement(
        crowd.items, crowd.workers, crowd.labels, crowd.consensus, N_WORKERS
    )
    assert _flagged(check.findings) == {SPAMMER}
    (finding,) = check.findings
    assert finding.kind == "low_consensus_agreement"
    assert finding.threshold == 3.5
    assert finding.value == pytest.approx(check.share[SPAMMER])
    assert "agrees with the consensus on" in finding.evidence
    mask = crowd.workers == 0
    expected = (crowd.labels[mask] == crowd.consensus[crowd.items[mask]]).mean()
    assert check.share[0] == pytest.approx(expected)


def test_spammer_label_distribution_differs_from_the_pool(crowd: Crowd) -> None:
    check = label_divergence(crowd.workers, crowd.labels, N_WORKERS, N_LABELS)
    assert _flagged(check.findings) == {SPAMMER}
    assert check.findings[0].kind == "label_distribution"
    assert check.findings[0].threshold == pytest.approx(0.05 / N_WORKERS)
    # the statistic is scipy's goodness-of-fit against the pool without the annotator
    own = np.bincount(crowd.labels[crowd.workers == SPAMMER], minlength=N_LABELS)
    rest = np.bincount(crowd.labels[crowd.workers != SPAMMER], minlength=N_LABELS)
    expected = rest / rest.sum() * own.sum()
    reference = stats.chisquare(own, expected)
    assert check.chi2[SPAMMER] == pytest.approx(reference.statistic)
    assert check.p_value[SPAMMER] == pytest.approx(reference.pvalue)
    assert check.dof[SPAMMER] == N_LABELS - 1
    assert check.js_distance[SPAMMER] == pytest.approx(
        jensenshannon(own / own.sum(), rest / rest.sum(), base=2)
    )


def test_a_label_the_pool_never_used_is_infinitely_surprising() -> None:
    check = label_divergence([0, 0, 1, 1, 2], [0, 1, 0, 1, 2], 3, 3, min_items=1)
    assert check.chi2[2] == np.inf
    assert check.p_value[2] == 0.0


def test_fast_clicker_is_flagged_for_speed(crowd: Crowd) -> None:
    check = speed_anomalies(crowd.workers, crowd.seconds, crowd.chars, N_WORKERS)
    assert _flagged(check.findings) == {FAST}
    assert check.share[FAST] == 1.0
    assert check.findings[0].kind == "too_fast"
    assert check.findings[0].threshold == 0.2
    assert np.nanmax(check.share[NORMAL]) < 0.05


def test_robust_outliers_on_median_time(crowd: Crowd) -> None:
    median_seconds = [np.median(crowd.seconds[crowd.workers == w]) for w in range(N_WORKERS)]
    findings = robust_outliers(median_seconds, "median_seconds", side="low")
    assert _flagged(findings) == {FAST}
    assert findings[0].kind == "robust_outlier:median_seconds"
    assert findings[0].value < -3.5


def test_robust_z_scores_formula_and_zero_mad_fallback() -> None:
    x = np.array([10.0, 12.0, 11.0, 13.0, 40.0, np.nan])
    known = x[:5]
    mad = np.median(np.abs(known - np.median(known)))
    expected = 0.6745 * (known - np.median(known)) / mad
    z = robust_z_scores(x)
    np.testing.assert_allclose(z[:5], expected)
    assert np.isnan(z[5])
    # MAD = 0: over half the values equal; the scaled mean absolute deviation stands in
    flat = np.array([1.0, 1.0, 1.0, 1.0, 0.5])
    mean_ad = np.mean(np.abs(flat - 1.0))
    np.testing.assert_allclose(robust_z_scores(flat), (flat - 1.0) / (1.2533141373155003 * mean_ad))
    assert robust_z_scores([2.0, 2.0, 2.0]).tolist() == [0.0, 0.0, 0.0]


def test_work_sessions_split_on_long_pauses() -> None:
    workers = np.array([0, 0, 0, 0, 1, 1])
    times = np.array([0.0, 600.0, 600.0 + 1801, 600.0 + 1801 + 60, 100.0, 50.0])
    session, position = work_sessions(workers, times)
    assert position.tolist() == [0, 1, 0, 1, 1, 0]
    assert session[0] == session[1] != session[2] == session[3]
    assert session[4] == session[5] not in set(session[:4].tolist())


def _sessions(rng: np.random.Generator, n_sessions: int, length: int, start: float) -> np.ndarray:
    """Timestamps of `n_sessions` sessions of `length` items, 60 s apart, a day between."""
    return np.concatenate(
        [start + day * 86_400 + np.arange(length) * 60.0 for day in range(n_sessions)]
    )


def test_fatigue_flags_declining_correctness_only() -> None:
    rng = np.random.default_rng(3)
    length, n_sessions = 40, 5
    times = np.concatenate([_sessions(rng, n_sessions, length, 0.0)] * 2)
    workers = np.repeat([0, 1], n_sessions * length)
    position = np.tile(np.arange(length), 2 * n_sessions)
    p_right = np.where(workers == 0, 0.95 - 0.015 * position, 0.85)
    correct = (rng.random(workers.size) < p_right).astype(float)
    check = fatigue(workers, times, correct, 2)
    assert _flagged(check.findings) == {0}
    assert check.findings[0].kind == "fatigue_correctness"
    assert check.slope[0] < 0 and check.p_value[0] < 0.05
    ref = stats.linregress(position[workers == 1], correct[workers == 1])
    assert check.slope[1] == pytest.approx(ref.slope)
    assert check.p_value[1] == pytest.approx(ref.pvalue)

    seconds = np.where(workers == 1, 60.0 - 1.0 * position, 30.0) + rng.normal(0, 3, workers.size)
    rushing = fatigue(workers, times, seconds, 2, measure="seconds")
    assert _flagged(rushing.findings) == {1}
    assert rushing.findings[0].kind == "fatigue_seconds"


def test_drift_flags_falling_agreement_over_days() -> None:
    rng = np.random.default_rng(8)
    days, per_day = 8, 30
    day = np.repeat(np.arange(days), per_day)
    items = np.arange(days * per_day)
    consensus = rng.integers(0, 3, items.size)
    rows_items, rows_workers, rows_labels, rows_times = [], [], [], []
    for worker in range(2):
        p_agree = 0.95 - 0.08 * day if worker == 0 else np.full(day.size, 0.9)
        agree = rng.random(items.size) < p_agree
        labels = np.where(agree, consensus, (consensus + 1) % 3)
        rows_items.append(items)
        rows_workers.append(np.full(items.size, worker))
        rows_labels.append(labels)
        rows_times.append(day * 86_400.0 + rng.uniform(0, 3600, items.size))
    share, trend = agreement_drift(
        np.concatenate(rows_items),
        np.concatenate(rows_workers),
        np.concatenate(rows_labels),
        consensus,
        np.concatenate(rows_times),
        n_workers=2,
    )
    assert share.shape == (2, days)
    assert _flagged(trend.findings) == {0}
    assert trend.findings[0].kind == "agreement_drift"
    assert trend.n.tolist() == [days, days]


def test_normal_annotators_raise_no_finding(crowd: Crowd) -> None:
    findings = [
        *consensus_agreement(
            crowd.items, crowd.workers, crowd.labels, crowd.consensus, N_WORKERS
        ).findings,
        *label_divergence(crowd.workers, crowd.labels, N_WORKERS, N_LABELS).findings,
        *speed_anomalies(crowd.workers, crowd.seconds, crowd.chars, N_WORKERS).findings,
    ]
    assert not _flagged(findings) & set(NORMAL)
    assert _flagged(findings) == {SPAMMER, FAST}
