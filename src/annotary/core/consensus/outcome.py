"""The results of a consensus: per unit (a field, or one turn of it), per field, per item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AGREEMENT_SLACK = 1e-9
"""Agreement within this of the threshold passes (a mean F1 of 0.7999999999 is 0.8)."""


@dataclass(frozen=True)
class Voters:
    """Who annotated the item, in submission order, and what their votes weigh.

    `weights` is None for an unweighted vote; `fits` holds the stored
    Dawid-Skene parameters per field (`core.aggregation.refit.FieldFit.params`).
    """

    users: tuple[int, ...]
    weights: tuple[float, ...] | None = None
    fits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitResult:
    """The consensus of one unit: a field's values, or one turn's values of a per-turn field.

    `value` None means the field (or turn) is left out. `agreement` None means
    the unit is not compared (free text). `needs_review` marks free text that
    only a reviewer can settle, with the non-blank answers in `candidates`.
    `method` overrides the field's method when another one was used (Dawid-Skene
    before the first fit falls back to the majority vote).
    """

    value: Any
    agreement: float | None
    confidence: float | None
    needs_review: bool = False
    candidates: tuple[str, ...] = ()
    method: str | None = None


@dataclass(frozen=True)
class FieldOutcome:
    """One field's consensus: its value, how it was reached and whether it passes."""

    value: Any
    method: str
    measure: str | None
    """What `agreement` measures (`share`, `span_f1_exact`, `kendall_w`, ...)."""
    agreement: float | None
    confidence: float | None
    threshold: float | None
    needs_review: bool = False
    candidates: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Not waiting for a reviewer, and agreement (if compared) reaches the threshold."""
        if self.needs_review:
            return False
        if self.agreement is None or self.threshold is None:
            return True
        return self.agreement + AGREEMENT_SLACK >= self.threshold

    def record(self) -> dict[str, Any]:
        """What a final label stores for this field."""
        return {
            "method": self.method,
            "measure": self.measure,
            "agreement": self.agreement,
            "confidence": self.confidence,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class ItemConsensus:
    """An item's consensus: the combined answer and each field's outcome.

    `problems` lists why the combined answer is not a valid annotation (e.g.
    fewer labels than `min_count`); such an item goes to a reviewer too. A
    free-text field awaiting a reviewer holds its first non-blank answer in
    `payload`, so that the payload is a complete answer to start from.
    """

    payload: dict[str, Any]
    fields: dict[str, FieldOutcome]
    problems: tuple[str, ...] = ()

    @property
    def agreed(self) -> bool:
        """Whether the item may be finalized without a reviewer."""
        return not self.problems and all(f.passed for f in self.fields.values())

    @property
    def agreement(self) -> float | None:
        """The smallest agreement over the compared fields (None if none is compared)."""
        values = [f.agreement for f in self.fields.values() if f.agreement is not None]
        return min(values) if values else None

    @property
    def confidence(self) -> float | None:
        """The smallest confidence over the compared fields."""
        values = [f.confidence for f in self.fields.values() if f.confidence is not None]
        return min(values) if values else None

    @property
    def method(self) -> str:
        """The project-level vote actually used: `dawid_skene` if a field took its
        posterior, else `weighted` if a field was weighted, else `majority`."""
        used = {f.method for f in self.fields.values()}
        for method in ("dawid_skene", "weighted"):
            if method in used:
                return method
        return "majority"

    def record(self) -> dict[str, dict[str, Any]]:
        """The per-field record a final label stores (`final_labels.fields`)."""
        return {name: outcome.record() for name, outcome in self.fields.items()}
