"""Refit Dawid-Skene over a whole project: one model per single-choice field.

Dawid-Skene estimates every annotator's confusion matrix from all of their
annotations at once, so it is fitted over the project, not item by item. This
module turns `(item, annotator, payload)` rows into codes, fits each field and
reads off the posterior label of every item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotary.core.aggregation.dawid_skene import DawidSkene


@dataclass(frozen=True)
class FieldFit:
    """One field's fitted model: its labels, and the annotators by code."""

    field: str
    labels: list[str]
    model: DawidSkene
    annotator_codes: dict[int, int]
    """Annotator id -> row of `model.errors_`."""

    def params(self) -> dict[str, Any]:
        """The fitted priors and confusion matrices as JSON (stored per project)."""
        return {
            "labels": self.labels,
            "priors": [float(p) for p in self.model.priors_],
            "errors": {
                str(user): self.model.errors_[code].tolist()
                for user, code in self.annotator_codes.items()
            },
        }


@dataclass
class ProjectFit:
    """Every field's fit and, per item, the chosen `(label, posterior)` per field."""

    fits: list[FieldFit] = field(default_factory=list)
    chosen: dict[int, dict[str, tuple[str, float]]] = field(default_factory=dict)
    converged: bool = True


def refit_dawid_skene(
    rows: Sequence[tuple[int, int, dict[str, Any]]],
    fields: Sequence[tuple[str, list[str]]],
) -> ProjectFit:
    """Fit Dawid-Skene per `(field name, labels)` on `(item id, annotator id, payload)`
    rows; values outside a field's labels are left out.

    >>> rows = [(1, 10, {"s": "a"}), (1, 11, {"s": "a"}), (2, 10, {"s": "b"}),
    ...         (2, 11, {"s": "b"})]
    >>> fit = refit_dawid_skene(rows, [("s", ["a", "b"])])
    >>> {item: labels["s"][0] for item, labels in fit.chosen.items()}
    {1: 'a', 2: 'b'}
    """
    result = ProjectFit()
    if not rows:
        return result
    item_index = {item: i for i, item in enumerate(sorted({r[0] for r in rows}))}
    user_index = {user: u for u, user in enumerate(sorted({r[1] for r in rows}))}
    for name, labels in fields:
        code = {label: k for k, label in enumerate(labels)}
        observed = [(i, u, code[p[name]]) for i, u, p in rows if p.get(name) in code]
        if not observed:
            continue
        model = DawidSkene().fit(
            np.array([item_index[i] for i, _, _ in observed]),
            np.array([user_index[u] for _, u, _ in observed]),
            np.array([v for _, _, v in observed]),
            len(item_index),
            len(user_index),
            len(labels),
        )
        result.converged = result.converged and bool(model.converged_)
        result.fits.append(FieldFit(name, labels, model, user_index))
        for item_id, position in item_index.items():
            label = int(model.labels_[position])
            if label >= 0:
                posterior = float(model.probas_[position, label])
                result.chosen.setdefault(item_id, {})[name] = (labels[label], posterior)
    return result
