"""Bias checks: label distributions by annotator group and by item metadata, bias-tag
rates and a pool-diversity summary, with small annotator groups suppressed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from annotary.core.quality.gold import Z_95, wilson_interval

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SUPPRESSED: Final = "suppressed"
MIN_GROUP_SIZE: Final = 5
"""Annotator attribute values held by fewer annotators than this are never reported."""


@dataclass(frozen=True, slots=True)
class LabelTable:
    """A groups x labels contingency table with its chi-square test of independence.

    `groups` are the row codes in table order; `suppressed` lists group codes
    withheld for privacy (no counts of theirs appear anywhere, not even in the
    test). `chi2`, `p_value` and `cramers_v` are NaN when fewer than two rows or
    columns have counts.
    """

    groups: IntArray
    table: IntArray
    suppressed: tuple[int, ...]
    chi2: float
    dof: int
    p_value: float
    cramers_v: float

    def rows(self) -> dict[int, list[int] | Literal["suppressed"]]:
        """Counts per group code, with `"suppressed"` in place of withheld groups."""
        out: dict[int, list[int] | Literal["suppressed"]] = {
            int(g): [int(c) for c in row] for g, row in zip(self.groups, self.table, strict=True)
        }
        out.update(dict.fromkeys(self.suppressed, SUPPRESSED))
        return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class TagRates:
    """Per bias tag: items carrying it, the share of all items and its Wilson interval."""

    items_tagged: IntArray
    n_items: int
    rate: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


@dataclass(frozen=True, slots=True)
class PoolDiversity:
    """Annotators per attribute value (small values suppressed) and the evenness of the pool."""

    counts: dict[int, int | Literal["suppressed"]]
    n_unknown: int
    entropy: float
    normalized_entropy: float


def cramers_v(table: npt.ArrayLike) -> float:
    """Cramér's V = sqrt(chi2 / (n (min(r, c) - 1))), chi2 without continuity correction.

    H. Cramér, *Mathematical Methods of Statistics*, Princeton 1946, p. 282. 0 means
    independence, 1 perfect association; empty rows and columns are dropped first.

    >>> round(cramers_v([[10, 0], [0, 10]]), 6)
    1.0
    """
    return _independence(np.asarray(table, dtype=np.int64))[3]


def label_association(
    row_codes: npt.ArrayLike, label_codes: npt.ArrayLike, n_rows: int, n_labels: int
) -> LabelTable:
    """Contingency table of row codes x labels and Pearson's chi-square test of independence.

    `scipy.stats.chi2_contingency` without Yates' correction (so Cramér's V and the
    test agree), effect size Cramér's V. Rows and labels that never occur are left
    out of the test.
    """
    rows = _codes(row_codes, "row_codes", n_rows)
    labels = _codes(label_codes, "label_codes", n_labels, size=rows.size)
    table = np.bincount(rows * n_labels + labels, minlength=n_rows * n_labels)
    return _table(table.reshape(n_rows, n_labels).astype(np.int64), np.arange(n_rows), ())


def labels_by_annotator_group(
    worker_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    annotator_groups: npt.ArrayLike,
    n_groups: int,
    n_labels: int,
    k: int = MIN_GROUP_SIZE,
) -> LabelTable:
    """Label distribution by a group attribute of the annotators (e.g. language, region).

    `annotator_groups[w]` is the group code of worker `w` (-1: not disclosed; those
    rows are left out). Groups with fewer than `k` annotators are suppressed; if
    the suppressed groups together have fewer than `k` annotators, the next
    smallest groups are suppressed too, so the pooled remainder (which anyone can
    derive from published totals) never describes fewer than `k` people.
    """
    workers = _codes(worker_codes, "worker_codes")
    groups_of = np.asarray(annotator_groups, dtype=np.int64)
    if workers.size and int(workers.max()) >= groups_of.size:
        raise ValueError("annotator_groups needs one group code per worker code")
    if groups_of.size and (int(groups_of.max()) >= n_groups or int(groups_of.min()) < -1):
        raise ValueError(f"annotator_groups must lie in -1..{n_groups - 1}")
    labels = _codes(label_codes, "label_codes", n_labels, size=workers.size)
    group = groups_of[workers] if workers.size else workers
    known = group >= 0
    people = np.bincount(groups_of[groups_of >= 0], minlength=n_groups)
    hidden = _suppress(people, k)
    table = np.bincount(
        group[known] * n_labels + labels[known], minlength=n_groups * n_labels
    ).reshape(n_groups, n_labels)
    shown = np.flatnonzero((people > 0) & ~hidden)
    return _table(
        table[shown].astype(np.int64), shown, tuple(int(g) for g in np.flatnonzero(hidden))
    )


def labels_by_item_metadata(
    item_codes: npt.ArrayLike,
    label_codes: npt.ArrayLike,
    item_values: npt.ArrayLike,
    n_values: int,
    n_labels: int,
) -> LabelTable:
    """Label distribution by an item metadata value (`item_values[i]`, -1: no value).

    Items are not people, so nothing is suppressed.
    """
    items = _codes(item_codes, "item_codes")
    values_of = np.asarray(item_values, dtype=np.int64)
    if items.size and int(items.max()) >= values_of.size:
        raise ValueError("item_values needs one value code per item code")
    value = values_of[items] if items.size else items
    known = value >= 0
    labels = _codes(label_codes, "label_codes", n_labels, size=items.size)
    return label_association(value[known], labels[known], n_values, n_labels)


def bias_tag_rates(
    item_codes: npt.ArrayLike,
    tag_codes: npt.ArrayLike,
    n_items: int,
    n_tags: int,
    z: float = Z_95,
) -> TagRates:
    """Share of the `n_items` items carrying each bias tag, with Wilson intervals.

    An item carries a tag if any annotation gave it (repeats count once).

    >>> r = bias_tag_rates([0, 0, 1, 3], [0, 0, 0, 1], 4, 2)
    >>> r.items_tagged.tolist(), r.rate.tolist()
    ([2, 1], [0.5, 0.25])
    """
    items = _codes(item_codes, "item_codes", n_items)
    tags = _codes(tag_codes, "tag_codes", n_tags, size=items.size)
    carried = np.unique(tags * max(n_items, 1) + items) // max(n_items, 1)
    tagged = np.bincount(carried, minlength=n_tags).astype(np.int64)
    low, high = wilson_interval(tagged, np.full(n_tags, n_items, dtype=np.int64), z)
    rate = tagged / n_items if n_items else np.full(n_tags, np.nan)
    return TagRates(tagged, n_items, rate.astype(np.float64), low, high)


def pool_diversity(
    annotator_values: npt.ArrayLike, n_values: int, k: int = MIN_GROUP_SIZE
) -> PoolDiversity:
    """Annotators per attribute value and the normalised Shannon entropy of the pool.

    `annotator_values[w]` is worker `w`'s value code (-1: not disclosed). Values
    held by fewer than `k` annotators are reported as `"suppressed"` (with the
    complementary rule of `labels_by_annotator_group`). The entropy H = -sum p ln p
    (Shannon 1948) is computed with the suppressed values pooled into one category,
    so it says nothing about how they split; the normalised entropy H / ln(C)
    over its C categories (Pielou 1966, J. Theoretical Biology 13:131-144) is 1
    for an even pool and NaN with fewer than two categories.
    """
    values = np.asarray(annotator_values, dtype=np.int64)
    if values.ndim != 1 or (
        values.size and (int(values.min()) < -1 or int(values.max()) >= n_values)
    ):
        raise ValueError(f"annotator_values must be a 1-D array of codes in -1..{n_values - 1}")
    people = np.bincount(values[values >= 0], minlength=n_values)
    hidden = _suppress(people, k)
    counts: dict[int, int | Literal["suppressed"]] = {}
    for value in np.flatnonzero(people > 0):
        counts[int(value)] = SUPPRESSED if hidden[value] else int(people[value])
    categories = [int(c) for c in people[(people > 0) & ~hidden]]
    if hidden.any():
        categories.append(int(people[hidden].sum()))
    share = np.asarray(categories, dtype=np.float64) / max(sum(categories), 1)
    entropy = float(-(share * np.log(share)).sum()) if categories else np.nan
    normalized = entropy / np.log(len(categories)) if len(categories) > 1 else np.nan
    return PoolDiversity(counts, int((values < 0).sum()), entropy, float(normalized))


def _suppress(people: npt.NDArray[np.integer], k: int) -> npt.NDArray[np.bool_]:
    """Groups to withhold: below `k` people, plus the smallest others until the withheld
    groups hold at least `k` people together (or every group is withheld)."""
    hidden = (people > 0) & (people < k)
    if not hidden.any():
        return hidden
    for group in np.argsort(np.where(hidden | (people == 0), np.iinfo(np.int64).max, people)):
        if people[hidden].sum() >= k or hidden[group] or people[group] == 0:
            break
        hidden[group] = True
    return hidden


def _table(table: IntArray, groups: npt.ArrayLike, suppressed: tuple[int, ...]) -> LabelTable:
    """Wrap a contingency table with its test."""
    chi2, dof, p_value, v = _independence(table)
    return LabelTable(np.asarray(groups, dtype=np.int64), table, suppressed, chi2, dof, p_value, v)


def _independence(table: IntArray) -> tuple[float, int, float, float]:
    """Chi-square, dof, p-value and Cramér's V of a table, empty rows/columns dropped."""
    if table.ndim != 2 or np.any(table < 0):
        raise ValueError("a contingency table is a 2-D array of non-negative counts")
    used = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(used.shape) < 2:
        return np.nan, 0, np.nan, np.nan
    result = stats.chi2_contingency(used, correction=False)
    chi2 = float(result.statistic)
    v = float(np.sqrt(chi2 / (used.sum() * (min(used.shape) - 1))))
    return chi2, int(result.dof), float(result.pvalue), v


def _codes(
    values: npt.ArrayLike, name: str, upper: int | None = None, size: int | None = None
) -> IntArray:
    """1-D non-negative integer codes (below `upper`, of length `size` when given)."""
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.astype(np.int64).reshape(0)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer codes")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} entries, one per row")
    if arr.size and (int(arr.min()) < 0 or (upper is not None and int(arr.max()) >= upper)):
        raise ValueError(f"{name} must lie in 0..{'' if upper is None else upper - 1}")
    return arr.astype(np.int64, copy=False)
