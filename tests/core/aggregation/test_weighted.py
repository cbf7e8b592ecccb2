"""WeightedVote: crowd-kit's weighted majority vote and gold majority vote, weight schemes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from annotary.core.aggregation import WeightedVote

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from crowdkit.aggregation import MajorityVote as CrowdKitMajorityVote
    from crowdkit.aggregation.utils import get_accuracy

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def test_weights_decide_against_the_head_count() -> None:
    wv = WeightedVote([3.0, 1.0, 1.0]).fit([0, 0, 0], [0, 1, 2], [0, 1, 1], 1, 3, 2)
    assert wv.labels_.tolist() == [0]
    assert wv.confidence_[0] == pytest.approx(0.6)
    assert wv.method == "weighted"


def test_float_rounding_does_not_break_a_tie() -> None:
    # 0.1 + 0.2 != 0.3 in floating point; the tie rule must still apply
    wv = WeightedVote([0.1, 0.2, 0.3]).fit([0, 0, 0], [0, 1, 2], [1, 1, 0], 1, 3, 2)
    assert wv.tied_.tolist() == [True]
    assert wv.labels_.tolist() == [0]


def test_items_whose_voters_all_weigh_zero_get_no_label() -> None:
    wv = WeightedVote([0.0, 1.0]).fit([0, 1], [0, 1], [1, 1], 3, 2, 2)
    assert wv.labels_.tolist() == [-1, 1, -1]
    assert np.isnan(wv.confidence_[[0, 2]]).all()


def test_log_odds_weights() -> None:
    # accuracy (8 + 1) / (10 + 2) = 0.75 with 3 labels: log(2 * 0.75 / 0.25) = log 6
    wv = WeightedVote.from_gold([8, 0, 1], [10, 0, 10], n_labels=3)
    assert wv.weights[0] == pytest.approx(math.log(6))
    assert wv.weights[1] == pytest.approx(math.log(2))  # no gold: accuracy 1/2
    assert wv.weights[2] == 0.0  # below chance: no vote
    raw = WeightedVote.from_gold([8], [10], n_labels=2, scheme="accuracy", prior=0)
    assert raw.weights.tolist() == [0.8]


def test_from_gold_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="correct must lie"):
        WeightedVote.from_gold([3], [2], n_labels=2)
    with pytest.raises(ValueError, match="prior > 0"):
        WeightedVote.from_gold([2], [2], n_labels=2, prior=0)
    with pytest.raises(ValueError, match="unknown scheme"):
        WeightedVote.from_gold([1], [2], n_labels=2, scheme="median")  # type: ignore[arg-type]


def test_weights_must_match_workers() -> None:
    with pytest.raises(ValueError, match="n_workers is 3"):
        WeightedVote([1.0, 1.0]).fit([0], [0], [0], 1, 3, 2)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedVote([-1.0])


@pytest.mark.parametrize("seed", range(4))
def test_matches_crowdkit_majority_vote_with_skills(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_workers, n_labels, n_obs = 150, 6, 3, 600
    items = rng.integers(0, n_items, n_obs)
    workers = rng.integers(0, n_workers, n_obs)
    labels = rng.integers(0, n_labels, n_obs)
    weights = rng.uniform(0.1, 2.0, n_workers)
    wv = WeightedVote(weights).fit(items, workers, labels, n_items, n_workers, n_labels)
    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    reference = CrowdKitMajorityVote().fit(frame, skills=pd.Series(weights))
    probas = reference.probas_.reindex(columns=range(n_labels), fill_value=0.0)
    seen = np.unique(items)
    assert (wv.labels_[seen] == reference.labels_.loc[seen].to_numpy()).all()
    np.testing.assert_allclose(wv.probas_[seen], probas.loc[seen].to_numpy(), atol=1e-12)


def test_accuracy_scheme_matches_crowdkit_gold_majority_vote() -> None:
    # crowd-kit's GoldMajorityVote is get_accuracy on gold + MajorityVote with those skills;
    # its own predict() breaks with current scikit-learn, so the two steps are called directly.
    rng = np.random.default_rng(7)
    n_items, n_workers, n_labels = 300, 5, 3
    truth = rng.integers(0, n_labels, n_items)
    accuracy = np.array([0.9, 0.8, 0.6, 0.5, 0.4])
    items = np.repeat(np.arange(n_items), n_workers)
    workers = np.tile(np.arange(n_workers), n_items)
    right = rng.random(items.size) < accuracy[workers]
    labels = np.where(right, truth[items], rng.integers(0, n_labels, items.size))
    gold = items < 60
    correct = np.bincount(workers[gold], weights=labels[gold] == truth[items[gold]])
    answered = np.bincount(workers[gold])
    wv = WeightedVote.from_gold(correct.astype(int), answered, n_labels, "accuracy", prior=0)
    wv.fit(items, workers, labels, n_items, n_workers, n_labels)

    frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
    skills = get_accuracy(frame[gold], pd.Series(truth[:60], index=range(60)), by="worker")
    np.testing.assert_allclose(wv.weights, skills.sort_index().to_numpy())
    reference = CrowdKitMajorityVote().fit(frame, skills=skills)
    assert (wv.labels_ == reference.labels_.sort_index().to_numpy()).all()
