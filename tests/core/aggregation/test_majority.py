"""MajorityVote: the QA vector with ties, crowd-kit on random data, edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from annotary.core.aggregation import MajorityVote
from tests.core.aggregation.vectors import encode, load_vector

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from crowdkit.aggregation import MajorityVote as CrowdKitMajorityVote

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def test_reproduces_the_tie_vector() -> None:
    case = load_vector("majority_vote_ties_small")
    assert case["tie_rule"].startswith("among the labels with the most votes, pick the smallest")
    data = encode(case["annotations"])
    mv = MajorityVote().fit(data.item_codes, data.worker_codes, data.label_codes, *data.shape)
    expected = case["expected"]
    got = {item: data.labels[code] for item, code in zip(data.items, mv.labels_, strict=True)}
    assert got == expected["labels"]
    for item, share in expected["vote_share"].items():
        assert mv.confidence_[data.items.index(item)] == pytest.approx(share, abs=case["tolerance"])
    tied = {item for item, flag in zip(data.items, mv.tied_, strict=True) if flag}
    assert tied == set(expected["ties"])
    assert mv.method == "majority"


def test_tie_goes_to_the_smallest_code_whatever_the_order_of_votes() -> None:
    mv = MajorityVote().fit([0, 0, 1, 1], [0, 1, 0, 1], [2, 1, 1, 2], 2, 2, 3)
    assert mv.labels_.tolist() == [1, 1]
    assert mv.tied_.tolist() == [True, True]
    assert mv.confidence_.tolist() == [0.5, 0.5]


def test_items_without_votes_get_minus_one_and_nan() -> None:
    mv = MajorityVote().fit([1, 1], [0, 1], [0, 0], 3, 2, 2)
    assert mv.labels_.tolist() == [-1, 0, -1]
    assert np.isnan(mv.confidence_[[0, 2]]).all()
    assert mv.probas_[0].tolist() == [0.0, 0.0]


def test_repeated_votes_of_one_worker_each_count() -> None:
    mv = MajorityVote().fit([0, 0, 0], [0, 0, 1], [1, 1, 0], 1, 2, 2)
    assert mv.labels_.tolist() == [1]
    assert mv.confidence_[0] == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", range(5))
def test_matches_crowdkit_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_workers, n_labels, n_obs = 200, 7, 4, 700
    items = rng.integers(0, n_items, n_obs)
    workers = rng.integers(0, n_workers, n_obs)
    labels = rng.integers(0, n_labels, n_obs)
    mv = MajorityVote().fit(items, workers, labels, n_items, n_workers, n_labels)

    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    reference = CrowdKitMajorityVote().fit(frame)
    ref_labels = reference.labels_
    ref_probas = reference.probas_.reindex(columns=range(n_labels), fill_value=0.0)
    seen = np.unique(items)
    assert (mv.labels_[seen] == ref_labels.loc[seen].to_numpy()).all()
    np.testing.assert_allclose(mv.probas_[seen], ref_probas.loc[seen].to_numpy(), atol=1e-12)
    assert (mv.labels_[np.setdiff1d(np.arange(n_items), seen)] == -1).all()
    assert mv.tied_.any()  # random data has ties, so the tie rule was exercised


@pytest.mark.parametrize(
    ("items", "labels", "message"),
    [
        ([0, 5], [0, 0], "item_codes must lie in 0..2"),
        ([0, 1], [0, -1], "label_codes must lie in 0..1"),
        ([0.0, 1.0], [0, 1], "item_codes must hold integer codes"),
        ([0, 1, 2], [0, 1], "same length"),
    ],
)
def test_rejects_bad_codes(items: list[float], labels: list[int], message: str) -> None:
    workers = [0] * len(items)
    with pytest.raises(ValueError, match=message):
        MajorityVote().fit(items, workers[: len(items)], labels, 3, 1, 2)
