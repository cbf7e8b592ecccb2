"""One annotator's own figures: gold accuracy, agreement with final labels, throughput.

What an annotator may see about themselves (SPEC 4, 6): aggregates of their
own work only. The gold figures are computed by the caller over answers older
than a cut-off, so that no single submit changes them (which would tell which
item was gold).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from annotary.core.consensus import comparable_fields, value_key
from annotary.core.quality.gold import wilson_interval
from annotary.core.quality.trends import SESSION_GAP_SECONDS, work_sessions
from annotary.core.schema.fields import AnnotationSchema


@dataclass(frozen=True)
class GoldFigures:
    """Scored gold answers, how many were right, the accuracy and its Wilson 95% interval."""

    answered: int
    correct: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None


def gold_figures(outcomes: Iterable[bool]) -> GoldFigures:
    """Accuracy over scored gold answers (True: every field right) with a Wilson interval.

    >>> g = gold_figures([True] * 8 + [False] * 2)
    >>> g.accuracy, round(g.ci_low or 0, 4), round(g.ci_high or 0, 4)
    (0.8, 0.4902, 0.9433)
    """
    values = list(outcomes)
    answered, correct = len(values), sum(values)
    if not answered:
        return GoldFigures(0, 0, None, None, None)
    low, high = wilson_interval(correct, answered)
    return GoldFigures(answered, correct, correct / answered, low, high)


@dataclass(frozen=True)
class FieldAgreement:
    """For one field: items compared with their final label, and how many matched."""

    field: str
    compared: int
    matching: int

    @property
    def share(self) -> float:
        return self.matching / self.compared


def agreement_with_final(
    rows: Iterable[tuple[int, dict[str, Any], dict[str, Any]]],
    schema_of: Callable[[int], AnnotationSchema],
) -> list[FieldAgreement]:
    """Per comparable field, how often one's answer equals the item's final label.

    `rows` are `(schema version, own answer, final label)`; each answer is read
    with the schema it was made under. A field counts when the final label has
    a value for it; free text is never compared. Fields in name order.

    >>> s = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "label", "labels": ["a", "b"]}]})
    >>> rows = [(1, {"s": "a"}, {"s": "a"}), (1, {"s": "b"}, {"s": "a"})]
    >>> [(f.field, f.compared, f.matching) for f in agreement_with_final(rows, lambda v: s)]
    [('s', 2, 1)]
    """
    counts: dict[str, list[int]] = {}
    for version, own, final in rows:
        for spec in comparable_fields(schema_of(version)):
            if final.get(spec.name) is None:
                continue
            cell = counts.setdefault(spec.name, [0, 0])
            cell[0] += 1
            cell[1] += value_key(spec, own.get(spec.name)) == value_key(spec, final[spec.name])
    return [FieldAgreement(name, n, hits) for name, (n, hits) in sorted(counts.items())]


@dataclass(frozen=True)
class Throughput:
    """How much and how fast: counts per active day and per active hour, median time.

    Active time is the sum of work sessions (a pause of more than 30 minutes
    starts a new one, as in the QA report's monitoring): from the start of a
    session's first task (its submit time minus its time spent) to the last
    submit. A day is active when it (UTC) holds at least one annotation.
    """

    annotations: int
    active_days: int
    per_active_day: float | None
    active_hours: float
    per_active_hour: float | None
    median_seconds: float | None
    first_at: datetime | None
    last_at: datetime | None


def throughput(submitted: list[datetime], spent_ms: list[int | None]) -> Throughput:
    """Throughput from each annotation's submit time (aware UTC) and time spent.

    Two tasks of 60 s submitted one minute apart are two minutes of work:

    >>> t0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    >>> t1 = datetime(2026, 1, 1, 9, 1, tzinfo=UTC)
    >>> t = throughput([t0, t1], [60_000, 60_000])
    >>> t.active_hours * 60, t.per_active_hour, t.median_seconds
    (2.0, 60.0, 60.0)
    """
    n = len(submitted)
    if n == 0:
        return Throughput(0, 0, None, 0.0, None, None, None, None)
    seconds = np.array([moment.timestamp() for moment in submitted], dtype=np.float64)
    spent = np.array([math.nan if s is None else s / 1000 for s in spent_ms], dtype=np.float64)
    session, position = work_sessions(np.zeros(n, dtype=np.int64), seconds, SESSION_GAP_SECONDS)
    active = 0.0
    for number in np.unique(session):
        rows = np.flatnonzero(session == number)
        first = rows[position[rows] == 0][0]
        lead = float(spent[first]) if math.isfinite(spent[first]) else 0.0
        active += float(seconds[rows].max() - seconds[first]) + lead
    days = len({moment.astimezone(UTC).date() for moment in submitted})
    known = spent[np.isfinite(spent)]
    hours = active / 3600
    return Throughput(
        annotations=n,
        active_days=days,
        per_active_day=n / days,
        active_hours=hours,
        per_active_hour=n / hours if hours > 0 else None,
        median_seconds=float(np.median(known)) if known.size else None,
        first_at=min(submitted),
        last_at=max(submitted),
    )
