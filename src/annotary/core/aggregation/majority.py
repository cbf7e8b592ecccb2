"""Majority vote: the most frequent label per item."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation._codes import (
    BoolArray,
    FloatArray,
    IntArray,
    check_long,
    chosen_value,
    top_label,
    vote_table,
)


class MajorityVote:
    """Label each item with its most frequent label.

    Every observation is one vote (a worker who labelled an item twice votes
    twice, as in crowd-kit's `MajorityVote`). **Tie rule**: among the labels with
    the most votes, the smallest label code wins. Callers that number labels in
    sorted order therefore get the lexicographically smallest label, which is
    crowd-kit's rule (ties resolve to the first label in sorted column order).

    `confidence_` is the vote share of the chosen label (its votes / all votes on
    the item); items without observations get label -1 and confidence NaN.

    Reference: crowd-kit `MajorityVote` (Ustalov et al., *Learning from Crowds
    with Crowd-Kit*, JOSS 2024); the estimator shape follows it.

    >>> mv = MajorityVote().fit([0, 0, 0, 1], [0, 1, 2, 0], [1, 1, 0, 2], 3, 3, 3)
    >>> mv.labels_.tolist(), mv.confidence_.round(3).tolist()[:2]
    ([1, 2, -1], [0.667, 1.0])
    """

    method: ClassVar[str] = "majority"

    labels_: IntArray
    """Chosen label code per item; -1 where the item has no observation."""
    confidence_: FloatArray
    """Vote share of the chosen label per item; NaN where the item has no observation."""
    probas_: FloatArray
    """Items x labels vote shares (rows of zeros for items without observations)."""
    counts_: FloatArray
    """Items x labels vote counts."""
    tied_: BoolArray
    """Whether the top vote count was shared by several labels (the tie rule decided)."""

    def fit(
        self,
        item_codes: npt.ArrayLike,
        worker_codes: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        n_items: int,
        n_workers: int,
        n_labels: int,
    ) -> Self:
        """Count the votes per item and pick the winning label of each."""
        items, _, labels = check_long(
            item_codes, worker_codes, label_codes, n_items, n_workers, n_labels
        )
        counts = vote_table(items, labels, n_items, n_labels)
        totals = counts.sum(axis=1)
        voted = totals > 0
        self.counts_ = counts
        self.probas_ = np.divide(
            counts, totals[:, None], out=np.zeros_like(counts), where=voted[:, None]
        )
        self.labels_, self.tied_ = top_label(counts, voted)
        self.confidence_ = chosen_value(self.probas_, self.labels_)
        return self
