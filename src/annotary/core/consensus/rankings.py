"""Consensus of ranking fields: Borda count or Bradley-Terry, Kendall's W as agreement.

`borda` (the default) orders the candidates by their Borda points over the
annotators' rankings (`core.aggregation.Borda`: one point per candidate ranked
below, half a point per tie); `bradley_terry` turns every ranking into its
pairwise preferences (a tie counts half a win each way) and orders by the
fitted strengths (`core.aggregation.BradleyTerry`, Hunter's MM algorithm; the
order needs only a few iterations, so the fit stops after 200; Borda points
break equal strengths, e.g. among candidates that never win). Candidates with
equal scores share a group when the field allows ties; otherwise the smaller
candidate index goes first.

Agreement is Kendall's coefficient of concordance W with the tie correction
(`core.quality.kendall_w`) over the annotators' rankings: 1 when all give the
same order, 0 when the rank sums are all equal; two annotators who agree and one
who reverses three candidates give W = 1/9. When some annotations leave the
field out, agreement is at most the share that gave a ranking. Confidence is
the winner's normalised Borda score, or its Bradley-Terry strength (1 with a
single candidate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from annotary.core.aggregation import Borda, BradleyTerry
from annotary.core.consensus.outcome import UnitResult
from annotary.core.quality.ranking import kendall_w
from annotary.core.schema.fields import RankingField

BT_ITERATIONS = 200


def rankings_consensus(
    spec: RankingField, method: str, units: Sequence[Sequence[Any]]
) -> list[UnitResult]:
    """The consensus of each unit's rankings (one unit per item, or per turn).

    >>> from annotary.core.schema.fields import RankingField
    >>> f = RankingField(name="k", kind="ranking")
    >>> r = rankings_consensus(f, "borda", [[[0, 1, 2], [0, 1, 2], [1, 0, 2]]])[0]
    >>> r.value, round(r.agreement, 3)
    ([0, 1, 2], 0.778)
    """
    places = [[_places(v) for v in unit] for unit in units]
    size = 1 + max((c for unit in places for p in unit for c in p), default=-1)
    rows = [
        (u, a, candidate, place)
        for u, unit in enumerate(places)
        for a, ballot in enumerate(unit)
        for candidate, place in ballot.items()
    ]
    if not rows:
        return [UnitResult(None, 1.0 if not any(unit) else 0.0, None) for unit in units]
    voters = max(len(unit) for unit in units)
    borda = Borda().fit(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        len(units),
        voters,
        size,
    )
    scores, confidence = borda.scores_, borda.confidence_
    if method == "bradley_terry":
        scores, confidence = _bradley_terry(units, places, size, borda.scores_)
    results = []
    for u, (unit, ballots) in enumerate(zip(units, places, strict=True)):
        given = [b for b in ballots if b]
        if 2 * (len(unit) - len(given)) > len(unit) or not given:
            left_out = (len(unit) - len(given)) / len(unit)
            results.append(UnitResult(None, left_out, left_out))
            continue
        value = _order(spec, scores[u], borda.scores_[u])
        agreement = min(concordance(given), len(given) / len(unit))
        sure = float(confidence[u])
        results.append(UnitResult(value, agreement, 1.0 if math.isnan(sure) else sure))
    return results


def concordance(ballots: Sequence[dict[int, int]]) -> float:
    """Kendall's W over ballots (candidate -> place) on the candidates all of them rank;
    1 when they are identical or fewer than two ballots or candidates remain."""
    common = sorted(set.intersection(*(set(b) for b in ballots))) if ballots else []
    matrix = [[b[c] for c in common] for b in ballots]
    if len(ballots) < 2 or len(common) < 2 or all(row == matrix[0] for row in matrix):
        return 1.0
    return kendall_w(matrix)


def _places(value: Any) -> dict[int, int]:
    """A ranking value as candidate -> place (0 best; tied candidates share a place)."""
    if not isinstance(value, list):
        return {}
    places: dict[int, int] = {}
    for place, entry in enumerate(value):
        group = entry if isinstance(entry, list) else [entry]
        for candidate in group:
            if isinstance(candidate, int) and not isinstance(candidate, bool) and candidate >= 0:
                places.setdefault(candidate, place)
    return places


def _bradley_terry(
    units: Sequence[Sequence[Any]],
    places: list[list[dict[int, int]]],
    size: int,
    borda_scores: np.ndarray[Any, np.dtype[np.float64]],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Strengths per unit and candidate from the rankings' pairwise preferences."""
    items, winners, losers, tied = [], [], [], []
    for u, ballots in enumerate(places):
        for ballot in ballots:
            for a, b in combinations(sorted(ballot), 2):
                first, second = (a, b) if ballot[a] <= ballot[b] else (b, a)
                items.append(u)
                winners.append(first)
                losers.append(second)
                tied.append(ballot[a] == ballot[b])
    if not items:
        return borda_scores, np.full(len(units), np.nan)
    fit = BradleyTerry(n_iter=BT_ITERATIONS, tol=1e-10).fit(
        items, winners, losers, len(units), size, tied
    )
    return fit.strengths_, fit.confidence_


def _order(
    spec: RankingField,
    scores: np.ndarray[Any, np.dtype[np.float64]],
    borda: np.ndarray[Any, np.dtype[np.float64]],
) -> list[Any]:
    """Candidates best first (groups of equal scores when ties are allowed)."""
    ranked = [c for c in range(scores.size) if not np.isnan(borda[c])]
    strength = {c: 0.0 if np.isnan(scores[c]) else round(float(scores[c]), 9) for c in ranked}
    ranked.sort(key=lambda c: (-strength[c], -float(borda[c]), c))
    if not spec.allow_ties:
        return ranked
    groups: list[list[int]] = []
    for candidate in ranked:
        same = groups and (strength[groups[-1][0]], float(borda[groups[-1][0]])) == (
            strength[candidate],
            float(borda[candidate]),
        )
        if same:
            groups[-1].append(candidate)
        else:
            groups.append([candidate])
    return groups
