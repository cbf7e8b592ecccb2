"""Votes for the choice kinds: `label` (one choice), `labels` (several), `preference`.

All three take the project's vote (`workflow.aggregation`, or the field's own
`method`): a plain majority, or each annotation weighted by its annotator's gold
accuracy (`core.aggregation.WeightedVote.from_gold`, computed by the caller).
A single-choice field can instead take the Dawid-Skene posterior under the
parameters of the last project-wide fit (Dawid & Skene 1979, *Maximum likelihood
estimation of observer error-rates using the EM algorithm*, Applied Statistics
28(1):20-28; the E-step for one item is `core.aggregation.item_posterior`).

Agreement is always an unweighted share of the item's annotations; confidence
is the same share with every annotation at its weight (the posterior, for
Dawid-Skene). An annotation that leaves a field out votes for leaving it out.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from annotary.core.aggregation import item_posterior
from annotary.core.consensus.outcome import UnitResult, Voters
from annotary.core.schema.fields import LabelField, LabelsField, PreferenceField, with_ancestors


def vote(values: Sequence[Hashable], weights: Sequence[float] | None) -> tuple[Any, float, float]:
    """The winning value, its share of the votes and its weighted share.

    Tie rule: among values with the top (weighted) total, the one submitted
    first wins. If every weight is 0 the plain count decides.

    >>> vote(["a", "b", "b"], None)
    ('b', 0.6666666666666666, 0.6666666666666666)
    >>> vote(["a", "b", "b"], [3.0, 1.0, 1.0])
    ('a', 0.3333333333333333, 0.6)
    """
    weights = _usable(weights, len(values))
    counts: dict[Hashable, int] = {}
    totals: dict[Hashable, float] = {}
    for value, weight in zip(values, weights, strict=True):
        counts[value] = counts.get(value, 0) + 1
        totals[value] = totals.get(value, 0.0) + weight
    best = max(totals, key=lambda v: totals[v])  # max keeps the first of equals
    return best, counts[best] / len(values), totals[best] / sum(weights)


def _usable(weights: Sequence[float] | None, size: int) -> Sequence[float]:
    """The weights, or equal weights when there are none, or when they sum to 0."""
    if weights is None or len(weights) != size or sum(weights) <= 0:
        return [1.0] * size
    return weights


def weights_for(method: str, voters: Voters) -> Sequence[float] | None:
    """The vote weights a method uses: gold-accuracy weights for `weighted` only."""
    return voters.weights if method == "weighted" else None


def label_consensus(
    spec: LabelField, method: str, values: Sequence[Any], voters: Voters
) -> UnitResult:
    """A single choice: the project's vote; agreement = share of annotations for it.

    >>> from annotary.core.schema.fields import LabelField
    >>> f = LabelField(name="s", kind="label", labels=["a", "b"])
    >>> r = label_consensus(f, "majority", ["a", "b", "b"], Voters((1, 2, 3)))
    >>> r.value, round(r.agreement, 3)
    ('b', 0.667)
    """
    keys = [v if isinstance(v, str) else None for v in values]
    winner, share, weighted = vote(keys, weights_for(method, voters))
    if method == "dawid_skene":
        fit = voters.fits.get(spec.name)
        posterior = None if fit is None or winner is None else posterior_label(fit, keys, voters)
        if posterior is None:
            return UnitResult(winner, share, share, method="majority")
        label, probability = posterior
        return UnitResult(label, keys.count(label) / len(keys), probability)
    return UnitResult(winner, share, weighted)


def posterior_label(
    fit: Mapping[str, Any], values: Sequence[str | None], voters: Voters
) -> tuple[str, float] | None:
    """The Dawid-Skene label of one item and its posterior, under stored parameters.

    Annotators the fit has not seen get the average confusion matrix of those
    it has; values outside the fitted labels are left out. None when no value
    can be used.
    """
    labels: list[str] = list(fit["labels"])
    known = {int(u): np.asarray(m, dtype=np.float64) for u, m in fit["errors"].items()}
    if not known:
        return None
    average: npt.NDArray[np.float64] = np.mean(list(known.values()), axis=0)
    votes = [
        (known.get(user, average), labels.index(value))
        for user, value in zip(voters.users, values, strict=True)
        if value in labels
    ]
    if not votes:
        return None
    posterior = item_posterior(fit["priors"], [m for m, _ in votes], [code for _, code in votes])
    best = int(np.argmax(posterior))
    return labels[best], float(posterior[best])


def labels_consensus(
    spec: LabelsField, method: str, values: Sequence[Any], voters: Voters
) -> UnitResult:
    """Several choices: a vote per label.

    A label is in the result when more than half of the annotations (by weight,
    for a weighted vote) have it; leaving the field out counts as choosing none.
    In a taxonomy a child implies its ancestors, so every choice is expanded to
    its ancestors before the vote and the result keeps only the most specific
    labels. Agreement is the smallest share of annotations agreeing with the
    decision (having an included label, or not having an excluded one) over
    every label anyone chose; in a taxonomy that is the worst taxonomy level.
    An ancestor that more than half chose explicitly, besides its child, stays
    in the result: it keeps what most annotators wrote.

    >>> from annotary.core.schema.fields import LabelsField
    >>> f = LabelsField(name="h", kind="labels", labels=["a/b", "a/c"], hierarchical=True)
    >>> r = labels_consensus(f, "majority", [["a/b"], ["a/c"], ["a/b"]], Voters((1, 2, 3)))
    >>> r.value, round(r.agreement, 3)
    (['a/b'], 0.667)
    """
    weights = list(_usable(weights_for(method, voters), len(values)))
    chosen = [set(_expanded(spec, v)) for v in values]
    explicit = [set(_expanded(spec, v, ancestors=False)) for v in values]
    order = [label for label in spec.taxonomy_nodes() if any(label in c for c in chosen)]
    order += sorted({label for c in chosen for label in c} - set(order))
    included: list[str] = []
    agreement = confidence = 1.0
    for label in order:
        having = [label in c for c in chosen]
        weighted = _share(label, chosen, weights)
        keep = weighted > 0.5
        if keep:
            included.append(label)
        agreeing = sum(h == keep for h in having) / len(values)
        agreement = min(agreement, agreeing)
        confidence = min(confidence, weighted if keep else 1.0 - weighted)
    specific = [
        label
        for label in included
        if not any(o.startswith(label + "/") for o in included)
        or _share(label, explicit, weights) > 0.5  # an ancestor most chose in its own right
    ]
    present = sum(v is not None for v in values)
    if specific or 2 * present > len(values):
        return UnitResult(specific, agreement, confidence)
    return UnitResult(None, agreement, confidence)


def _expanded(spec: LabelsField, value: Any, ancestors: bool = True) -> list[str]:
    """The labels of a value, with their taxonomy ancestors unless told otherwise."""
    if not isinstance(value, list):
        return []
    labels = [v for v in value if isinstance(v, str)]
    if not spec.hierarchical or not ancestors:
        return labels
    return [node for label in labels for node in with_ancestors(label)]


def _share(label: str, chosen: list[set[str]], weights: list[float]) -> float:
    """Weighted share of the annotations whose choice holds `label`."""
    return sum(w for w, c in zip(weights, chosen, strict=True) if label in c) / sum(weights)


def preference_consensus(
    spec: PreferenceField, method: str, values: Sequence[Any], voters: Voters
) -> UnitResult:
    """A pairwise choice: the vote on `choice` (a tie is a choice like any other);
    the strength most often given by those who chose the winner (equal counts go
    to the weaker strength, no strength counting as weakest). Agreement = share
    of annotations for the chosen choice.

    >>> from annotary.core.schema.fields import PreferenceField
    >>> f = PreferenceField(name="p", kind="preference", strengths=["slightly", "much"])
    >>> votes = [{"choice": "a", "strength": "much"}, {"choice": "tie"},
    ...          {"choice": "a", "strength": "slightly"}]
    >>> preference_consensus(f, "majority", votes, Voters((1, 2, 3))).value
    {'choice': 'a', 'strength': 'slightly'}
    """
    choices = [v.get("choice") if isinstance(v, dict) else None for v in values]
    winner, share, weighted = vote(choices, weights_for(method, voters))
    if winner is None:
        return UnitResult(None, share, weighted)
    value: dict[str, Any] = {"choice": winner}
    strengths = [
        v.get("strength")
        for v, choice in zip(values, choices, strict=True)
        if choice == winner and isinstance(v, dict)
    ]
    strength = _strength(spec, strengths)
    if strength is not None:
        value["strength"] = strength
    return UnitResult(value, share, weighted)


def _strength(spec: PreferenceField, given: list[Any]) -> str | None:
    scale = spec.strengths or []
    counts: dict[str | None, int] = {}
    for strength in given:
        key = strength if strength in scale else None
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return None
    top = max(counts.values())

    def weakness(key: str | None) -> int:
        return -1 if key is None else scale.index(key)

    return min((k for k, n in counts.items() if n == top), key=weakness)
