"""The bias section of the QA report: the annotator pool by self-reported
attribute, label distributions by annotator group and by item metadata, and
bias-tag rates; groups smaller than k are withheld."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np

from annotary.core.quality.bias import (
    LabelTable,
    bias_tag_rates,
    labels_by_annotator_group,
    labels_by_item_metadata,
    pool_diversity,
)
from annotary.core.quality.report.agreement import NOMINAL_KINDS
from annotary.core.quality.report.agreement_rows import finite
from annotary.core.quality.report.tables import QaData
from annotary.core.quality.report.values import FieldValues, IntArray

METADATA_KEYS_SHOWN: Final = 10
MAX_METADATA_VALUES: Final = 20
"""An item metadata key with more distinct values than this is an id, not a group."""


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
