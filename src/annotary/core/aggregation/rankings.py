"""Ranking aggregation: Borda count over rankings, Bradley-Terry over pairwise preferences."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation._codes import (
    BoolArray,
    FloatArray,
    IntArray,
    as_codes,
    check_count,
    check_long,
    top_label,
)


class Borda:
    """Borda count per item over the annotators' rankings of its candidates.

    Input rows are `(item, annotator, candidate, rank)` with rank 0 the best; a
    *ballot* is one annotator's ranking of one item. A candidate earns one point
    for every candidate ranked strictly below it on the ballot and half a point
    for every other candidate tied with it, so a complete ballot of `m`
    candidates gives `m - 1, m - 2, ..., 0` points (de Borda 1781, *Mémoire sur
    les élections au scrutin*), tied candidates share the points of the places
    they span, and a partial ballot only ranks the candidates it names (the
    "modified" count for partial ballots, Emerson 2013, *The original Borda count
    and partial voting*, Social Choice and Welfare 40:353-358).

    `labels_` is the candidate with the most points (ties to the smallest code;
    -1 where the item has no ballot). `confidence_` is the winner's normalised
    Borda score: its points over the most it could have earned on the ballots
    that rank it (1.0 when every ballot puts it first; NaN if those ballots
    rank nothing else).

    >>> b = Borda().fit([0] * 6, [0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2], [0, 1, 2, 1, 0, 2],
    ...                 1, 2, 3)
    >>> b.scores_.tolist(), b.labels_.tolist(), b.confidence_.tolist()
    ([[3.0, 3.0, 0.0]], [0], [0.75])
    """

    method: ClassVar[str] = "borda"

    labels_: IntArray
    """Winning candidate code per item; -1 where the item has no ballot."""
    confidence_: FloatArray
    """Winner's points over its maximum attainable points; NaN where undefined."""
    scores_: FloatArray
    """Items x candidates Borda points; NaN for candidates no ballot of the item ranks."""

    def fit(
        self,
        item_codes: npt.ArrayLike,
        annotator_codes: npt.ArrayLike,
        candidate_codes: npt.ArrayLike,
        ranks: npt.ArrayLike,
        n_items: int,
        n_annotators: int,
        n_candidates: int,
    ) -> Self:
        """Score every ballot and sum the points per item and candidate."""
        items, annotators, candidates = check_long(
            item_codes, annotator_codes, candidate_codes, n_items, n_annotators, n_candidates
        )
        rank_arr = np.asarray(ranks)
        top = int(rank_arr.max()) + 1 if rank_arr.size and rank_arr.ndim == 1 else 1
        places = as_codes(rank_arr, "ranks", max(top, 1))
        if places.shape != items.shape:
            raise ValueError("ranks must have one entry per row")
        ballots = items * n_annotators + annotators
        cell = ballots * n_candidates + candidates
        if np.unique(cell).size != cell.size:
            raise ValueError("a ballot ranks the same candidate twice")
        # Within-ballot order statistics from one sort of (ballot, rank) keys.
        keys = ballots * top + places
        ordered = np.sort(keys)
        at_or_better = np.searchsorted(ordered, keys, side="left")
        at_or_worse = np.searchsorted(ordered, keys, side="right")
        ballot_start = np.searchsorted(ordered, ballots * top, side="left")
        ballot_end = np.searchsorted(ordered, (ballots + 1) * top, side="left")
        worse = ballot_end - at_or_worse
        tied_others = at_or_worse - at_or_better - 1
        points = worse + 0.5 * tied_others
        attainable = (ballot_end - ballot_start - 1).astype(np.float64)

        flat = items * n_candidates + candidates
        size = n_items * n_candidates
        scores = np.bincount(flat, weights=points, minlength=size).reshape(n_items, -1)
        best = np.bincount(flat, weights=attainable, minlength=size).reshape(n_items, -1)
        ranked = np.bincount(flat, minlength=size).reshape(n_items, -1) > 0
        self.scores_ = np.where(ranked, scores, np.nan)
        has_ballot: BoolArray = np.asarray(ranked.any(axis=1), dtype=np.bool_)
        self.labels_, _ = top_label(np.where(ranked, scores, -np.inf), has_ballot)
        self.confidence_ = np.full(n_items, np.nan)
        rows = np.flatnonzero(self.labels_ >= 0)
        winner = self.labels_[rows]
        reachable = best[rows, winner] > 0
        self.confidence_[rows[reachable]] = (
            scores[rows, winner][reachable] / best[rows, winner][reachable]
        )
        return self


class BradleyTerry:
    """Bradley-Terry strengths per item from pairwise preferences, by Hunter's MM algorithm.

    Model: candidate `a` is preferred to `b` with probability `s_a / (s_a + s_b)`
    (Bradley & Terry 1952, *Rank analysis of incomplete block designs I*,
    Biometrika 39:324-345). The maximum-likelihood strengths are found with the
    minorization-maximization update of Hunter (2004, *MM algorithms for
    generalized Bradley-Terry models*, Annals of Statistics 32(1):384-406,
    eq. 3): `s_a <- W_a / sum_b N_ab / (s_a + s_b)`, with `W_a` the wins of `a`
    and `N_ab` the comparisons of `a` and `b`, normalised to sum to 1 over the
    item's candidates after every step. One model is fitted per item, all items
    at once; pass a single item code for one pooled fit (e.g. to rank models
    over all prompts).

    `ties="half"` counts a tie as half a win for each side (and one comparison);
    `ties="drop"` ignores tied rows. The MLE exists only if, for every split of
    an item's candidates into two groups, someone in each group beat someone in
    the other at least once (Hunter 2004, Assumption 1, after Zermelo 1929);
    otherwise strengths drift towards 0 and `converged_` stays False. A
    candidate that never wins gets strength 0.

    `labels_` is the strongest candidate per item (ties to the smallest code;
    -1 without comparisons); `confidence_` is its strength, i.e. its Luce (1959)
    choice probability among the item's candidates.

    >>> bt = BradleyTerry().fit([0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0], 1, 2)
    >>> bt.strengths_.round(6).tolist(), bt.labels_.tolist()
    ([[0.75, 0.25]], [0])
    """

    method: ClassVar[str] = "bradley_terry"

    labels_: IntArray
    """Strongest candidate per item; -1 where the item has no comparison."""
    confidence_: FloatArray
    """Winner's strength (Luce choice probability among the item's candidates)."""
    strengths_: FloatArray
    """Items x candidates strengths summing to 1 per item; NaN for absent candidates."""
    wins_: FloatArray
    """Items x candidates wins (ties counted as half wins under `ties="half"`)."""
    n_iter_: int
    """MM iterations run."""
    converged_: bool
    """Whether the largest change of a strength fell to `tol` or below."""

    def __init__(
        self,
        n_iter: int = 10_000,
        tol: float = 1e-10,
        ties: Literal["half", "drop"] = "half",
    ) -> None:
        if ties not in ("half", "drop"):
            raise ValueError(f"unknown ties rule {ties!r}; valid: 'half', 'drop'")
        if n_iter < 0:
            raise ValueError(f"n_iter must be >= 0, not {n_iter}")
        self.n_iter = n_iter
        self.tol = tol
        self.ties = ties

    def fit(
        self,
        item_codes: npt.ArrayLike,
        winner_codes: npt.ArrayLike,
        loser_codes: npt.ArrayLike,
        n_items: int,
        n_candidates: int,
        tied: npt.ArrayLike | None = None,
    ) -> Self:
        """Fit strengths from rows `(item, preferred, other)`; `tied` marks ties."""
        n_items = check_count(n_items, "n_items")
        n_candidates = check_count(n_candidates, "n_candidates")
        items = as_codes(item_codes, "item_codes", n_items)
        winners = as_codes(winner_codes, "winner_codes", n_candidates)
        losers = as_codes(loser_codes, "loser_codes", n_candidates)
        if not items.shape == winners.shape == losers.shape:
            raise ValueError("item_codes, winner_codes and loser_codes differ in length")
        if np.any(winners == losers):
            raise ValueError("a candidate cannot be compared with itself")
        is_tie: BoolArray = (
            np.zeros(items.size, dtype=np.bool_)
            if tied is None
            else np.asarray(tied, dtype=np.bool_)
        )
        if is_tie.shape != items.shape:
            raise ValueError("tied must have one entry per comparison")
        if self.ties == "drop":
            keep = ~is_tie
            items, winners, losers, is_tie = items[keep], winners[keep], losers[keep], is_tie[keep]

        size = n_items * n_candidates
        credit = np.where(is_tie, 0.5, 1.0)
        win_credit = np.bincount(items * n_candidates + winners, weights=credit, minlength=size)
        win_credit = win_credit + np.bincount(
            items * n_candidates + losers, weights=np.where(is_tie, 0.5, 0.0), minlength=size
        )
        wins: FloatArray = win_credit.reshape(n_items, n_candidates).astype(np.float64)
        pair = (items * n_candidates + winners) * n_candidates + losers
        mirror = (items * n_candidates + losers) * n_candidates + winners
        game_counts = np.bincount(np.concatenate([pair, mirror]), minlength=size * n_candidates)
        games = game_counts.reshape(n_items, n_candidates, n_candidates).astype(np.float64)

        present = games.sum(axis=2) > 0
        strengths = np.where(present, 1.0, 0.0)
        strengths = _normalise(strengths)
        converged = False
        rounds = 0
        while rounds < self.n_iter and not converged:
            rounds += 1
            pair_sum = strengths[:, :, None] + strengths[:, None, :]
            weight = np.divide(games, pair_sum, out=np.zeros_like(games), where=games > 0)
            denominator = weight.sum(axis=2)
            updated = np.divide(wins, denominator, out=np.zeros_like(wins), where=denominator > 0)
            updated = _normalise(updated)
            converged = bool(np.max(np.abs(updated - strengths), initial=0.0) <= self.tol)
            strengths = updated

        self.wins_ = wins
        self.strengths_ = np.where(present, strengths, np.nan)
        self.n_iter_ = rounds
        self.converged_ = converged
        compared: BoolArray = np.asarray(present.any(axis=1), dtype=np.bool_)
        self.labels_, _ = top_label(np.where(present, strengths, -np.inf), compared)
        self.confidence_ = np.full(n_items, np.nan)
        rows = np.flatnonzero(self.labels_ >= 0)
        self.confidence_[rows] = strengths[rows, self.labels_[rows]]
        return self


def _normalise(strengths: FloatArray) -> FloatArray:
    """Scale each row to sum 1 (rows of zeros stay zeros)."""
    total = strengths.sum(axis=1, keepdims=True)
    scaled: FloatArray = np.divide(strengths, total, out=np.zeros_like(strengths), where=total > 0)
    return scaled
