"""The project QA report (SPEC 6) computed from loaded arrays: agreement per
field, gold accuracy, aggregation, monitoring and bias. The result is plain
dataclasses; `to_dict()` is ready for JSON (no NaN: an undefined statistic is
None with a `note` saying why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from annotary.core.quality.report.agreement import (
    BOOTSTRAP_DRAWS,
    BOOTSTRAP_DRAWS_LARGE,
    LARGE_UNITS,
    field_agreement,
)
from annotary.core.quality.report.agreement_rows import FieldAgreement, Slicing, finite
from annotary.core.quality.report.bias_section import BiasReport, bias_report
from annotary.core.quality.report.gold_section import GoldReport, gold_report
from annotary.core.quality.report.monitoring_section import FindingRow, monitoring_findings
from annotary.core.quality.report.tables import AnnotationTable, QaData
from annotary.core.quality.report.versions import restrict, version_scope

DAY_SECONDS: Final = 86_400
MAX_WINDOWS: Final = 60
"""Time windows reported per field: the most recent ones."""


@dataclass
class AggregationRow:
    """Final labels decided by one method, with their mean confidence."""

    method: str
    final_labels: int
    mean_confidence: float | None
    with_confidence: int
    mean_agreement: float | None


@dataclass
class QaReport:
    """Every QA figure of one project; see the README section *Quality reports*."""

    project: str
    generated_at: str
    window_days: int
    k_anonymity: int
    schema_version: int
    guideline_version: int
    items: int
    annotated_items: int
    annotations: int
    annotators: int
    fields: list[FieldAgreement] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    """Free-text fields: two good rewrites differ, so they are never compared."""
    gold: GoldReport = field(default_factory=lambda: GoldReport(0, 0))
    aggregation: list[AggregationRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    bias: BiasReport = field(default_factory=lambda: BiasReport(0))
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fields"] = [f.to_dict() for f in self.fields]
        return out


def build_report(data: QaData, window_days: int, k_anonymity: int) -> QaReport:
    """Compute every section from loaded data (no database access)."""
    table = data.annotations
    project = data.project
    report = QaReport(
        project=project.name,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        window_days=window_days,
        k_anonymity=k_anonymity,
        schema_version=project.schema.version,
        guideline_version=project.guideline_version,
        items=data.total_items,
        annotated_items=int(data.items.ids.size),
        annotations=table.size,
        annotators=len(data.annotator_names),
    )
    report.not_compared = [f.name for f in project.schema.fields if f.kind == "text"]
    slicing = _slicing(table, window_days, report.notes)
    scopes = [version_scope(values.spec, data.schemas) for values in data.fields]
    report.fields = [
        field_agreement(values, table.annotator, data.annotator_names, slicing, scope)
        for values, scope in zip(data.fields, scopes, strict=True)
    ]
    # Monitoring and bias read the same pooled values as the agreement figures.
    data = replace(
        data,
        fields=[
            restrict(values, scope.pooled_rows(table.schema_version[values.row]))
            if scope.apart
            else values
            for values, scope in zip(data.fields, scopes, strict=True)
        ],
    )
    report.gold = gold_report(data)
    report.aggregation = [
        AggregationRow(
            s.method,
            s.count,
            finite(s.mean_confidence),
            s.with_confidence,
            finite(s.mean_agreement),
        )
        for s in data.final_labels
    ]
    report.findings = monitoring_findings(data, window_days * DAY_SECONDS)
    report.bias = bias_report(data, k_anonymity)
    report.notes.append(
        f"95% intervals: percentile bootstrap over units, {BOOTSTRAP_DRAWS} resamples "
        f"({BOOTSTRAP_DRAWS_LARGE} above {LARGE_UNITS:,} pairable units)"
    )
    report.notes.append(
        "each field's figures pool the schema versions whose definition of it has the "
        "current value space (listed in `schema_versions`); values of versions where the "
        "field had other labels, another kind or another scale are kept apart, each with "
        "a figure of its own in by_schema_version where they can be compared among themselves"
    )
    return report


def _slicing(table: AnnotationTable, window_days: int, notes: list[str]) -> Slicing:
    """Time windows of `window_days` from the UTC midnight before the first annotation."""
    if table.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Slicing(table.schema_version, table.guideline_version, empty, {})
    origin = np.floor(table.created.min() / DAY_SECONDS) * DAY_SECONDS
    length = window_days * DAY_SECONDS
    window = ((table.created - origin) // length).astype(np.int64)
    last = int(window.max())
    if last >= MAX_WINDOWS:
        window = np.where(window > last - MAX_WINDOWS, window, -1)
        notes.append(f"agreement over time: the last {MAX_WINDOWS} windows of {last + 1}")
    labels = {}
    for key in np.unique(window[window >= 0]):
        start = datetime.fromtimestamp(origin + int(key) * length, UTC)
        end = datetime.fromtimestamp(origin + (int(key) + 1) * length - DAY_SECONDS, UTC)
        labels[int(key)] = f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"
    return Slicing(table.schema_version, table.guideline_version, window, labels)
