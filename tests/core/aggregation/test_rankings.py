"""Borda and Bradley-Terry: worked examples, an independent count and a logistic MLE."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from annotary.core.aggregation import Borda, BradleyTerry


def test_borda_complete_ballots() -> None:
    # ballots: A > B > C, B > A > C, A > C > B
    b = Borda().fit(
        [0] * 9, [0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2] * 3, [0, 1, 2, 1, 0, 2, 0, 2, 1], 1, 3, 3
    )
    assert b.scores_.tolist() == [[5.0, 3.0, 1.0]]
    assert b.labels_.tolist() == [0]
    assert b.confidence_[0] == pytest.approx(5 / 6)
    assert b.method == "borda"


def test_borda_ties_share_points_and_partial_ballots_rank_only_what_they_name() -> None:
    # ballot 0: A = B > C (A and B get 1.5 each); ballot 1 names only C > B
    b = Borda().fit([0] * 5, [0, 0, 0, 1, 1], [0, 1, 2, 2, 1], [0, 0, 1, 0, 1], 1, 2, 4)
    scores = b.scores_[0]
    assert scores[:3].tolist() == [1.5, 1.5, 1.0]
    assert np.isnan(scores[3])  # candidate 3 is on no ballot
    assert b.labels_.tolist() == [0]  # tie between A and B goes to the smaller code
    assert b.confidence_[0] == pytest.approx(1.5 / 2)


def test_borda_matches_a_pairwise_count_on_random_ballots() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for item, annotator in itertools.product(range(20), range(4)):
        chosen = rng.choice(5, size=int(rng.integers(1, 6)), replace=False)
        ranks = rng.integers(0, 3, chosen.size)
        rows.extend((item, annotator, int(c), int(r)) for c, r in zip(chosen, ranks, strict=True))
    data = np.array(rows)
    b = Borda().fit(data[:, 0], data[:, 1], data[:, 2], data[:, 3], 20, 4, 5)
    expected = np.zeros((20, 5))
    for item, annotator in itertools.product(range(20), range(4)):
        ballot = data[(data[:, 0] == item) & (data[:, 1] == annotator)]
        for _, _, c, r in ballot:
            others = ballot[ballot[:, 2] != c][:, 3]
            expected[item, c] += (others > r).sum() + 0.5 * (others == r).sum()
    np.testing.assert_allclose(np.nan_to_num(b.scores_), expected)


def _games(table: list[list[int]]) -> tuple[list[int], list[int]]:
    winners, losers = [], []
    for i, row in enumerate(table):
        for j, wins in enumerate(row):
            winners += [i] * wins
            losers += [j] * wins
    return winners, losers


def test_bradley_terry_wikipedia_worked_example() -> None:
    # Wikipedia, "Bradley-Terry model", worked example of the iterative procedure:
    # wins of A, B, C, D over each other; strengths printed to 3 decimals after
    # scaling to geometric mean 1: 0.640, 1.043, 0.660, 2.270 (figures recalled,
    # and reproduced independently by the logistic MLE test below).
    winners, losers = _games([[0, 2, 0, 1], [3, 0, 5, 0], [0, 3, 0, 1], [4, 0, 3, 0]])
    bt = BradleyTerry().fit(np.zeros(len(winners), dtype=int), winners, losers, 1, 4)
    strengths = bt.strengths_[0]
    scaled = strengths / np.exp(np.log(strengths).mean())
    np.testing.assert_allclose(scaled, [0.640, 1.043, 0.660, 2.270], atol=5e-4)
    assert strengths.sum() == pytest.approx(1.0)
    assert bt.converged_
    assert bt.labels_.tolist() == [3]
    assert bt.confidence_[0] == pytest.approx(strengths[3])
    assert bt.method == "bradley_terry"


def test_two_candidates_have_the_closed_form() -> None:
    bt = BradleyTerry().fit([0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0], 1, 2)
    np.testing.assert_allclose(bt.strengths_[0], [0.75, 0.25])


def _logit_mle(n: int, winners: np.ndarray, losers: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Bradley-Terry as logistic regression on x_winner - x_loser (candidate 0 fixed at 0)."""
    design = np.zeros((winners.size, n))
    design[np.arange(winners.size), winners] = 1.0
    design[np.arange(winners.size), losers] = -1.0
    # each comparison once as a win (y = 1) with weight `weight`, once reversed (y = 0)
    x = np.vstack([design, design])[:, 1:]
    y = np.concatenate([np.ones(winners.size), np.zeros(winners.size)])
    w = np.concatenate([weight, 1.0 - weight])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-13)
    strengths = np.exp(np.concatenate([[0.0], fit.params]))
    return strengths / strengths.sum()


@pytest.mark.parametrize("seed", range(3))
def test_bradley_terry_equals_the_logistic_mle_with_ties_as_half_wins(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, games = 5, 200
    truth = rng.uniform(0.5, 3.0, n)
    a = rng.integers(0, n, games)
    b = (a + rng.integers(1, n, games)) % n
    a_wins = rng.random(games) < truth[a] / (truth[a] + truth[b])
    tied = rng.random(games) < 0.15
    winners, losers = np.where(a_wins, a, b), np.where(a_wins, b, a)
    bt = BradleyTerry().fit(np.zeros(games, dtype=int), winners, losers, 1, n, tied=tied)
    expected = _logit_mle(n, winners, losers, np.where(tied, 0.5, 1.0))
    np.testing.assert_allclose(bt.strengths_[0], expected, atol=1e-7)

    dropped = BradleyTerry(ties="drop").fit(
        np.zeros(games, dtype=int), winners, losers, 1, n, tied=tied
    )
    keep = ~tied
    np.testing.assert_allclose(
        dropped.strengths_[0],
        _logit_mle(n, winners[keep], losers[keep], np.ones(keep.sum())),
        atol=1e-7,
    )


def test_items_are_fitted_separately() -> None:
    # item 0: candidate 1 beats 0 twice, loses once; item 1: candidate 2 beats 0
    bt = BradleyTerry().fit([0, 0, 0, 1, 1], [1, 1, 0, 2, 0], [0, 0, 1, 0, 2], 3, 3)
    np.testing.assert_allclose(bt.strengths_[0, :2], [1 / 3, 2 / 3])
    assert np.isnan(bt.strengths_[0, 2])
    assert bt.labels_.tolist() == [1, 0, -1]  # item 1 is a 1-1 tie -> smaller code
    assert np.isnan(bt.confidence_[2])


def test_an_unbeaten_candidate_does_not_converge() -> None:
    # Hunter's Assumption 1 fails: candidate 0 never loses, so no finite MLE exists
    bt = BradleyTerry(n_iter=200).fit([0, 0, 0], [0, 0, 1], [1, 2, 2], 1, 3)
    assert not bt.converged_
    assert bt.labels_.tolist() == [0]
    assert bt.strengths_[0, 2] == 0.0  # never won


def test_rejects_self_comparisons() -> None:
    with pytest.raises(ValueError, match="compared with itself"):
        BradleyTerry().fit([0], [1], [1], 1, 2)
