"""Token vote: aggregate span annotations by a per-position majority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation._codes import FloatArray, IntArray, as_codes, check_count


@dataclass(frozen=True, slots=True)
class AggregatedSpan:
    """One span of the aggregate: `[start, end)` with a label code and its mean vote share."""

    start: int
    end: int
    label: int
    confidence: float


class TokenVote:
    """Aggregate spans position by position: a position keeps a label that a strict
    majority of the item's annotators put there.

    Offsets are positions in whatever unit the spans use (characters or tokens),
    end exclusive. At each position, the votes for label `k` are the annotators
    with a `k` span covering it (an annotator counts once per label however many
    of their spans overlap there). A position gets label `k` when its votes are
    more than half of the item's annotators; if overlapping spans let several
    labels pass, the one with most votes wins, ties to the smallest code.
    Contiguous runs of one winning label become the aggregate spans, so two
    abutting spans of the same label merge (a per-position vote cannot see the
    boundary between them). A span's `confidence` is the mean vote share of its
    label over its positions; `confidence_` per item is that mean over all
    positions the item's aggregate covers (NaN when it covers none).

    The denominator counts annotators who marked nothing: pass
    `annotators_per_item`; without it, only annotators with at least one span on
    the item are counted, which favours their spans.

    This is the character/token-level majority used to build consensus span
    annotations, e.g. the token-level majority vote baseline of Rodrigues,
    Pereira & Ribeiro, *Sequence labeling with multiple annotators*, Machine
    Learning 95(2), 2014; for spans the aggregate of a position is independent
    of its neighbours.

    >>> tv = TokenVote().fit([0, 0, 0], [0, 1, 2], [0, 2, 9], [5, 5, 12], [1, 1, 1], 1, 2)
    >>> [(s.start, s.end, s.label, round(s.confidence, 3)) for s in tv.labels_[0]]
    [(2, 5, 1, 0.667)]
    """

    method: ClassVar[str] = "token_vote"

    labels_: list[list[AggregatedSpan]]
    """The aggregate spans of each item, ordered by start (empty where none pass)."""
    confidence_: FloatArray
    """Mean vote share over the positions each item's aggregate covers; NaN where it covers none."""

    def fit(
        self,
        item_codes: npt.ArrayLike,
        annotator_codes: npt.ArrayLike,
        starts: npt.ArrayLike,
        ends: npt.ArrayLike,
        label_codes: npt.ArrayLike,
        n_items: int,
        n_labels: int,
        annotators_per_item: npt.ArrayLike | None = None,
    ) -> Self:
        """Vote per position within each item and collect the winning runs."""
        n_items = check_count(n_items, "n_items")
        n_labels = check_count(n_labels, "n_labels")
        items = as_codes(item_codes, "item_codes", n_items)
        annotators = _non_negative(annotator_codes, "annotator_codes")
        begin = _non_negative(starts, "starts")
        stop = _non_negative(ends, "ends")
        labels = as_codes(label_codes, "label_codes", n_labels)
        if not items.shape == annotators.shape == begin.shape == stop.shape == labels.shape:
            raise ValueError(
                "item_codes, annotator_codes, starts, ends, label_codes differ in length"
            )
        if np.any(stop <= begin):
            raise ValueError("every span needs start < end (end is exclusive)")
        given = None
        if annotators_per_item is not None:
            given = _non_negative(annotators_per_item, "annotators_per_item")
            if given.shape != (n_items,):
                raise ValueError(f"annotators_per_item must have {n_items} entries")

        order = np.argsort(items, kind="stable")
        bounds = np.searchsorted(items[order], np.arange(n_items + 1))
        self.labels_ = []
        self.confidence_ = np.full(n_items, np.nan)
        for item in range(n_items):
            rows = order[bounds[item] : bounds[item + 1]]
            if rows.size == 0:
                self.labels_.append([])
                continue
            local_annotators, annotator_index = np.unique(annotators[rows], return_inverse=True)
            voters = local_annotators.size
            if given is not None:
                if given[item] < voters:
                    raise ValueError(
                        f"item {item}: annotators_per_item is {given[item]} but "
                        f"{voters} annotators marked spans"
                    )
                voters = int(given[item])
            spans, confidence = _vote_item(
                annotator_index, begin[rows], stop[rows], labels[rows], voters
            )
            self.labels_.append(spans)
            self.confidence_[item] = confidence
        return self


def _non_negative(values: npt.ArrayLike, name: str) -> IntArray:
    """`values` as a 1-D array of non-negative integers, or ValueError."""
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) or int(arr.min()) < 0:
        raise ValueError(f"{name} must be a 1-D array of non-negative integers")
    return arr.astype(np.int64, copy=False)


def _vote_item(
    annotators: IntArray, starts: IntArray, ends: IntArray, labels: IntArray, voters: int
) -> tuple[list[AggregatedSpan], float]:
    """Aggregate spans of one item on the segments between consecutive span boundaries."""
    # Votes are constant between boundaries, so work on segments, not on every position.
    cuts = np.unique(np.concatenate([starts, ends]))
    lengths = np.diff(cuts)
    local_labels, label_index = np.unique(labels, return_inverse=True)
    n_annotators = int(annotators.max()) + 1
    n_rows = n_annotators * local_labels.size
    row = annotators * local_labels.size + label_index
    delta = np.zeros((n_rows, cuts.size), dtype=np.int64)
    np.add.at(delta, (row, np.searchsorted(cuts, starts)), 1)
    np.add.at(delta, (row, np.searchsorted(cuts, ends)), -1)
    covered = np.cumsum(delta, axis=1)[:, :-1] > 0  # rows x segments
    votes = covered.reshape(n_annotators, local_labels.size, -1).sum(axis=0)
    passing = np.where(2 * votes > voters, votes, 0)
    winner = np.where(passing.max(axis=0) > 0, np.argmax(passing, axis=0), -1)
    share = np.where(winner >= 0, passing.max(axis=0) / voters, 0.0)

    spans: list[AggregatedSpan] = []
    run_starts = np.flatnonzero(np.diff(winner, prepend=-2) != 0)
    run_ends = np.append(run_starts[1:], winner.size)
    for first, last in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        if winner[first] < 0:
            continue
        weights = lengths[first:last]
        mean_share = float(np.average(share[first:last], weights=weights))
        spans.append(
            AggregatedSpan(
                int(cuts[first]), int(cuts[last]), int(local_labels[winner[first]]), mean_share
            )
        )
    mask = winner >= 0
    confidence = float(np.average(share[mask], weights=lengths[mask])) if mask.any() else np.nan
    return spans, confidence
