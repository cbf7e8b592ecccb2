"""The rows of the agreement section of the QA report, and the helpers that turn
a statistic into a JSON-safe value (None with a note where it is undefined)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from annotary.core.quality.report.values import IntArray
from annotary.errors import E_AGREEMENT_UNDEFINED, Invalid


def finite(value: float | np.floating[Any] | None) -> float | None:
    """A float for JSON: None for None, NaN or infinity."""
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def attempt(compute: Callable[[], float]) -> tuple[float | None, str | None]:
    """(value, None), or (None, reason) when the statistic is undefined (E601)."""
    try:
        return finite(compute()), None
    except Invalid as error:
        if error.code != E_AGREEMENT_UNDEFINED:
            raise
        return None, error.message


@dataclass
class Estimate:
    """A statistic with its bootstrap 95% interval (None where undefined; see note)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n_boot: int | None = None
    note: str | None = None


@dataclass
class LabelAgreement:
    """One label against all others (binary alpha), or a label's span F1."""

    label: str
    n_values: int
    value: float | None
    note: str | None = None
    f1_overlap: float | None = None


@dataclass
class PairAgreement:
    """Two annotators on the units both labelled."""

    annotator_a: str
    annotator_b: str
    shared_units: int
    statistic: str
    value: float | None
    percent_agreement: float | None = None
    note: str | None = None
    f1_overlap: float | None = None


@dataclass
class SliceAgreement:
    """The field's statistic on the annotations of one version or time window."""

    key: str
    n_values: int
    n_units: int
    value: float | None
    note: str | None = None


@dataclass
class FieldAgreement:
    """Agreement on one field; `statistic` names what `estimate.value` is."""

    name: str
    kind: str
    statistic: str
    n_values: int
    n_units: int
    n_pairable_units: int
    estimate: Estimate
    """The headline statistic (named by `statistic`) with its interval."""
    percent_agreement: float | None = None
    fleiss_kappa: float | None = None
    values_per_unit: tuple[int, int] | None = None
    note: str | None = None
    per_label: list[LabelAgreement] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)
    pairs_total: int = 0
    schema_versions: list[int] = field(default_factory=list)
    """The schema versions whose values the field's figures pool (the others, kept
    apart because the field changed, are in `by_schema_version` only)."""
    by_schema_version: list[SliceAgreement] = field(default_factory=list)
    by_guideline_version: list[SliceAgreement] = field(default_factory=list)
    by_window: list[SliceAgreement] = field(default_factory=list)
    f1_overlap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["values_per_unit"] = list(self.values_per_unit) if self.values_per_unit else None
        return out


@dataclass(frozen=True)
class Slicing:
    """Per annotation row: the keys to group by, with a label per key."""

    schema_version: IntArray
    guideline_version: IntArray
    window: IntArray
    window_labels: dict[int, str]
