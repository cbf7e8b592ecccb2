"""Gold accuracy, annotator monitoring and bias sections of the QA report.

Each section takes the arrays of `qa_data` and calls the statistics of
`annotary.core.quality` (gold, monitoring, bias); this module only chooses the
inputs and turns codes back into names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np

from annotary.core.aggregation import MajorityVote
from annotary.core.consensus import comparable_fields, gold_matches
from annotary.core.quality.bias import (
    LabelTable,
    bias_tag_rates,
    labels_by_annotator_group,
    labels_by_item_metadata,
    pool_diversity,
)
from annotary.core.quality.gold import gold_accuracy, gold_difficulty
from annotary.core.quality.monitoring import (
    Finding,
    LabelDivergence,
    ShareCheck,
    consensus_agreement,
    label_divergence,
    speed_anomalies,
)
from annotary.core.quality.trends import TrendCheck, agreement_drift, fatigue
from annotary.services.qa_agreement import NOMINAL_KINDS, finite
from annotary.services.qa_data import QaData
from annotary.services.qa_values import FieldValues, IntArray

GOLD_ITEMS_SHOWN: Final = 20
"""Gold items listed, hardest first."""
METADATA_KEYS_SHOWN: Final = 10
MAX_METADATA_VALUES: Final = 20
"""An item metadata key with more distinct values than this is an id, not a group."""


@dataclass
class GoldAccuracyRow:
    """One annotator's accuracy on one field of the gold items, with a Wilson 95% interval."""

    annotator: str
    field: str
    answered: int
    correct: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class GoldItemRow:
    """How often a gold item was answered wrongly (any compared field differs)."""

    item_id: int
    external_id: str | None
    answered: int
    wrong: int
    difficulty: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class GoldReport:
    """Accuracy per annotator and field, and the hardest gold items."""

    gold_items: int
    answers: int
    accuracy: list[GoldAccuracyRow] = field(default_factory=list)
    hardest_items: list[GoldItemRow] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gold_report(data: QaData) -> GoldReport:
    """Compare every answer to a gold item with its gold answer, field by field.

    Values are compared by their canonical form (`core.consensus.value_key`):
    label sets as sets, spans regardless of order, free text never.
    """
    specs = comparable_fields(data.project.schema)
    field_code = {spec.name: i for i, spec in enumerate(specs)}
    gold_items = sorted(data.gold_answers)
    gold_position = {item: i for i, item in enumerate(gold_items)}
    annotators: list[int] = []
    fields: list[int] = []
    correct: list[bool] = []
    answer_item: list[int] = []
    answer_right: list[bool] = []
    for item, annotator, payload in data.gold_annotations:
        matches = gold_matches(data.project.schema, data.gold_answers[item], payload)
        if not matches:
            continue
        for name, matched in matches.items():
            annotators.append(annotator)
            fields.append(field_code[name])
            correct.append(matched)
        answer_item.append(gold_position[item])
        answer_right.append(all(matches.values()))
    report = GoldReport(len(gold_items), len(answer_item))
    if not answer_item:
        report.note = "no annotation of a gold item yet" if gold_items else "no gold items"
        return report
    accuracy = gold_accuracy(
        np.array(annotators, dtype=np.int64),
        np.array(fields, dtype=np.int64),
        np.array(correct, dtype=np.bool_),
        len(data.annotator_names),
        len(specs),
    )
    for a, f in zip(*np.nonzero(accuracy.answered), strict=True):
        report.accuracy.append(
            GoldAccuracyRow(
                data.annotator_names[a],
                specs[f].name,
                int(accuracy.answered[a, f]),
                int(accuracy.correct[a, f]),
                finite(accuracy.accuracy[a, f]),
                finite(accuracy.ci_low[a, f]),
                finite(accuracy.ci_high[a, f]),
            )
        )
    difficulty = gold_difficulty(
        np.array(answer_item, dtype=np.int64),
        np.array(answer_right, dtype=np.bool_),
        len(gold_items),
    )
    answered = np.flatnonzero(difficulty.answered)
    ranked = answered[
        np.lexsort((-difficulty.answered[answered], -difficulty.difficulty[answered]))
    ]
    for position in ranked[:GOLD_ITEMS_SHOWN]:
        item = gold_items[position]
        report.hardest_items.append(
            GoldItemRow(
                int(data.items.ids[item]),
                data.items.external_ids[item],
                int(difficulty.answered[position]),
                int(difficulty.wrong[position]),
                finite(difficulty.difficulty[position]),
                finite(difficulty.ci_low[position]),
                finite(difficulty.ci_high[position]),
            )
        )
    return report


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


@dataclass
class GroupRow:
    """Label counts of one group (annotators sharing an attribute value, or items)."""

    group: str
    n_values: int
    counts: dict[str, int]


@dataclass
class BiasTable:
    """Label distribution of one field by groups, with Pearson's chi-square test."""

    field: str
    source: str
    """`annotator_attribute` or `item_metadata`."""
    key: str
    groups: list[GroupRow]
    suppressed_groups: int
    chi2: float | None
    dof: int
    p_value: float | None
    cramers_v: float | None
    note: str | None = None


@dataclass
class PoolRow:
    """How the project's annotators split on one self-reported attribute."""

    attribute: str
    counts: dict[str, int]
    suppressed_values: int
    undisclosed: int
    entropy: float | None
    normalized_entropy: float | None


@dataclass
class TagRateRow:
    """How many of a field's annotated items carry one bias tag, with a Wilson 95% CI."""

    field: str
    tag: str
    items_tagged: int
    items: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass
class BiasReport:
    """Pool diversity, label distributions by annotator group and item metadata,
    and bias-tag rates (fields whose name starts with `bias`)."""

    k_anonymity: int
    pool: list[PoolRow] = field(default_factory=list)
    tables: list[BiasTable] = field(default_factory=list)
    tag_rates: list[TagRateRow] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bias_report(data: QaData, k: int) -> BiasReport:
    """Label distributions by annotator attribute (groups under `k` people withheld:
    neither their names nor their counts appear) and by item metadata value."""
    report = BiasReport(
        k,
        note=f"annotator groups with fewer than {k} people are withheld (with the next "
        "smallest when needed, so withheld groups together hold at least k); their values "
        "and counts appear nowhere",
    )
    nominal = [v for v in data.fields if v.kind in NOMINAL_KINDS and v.code.size]
    for key in sorted({k for attrs in data.annotator_attributes for k in attrs}):
        names, groups = _group_codes([a.get(key) for a in data.annotator_attributes])
        pool = pool_diversity(groups, len(names), k)
        report.pool.append(
            PoolRow(
                key,
                {names[g]: n for g, n in pool.counts.items() if isinstance(n, int)},
                sum(1 for n in pool.counts.values() if not isinstance(n, int)),
                pool.n_unknown,
                finite(pool.entropy),
                finite(pool.normalized_entropy),
            )
        )
        for values in nominal:
            workers = data.annotations.annotator[values.row]
            table = labels_by_annotator_group(
                workers, values.code, groups, len(names), len(values.values), k
            )
            report.tables.append(_bias_table(values, "annotator_attribute", key, names, table))
    for key, names, codes in _metadata_groupings(data):
        for values in nominal:
            items = values.unit_item[values.unit]
            table = labels_by_item_metadata(
                items, values.code, codes, len(names), len(values.values)
            )
            report.tables.append(_bias_table(values, "item_metadata", key, names, table))
    for values in data.fields:
        if values.spec.name.startswith("bias") and values.kind in ("label", "labels"):
            report.tag_rates.extend(_tag_rates(values))
    return report


def _tag_rates(values: FieldValues) -> list[TagRateRow]:
    """An item carries a tag when any annotation gave it (`bias_tag_rates`)."""
    tags = sorted({t for v in values.values for t in (v if isinstance(v, frozenset) else [v])})
    position = {tag: i for i, tag in enumerate(tags)}
    items = values.unit_item[values.unit]
    annotated = np.unique(items)
    item_code = {int(item): i for i, item in enumerate(annotated)}
    tag_items: list[int] = []
    tag_codes: list[int] = []
    for item, code in zip(items, values.code, strict=True):
        value = values.values[int(code)]
        for tag in value if isinstance(value, frozenset) else [value]:
            tag_items.append(item_code[int(item)])
            tag_codes.append(position[tag])
    rates = bias_tag_rates(tag_items, tag_codes, len(annotated), len(tags))
    return [
        TagRateRow(
            values.spec.name,
            str(tag),
            int(rates.items_tagged[i]),
            rates.n_items,
            finite(rates.rate[i]),
            finite(rates.ci_low[i]),
            finite(rates.ci_high[i]),
        )
        for i, tag in enumerate(tags)
    ]


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _group_codes(raw: list[Any]) -> tuple[list[str], IntArray]:
    """Distinct scalar values (sorted) and each entry's code (-1: none or not scalar)."""
    texts = [_scalar(v) for v in raw]
    names = sorted({t for t in texts if t is not None})
    position = {name: i for i, name in enumerate(names)}
    codes = np.array([-1 if t is None else position[t] for t in texts], dtype=np.int64)
    return names, codes


def _metadata_groupings(data: QaData) -> list[tuple[str, list[str], IntArray]]:
    """Item metadata keys with 2..MAX_METADATA_VALUES scalar values, most common first."""
    items = data.items
    sharing = np.bincount(items.metadata_code, minlength=len(items.metadata))
    seen: dict[str, set[str]] = {}
    coverage: dict[str, int] = {}
    for metadata, n_items in zip(items.metadata, sharing, strict=True):
        for key, value in metadata.items():
            text = _scalar(value)
            if text is None:
                continue
            values = seen.setdefault(key, set())
            if len(values) <= MAX_METADATA_VALUES:
                values.add(text)
            coverage[key] = coverage.get(key, 0) + int(n_items)
    keys = [k for k, v in seen.items() if 2 <= len(v) <= MAX_METADATA_VALUES]
    keys.sort(key=lambda k: (-coverage[k], k))
    out = []
    for key in keys[:METADATA_KEYS_SHOWN]:
        names, codes = _group_codes([m.get(key) for m in items.metadata])
        out.append((key, names, codes[items.metadata_code]))
    return out


def _bias_table(
    values: FieldValues, source: str, key: str, names: list[str], table: LabelTable
) -> BiasTable:
    labels = [str(v) for v in values.values]
    groups = [
        GroupRow(
            names[g],
            int(row.sum()),
            {label: int(n) for label, n in zip(labels, row, strict=True) if n},
        )
        for g, row in zip(table.groups, table.table, strict=True)
        if row.sum()
    ]
    chi2 = finite(table.chi2)
    return BiasTable(
        field=values.spec.name,
        source=source,
        key=key,
        groups=groups,
        suppressed_groups=len(table.suppressed),
        chi2=chi2,
        dof=table.dof,
        p_value=finite(table.p_value),
        cramers_v=finite(table.cramers_v),
        note=None if chi2 is not None else "fewer than two groups or labels with counts: no test",
    )
