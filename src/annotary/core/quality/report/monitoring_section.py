"""The monitoring section of the QA report: outliers against the consensus and
the pool, speed, fatigue and drift (prompts for a review, not verdicts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotary.core.aggregation import MajorityVote
from annotary.core.quality.monitoring import (
    Finding,
    LabelDivergence,
    ShareCheck,
    consensus_agreement,
    label_divergence,
    speed_anomalies,
)
from annotary.core.quality.report.agreement import NOMINAL_KINDS
from annotary.core.quality.report.agreement_rows import finite
from annotary.core.quality.report.tables import QaData
from annotary.core.quality.report.values import FieldValues, IntArray
from annotary.core.quality.trends import TrendCheck, agreement_drift, fatigue


@dataclass
class FindingRow:
    """A monitoring finding: a prompt for a human review, not a verdict."""

    annotator: str
    kind: str
    field: str | None
    value: float | None
    threshold: float | None
    evidence: str


def monitoring_findings(data: QaData, window_seconds: float) -> list[FindingRow]:
    """Outliers against the consensus and the pool, speed, fatigue and drift.

    The consensus of a unit is its majority label when at least two values
    exist and the vote is not tied (else the unit has none), per `label` and
    `preference` field.
    """
    table = data.annotations
    n_annotators = len(data.annotator_names)
    found: list[tuple[Finding, str | None]] = []
    for values in data.fields:
        if values.kind not in NOMINAL_KINDS or values.code.size == 0:
            continue
        name = values.spec.name
        workers = table.annotator[values.row]
        when = table.created[values.row]
        consensus = _consensus(values, workers, n_annotators)
        checks: list[ShareCheck | LabelDivergence | TrendCheck] = [
            consensus_agreement(values.unit, workers, values.code, consensus, n_annotators),
            label_divergence(workers, values.code, n_annotators, len(values.values)),
            agreement_drift(
                values.unit, workers, values.code, consensus, when, n_annotators, window_seconds
            )[1],
        ]
        decided = np.flatnonzero(consensus[values.unit] >= 0)
        if decided.size:
            right = values.code[decided] == consensus[values.unit[decided]]
            checks.append(
                fatigue(workers[decided], when[decided], right.astype(np.float64), n_annotators)
            )
        found.extend((finding, name) for check in checks for finding in check.findings)
    timed = np.flatnonzero(~np.isnan(table.seconds))
    if timed.size:
        workers, seconds = table.annotator[timed], table.seconds[timed]
        chars = data.items.text_chars[table.item[timed]]
        found.extend(
            (f, None) for f in speed_anomalies(workers, seconds, chars, n_annotators).findings
        )
        slower = fatigue(workers, table.created[timed], seconds, n_annotators, measure="seconds")
        found.extend((f, None) for f in slower.findings)
    return [
        FindingRow(
            data.annotator_names[finding.annotator],
            finding.kind,
            name,
            finite(finding.value),
            finite(finding.threshold),
            finding.evidence,
        )
        for finding, name in found
    ]


def _consensus(values: FieldValues, workers: IntArray, n_annotators: int) -> IntArray:
    vote = MajorityVote().fit(
        values.unit,
        workers,
        values.code,
        values.unit_item.size,
        n_annotators,
        len(values.values),
    )
    enough = vote.counts_.sum(axis=1) >= 2
    consensus: IntArray = np.where(enough & ~vote.tied_, vote.labels_, -1)
    return consensus
