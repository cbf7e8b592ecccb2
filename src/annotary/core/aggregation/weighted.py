"""Weighted vote: each worker's vote counts with a weight earned on gold items."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation._codes import (
    BoolArray,
    FloatArray,
    IntArray,
    check_count,
    check_long,
    chosen_value,
    top_label,
    vote_table,
)

WeightScheme = Literal["log_odds", "accuracy"]


class WeightedVote:
    """Label each item with the label of the largest total worker weight.

    The score of label `k` on item `i` is the sum of the weights of the
    observations of `k` on `i`. **Tie rule** (as `MajorityVote`): among the labels
    with the top score the smallest label code wins; scores within a relative
    1e-12 of the top count as tied, so float rounding never decides a vote.

    Weights are given per worker, non-negative. `from_gold` derives them from
    gold answers in one of two documented schemes:

    - `"accuracy"`: the weight is the worker's gold accuracy, as in crowd-kit's
      `GoldMajorityVote` (majority vote with skills = accuracy on gold).
    - `"log_odds"`: `w = max(0, log((K - 1) p / (1 - p)))` for accuracy `p` and
      `K` labels, the optimal weight for independent workers whose errors are
      spread evenly over the wrong labels (Nitzan & Paroush 1982, *Optimal
      decision rules in uncertain dichotomous choice situations*, International
      Economic Review 23(2); Li & Yu 2014, *Error rate bounds and iterative
      weighted majority voting for crowdsourcing*, arXiv:1411.4086). Workers at or
      below chance (`p <= 1/K`) get weight 0.

    `confidence_` is the chosen label's share of the item's total weight. Items
    without observations, or whose voters all weigh 0, get label -1 and
    confidence NaN: there is no weighted evidence, and the caller decides the
    fallback (e.g. `MajorityVote`).

    >>> wv = WeightedVote([3.0, 1.0, 1.0]).fit([0, 0, 0], [0, 1, 2], [0, 1, 1], 1, 3, 2)
    >>> wv.labels_.tolist(), wv.confidence_.tolist()
    ([0], [0.6])
    """

    method: ClassVar[str] = "weighted"

    labels_: IntArray
    """Chosen label code per item; -1 where the item has no weighted evidence."""
    confidence_: FloatArray
    """The chosen label's share of the item's total weight; NaN where the label is -1."""
    scores_: FloatArray
    """Items x labels summed weights."""
    probas_: FloatArray
    """Items x labels weight shares (rows of zeros where the label is -1)."""
    tied_: BoolArray
    """Whether the top score was shared by several labels (the tie rule decided)."""

    def __init__(self, weights: npt.ArrayLike) -> None:
        arr = np.asarray(weights, dtype=np.float64)
        if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError("weights must be a 1-D array of finite, non-negative numbers")
        self.weights = arr

    @classmethod
    def from_gold(
        cls,
        correct: npt.ArrayLike,
        answered: npt.ArrayLike,
        n_labels: int,
        scheme: WeightScheme = "log_odds",
        prior: float = 1.0,
    ) -> Self:
        """Weights from per-worker gold counts: `correct` of `answered` gold answers.

        The accuracy is smoothed as `(correct + prior) / (answered + 2 prior)`
        (Laplace's rule of succession for `prior = 1`), so a worker without gold
        answers gets accuracy 1/2 and no weight is infinite. `prior = 0` uses the
        raw accuracy (crowd-kit `GoldMajorityVote`) and needs gold for every worker.
        """
        hits = np.asarray(correct, dtype=np.float64)
        total = np.asarray(answered, dtype=np.float64)
        n_labels = check_count(n_labels, "n_labels")
        if hits.ndim != 1 or hits.shape != total.shape:
            raise ValueError("correct and answered must be 1-D arrays of the same length")
        if np.any(hits < 0) or np.any(hits > total):
            raise ValueError("correct must lie in 0..answered for every worker")
        if prior < 0:
            raise ValueError(f"prior must be >= 0, not {prior}")
        if prior == 0 and np.any(total == 0):
            raise ValueError("every worker needs gold answers when prior = 0; give prior > 0")
        accuracy = (hits + prior) / (total + 2 * prior)
        if scheme == "accuracy":
            return cls(accuracy)
        if scheme != "log_odds":
            raise ValueError(f"unknown scheme {scheme!r}; valid: 'log_odds', 'accuracy'")
        if np.any(accuracy >= 1):
            raise ValueError("log-odds weights are infinite for accuracy 1; give prior > 0")
        with np.errstate(divide="ignore"):
            log_odds = np.log(max(n_labels - 1, 1) * accuracy / (1 - accuracy))
        return cls(np.maximum(log_odds, 0.0))

    def fit(
        self,
        item_codes: npt.ArrayLike,
        worker_codes: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        n_items: int,
        n_workers: int,
        n_labels: int,
    ) -> Self:
        """Sum the weights per item and label and pick the top label of each item."""
        items, workers, labels = check_long(
            item_codes, worker_codes, label_codes, n_items, n_workers, n_labels
        )
        if self.weights.shape != (n_workers,):
            raise ValueError(f"weights has {self.weights.size} entries; n_workers is {n_workers}")
        scores = vote_table(items, labels, n_items, n_labels, self.weights[workers])
        totals = scores.sum(axis=1)
        voted = totals > 0
        self.scores_ = scores
        self.probas_ = np.divide(
            scores, totals[:, None], out=np.zeros_like(scores), where=voted[:, None]
        )
        self.labels_, self.tied_ = top_label(scores, voted)
        self.confidence_ = chosen_value(self.probas_, self.labels_)
        return self
