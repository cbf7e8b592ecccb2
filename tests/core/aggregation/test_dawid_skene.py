"""DawidSkene: the 1979 anaesthetist data, crowd-kit on random data, scale."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

from annotary.core.aggregation import DawidSkene, MajorityVote
from tests.core.aggregation.vectors import encode, load_vector

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


@pytest.mark.parametrize("n_iter", [100, 2000])
def test_reproduces_dawid_skene_1979(n_iter: int) -> None:
    case = load_vector("dawid_skene_1979_anaesthetists")
    data = encode(case["annotations"], labels=case["classes"])
    ds = DawidSkene(n_iter=n_iter).fit(
        data.item_codes, data.worker_codes, data.label_codes, *data.shape
    )
    expected, tol = case["expected"], case["tolerance"]
    priors = [expected["class_priors"][str(k)] for k in case["classes"]]
    np.testing.assert_allclose(ds.priors_, priors, atol=tol, rtol=0)
    posteriors = [expected["posteriors"][str(item)] for item in data.items]
    np.testing.assert_allclose(ds.probas_, posteriors, atol=tol, rtol=0)
    labels = [expected["labels"][str(item)] for item in data.items]
    assert [data.labels[code] for code in ds.labels_] == labels
    assert ds.converged_
    assert ds.method == "dawid_skene"
    np.testing.assert_allclose(ds.confidence_, ds.probas_.max(axis=1))


def test_zero_iterations_is_the_majority_vote_initialisation() -> None:
    case = load_vector("dawid_skene_1979_anaesthetists")
    data = encode(case["annotations"], labels=case["classes"])
    ds = DawidSkene(n_iter=0).fit(data.item_codes, data.worker_codes, data.label_codes, *data.shape)
    mv = MajorityVote().fit(data.item_codes, data.worker_codes, data.label_codes, *data.shape)
    np.testing.assert_allclose(ds.probas_, mv.probas_)


def _random_crowd(
    seed: int, n_items: int, n_workers: int, n_labels: int, per_item: int, low: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_items)
    items = np.repeat(np.arange(n_items), per_item)
    workers = rng.integers(0, n_workers, items.size)
    skill = rng.uniform(low, 0.95, n_workers)
    right = rng.random(items.size) < skill[workers]
    labels = np.where(right, truth[items], rng.integers(0, n_labels, items.size))
    return items, workers, labels, truth


@pytest.mark.parametrize("seed", range(3))
def test_matches_crowdkit_iteration_for_iteration(seed: int) -> None:
    n_items, n_workers, n_labels = 120, 8, 3
    items, workers, labels, _ = _random_crowd(seed, n_items, n_workers, n_labels, 4)
    ds = DawidSkene(n_iter=30, tol=-np.inf).fit(
        items, workers, labels, n_items, n_workers, n_labels
    )
    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    reference = CrowdKitDawidSkene(n_iter=30, tol=-np.inf).fit(frame)
    assert ds.n_iter_ == len(reference.loss_history_) == 30
    probas = reference.probas_.sort_index().reindex(columns=range(n_labels)).to_numpy()
    # crowd-kit clips its returned posteriors at 1e-10
    np.testing.assert_allclose(ds.probas_, probas, atol=1e-8, rtol=0)
    np.testing.assert_allclose(ds.priors_, reference.priors_.sort_index().to_numpy(), atol=1e-9)
    assert (ds.labels_ == reference.labels_.sort_index().to_numpy()).all()
    # crowd-kit errors_: rows (worker, observed label), columns true label
    errors = reference.errors_
    for (worker, observed), row in errors.iterrows():
        np.testing.assert_allclose(
            ds.errors_[worker, :, observed], row.reindex(range(n_labels)).to_numpy(), atol=1e-9
        )


def test_converged_result_matches_crowdkit_run_to_convergence() -> None:
    n_items, n_workers, n_labels = 300, 10, 4
    items, workers, labels, truth = _random_crowd(13, n_items, n_workers, n_labels, 5, low=0.5)
    ds = DawidSkene().fit(items, workers, labels, n_items, n_workers, n_labels)
    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    reference = CrowdKitDawidSkene(n_iter=120, tol=-np.inf).fit(frame)
    probas = reference.probas_.sort_index().reindex(columns=range(n_labels)).to_numpy()
    assert ds.converged_
    assert ds.n_iter_ < 100
    np.testing.assert_allclose(ds.probas_, probas, atol=1e-4, rtol=0)
    assert (ds.labels_ == truth).mean() > 0.8


def test_items_without_observations_and_unused_workers() -> None:
    ds = DawidSkene().fit([0, 0, 2, 2], [0, 1, 0, 1], [1, 1, 0, 0], 4, 3, 2)
    assert ds.labels_.tolist() == [1, -1, 0, -1]
    assert np.isnan(ds.confidence_[[1, 3]]).all()
    assert (ds.errors_[2] == 0).all()
    np.testing.assert_allclose(ds.errors_[:2].sum(axis=2), 1.0)


def test_log_likelihood_never_decreases() -> None:
    items, workers, labels, _ = _random_crowd(3, 200, 6, 3, 3)
    ds = DawidSkene(n_iter=50, tol=-np.inf).fit(items, workers, labels, 200, 6, 3)
    assert np.all(np.diff(ds.log_likelihood_) >= -1e-12)


def test_a_million_observations_in_under_ten_seconds() -> None:
    n_items, n_workers, n_labels = 300_000, 50, 5
    rng = np.random.default_rng(0)
    per_item = rng.integers(3, 5, n_items)  # 3 or 4 workers per item, ~1.05M rows
    items = np.repeat(np.arange(n_items), per_item)
    workers = rng.integers(0, n_workers, items.size)
    truth = rng.integers(0, n_labels, n_items)
    skill = rng.uniform(0.5, 0.95, n_workers)
    right = rng.random(items.size) < skill[workers]
    labels = np.where(right, truth[items], rng.integers(0, n_labels, items.size))
    assert items.size > 1_000_000
    started = time.perf_counter()
    ds = DawidSkene().fit(items, workers, labels, n_items, n_workers, n_labels)
    elapsed = time.perf_counter() - started
    assert elapsed < 10.0, f"Dawid-Skene took {elapsed:.1f} s on {items.size} observations"
    assert (ds.labels_ == truth).mean() > 0.9
