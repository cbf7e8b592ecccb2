"""Agreement per field of a project: overall, per label, per annotator pair, per
schema and guideline version and per time window.

The statistic follows the field kind (SPEC 6): Krippendorff's alpha, nominal
for `label` and `preference` (the choice), MASI distance for `labels`, ordinal or
interval for `rating` (the field's scale), ordinal over rank positions for
`ranking` (each item x candidate is a unit); span F1 (exact and overlap match)
between every two annotators of an item for `spans`. Text fields are never
compared. A statistic that is undefined on the data (E601) is reported as None
with the reason in `note`, never as NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from annotary.core.quality import (
    agreement_undefined,
    alpha_from_distances,
    bootstrap_alpha,
    category_counts,
    cohen_kappa,
    fleiss_kappa_counts,
    krippendorff_alpha,
    masi_distance,
    pairwise_preference_agreement,
    percent_agreement,
    span_agreement_documents,
)
from annotary.core.quality.coincidence import Level
from annotary.core.quality.report.agreement_rows import (
    Estimate,
    FieldAgreement,
    LabelAgreement,
    PairAgreement,
    SliceAgreement,
    Slicing,
    attempt,
    finite,
)
from annotary.core.quality.report.values import FieldValues, IntArray
from annotary.core.quality.report.versions import VersionScope, restrict
from annotary.core.quality.resampling import bootstrap_alpha_distances
from annotary.core.quality.units import slot_matrix, unit_pairs
from annotary.core.schema.fields import ChoiceField, RatingField
from annotary.errors import E_AGREEMENT_UNDEFINED, Invalid

PAIRS_SHOWN: Final = 20
"""Annotator pairs listed per field: the ones sharing the most units."""
BOOTSTRAP_DRAWS: Final = 1000
BOOTSTRAP_DRAWS_LARGE: Final = 200
LARGE_UNITS: Final = 100_000
"""Above this many pairable units the bootstrap draws BOOTSTRAP_DRAWS_LARGE resamples.

A resample costs time in proportion to the distinct value multisets, not the
units (see `bootstrap_alpha`), but those grow with the data for ratings and
label sets; with this many units the interval is narrow and 200 draws place its
2.5% and 97.5% quantiles well enough for a report."""
MAX_LABEL_SETS: Final = 500
"""Distinct label sets of a `labels` field MASI alpha is computed for (a K x K
distance table of Python MASI calls)."""
NOMINAL_KINDS: Final = frozenset({"label", "preference"})
PER_LABEL_KINDS: Final = frozenset({"label", "labels", "preference"})


class _Measure:
    """Krippendorff's alpha for one field, with its interval."""

    def __init__(self, values: FieldValues) -> None:
        self.level: Level = "nominal"
        self.numbers: npt.NDArray[np.float64] | None = None
        self.distances: npt.NDArray[np.float64] | None = None
        self.unavailable: str | None = None
        spec = values.spec
        if isinstance(spec, RatingField):
            self.level = spec.scale
            self.numbers = values.numbers()
        elif values.kind == "ranking":
            self.level = "ordinal"
            self.numbers = values.numbers()
        elif values.kind == "labels" and len(values.values) > MAX_LABEL_SETS:
            self.unavailable = (
                f"{len(values.values)} distinct label sets; MASI alpha is computed for at "
                f"most {MAX_LABEL_SETS}"
            )
        elif values.kind == "labels":
            sets = values.values
            self.distances = np.array(
                [[masi_distance(a, b) for b in sets] for a in sets], dtype=np.float64
            ).reshape(len(sets), len(sets))
        self.name = "krippendorff_alpha_" + ("masi" if values.kind == "labels" else self.level)

    def alpha(self, codes: IntArray) -> float:
        if self.unavailable:
            raise agreement_undefined(self.unavailable)
        if self.distances is not None:
            return alpha_from_distances(codes, self.distances)
        return krippendorff_alpha(codes, self.level, values=self.numbers)

    def interval(self, codes: IntArray, n_boot: int) -> tuple[float, float]:
        if self.distances is not None:
            return bootstrap_alpha_distances(codes, self.distances, n_boot=n_boot)
        return bootstrap_alpha(codes, self.level, values=self.numbers, n_boot=n_boot)


def field_agreement(
    values: FieldValues,
    annotator: IntArray,
    names: list[str],
    slicing: Slicing,
    scope: VersionScope | None = None,
) -> FieldAgreement:
    """Every agreement figure of one field (`annotator`: annotator code per row).

    The figures pool the schema versions `scope` does not keep apart; each version
    kept apart gets its own entry in `by_schema_version` (see `report.versions`).
    """
    scope = scope or VersionScope()
    row_versions = slicing.schema_version[values.row]
    pooled = scope.pooled_rows(row_versions)
    result = _pooled_agreement(
        values if pooled.all() else restrict(values, pooled), annotator, names, slicing
    )
    result.schema_versions = sorted({int(v) for v in row_versions[pooled]})
    apart = sorted({int(v) for v in row_versions[~pooled]})
    for version in apart:
        result.by_schema_version.append(
            _apart_slice(values, row_versions == version, annotator, version, scope)
        )
    if apart:
        result.by_schema_version.sort(key=lambda s: int(s.key.removeprefix("schema v")))
        shown = ", ".join(f"v{v}" for v in apart)
        kept = f"values of schema {shown} are not pooled (the field changed; see by_schema_version)"
        result.note = f"{result.note}; {kept}" if result.note else kept
    return result


def _apart_slice(
    values: FieldValues,
    rows: npt.NDArray[np.bool_],
    annotator: IntArray,
    version: int,
    scope: VersionScope,
) -> SliceAgreement:
    """The figure of one version kept apart: its values among themselves, if readable."""
    own = restrict(values, rows)
    n_units = int(np.unique(own.unit).size)
    reason = scope.apart[version]
    if version not in scope.own_figure:
        return SliceAgreement(
            f"schema v{version}", int(own.code.size), n_units, None, f"not compared: {reason}"
        )
    coders = annotator[own.row]
    if own.kind == "spans":
        first, second = unit_pairs(own.unit, coders)
        docs = [
            (own.values[a], own.values[b])
            for a, b in zip(own.code[first], own.code[second], strict=True)
        ]
        value, note = attempt(lambda: span_agreement_documents(docs, mode="exact").micro.f1)
    else:
        measure = _Measure(own)
        value, note = attempt(lambda: measure.alpha(slot_matrix(own.unit, own.code, -1)))
    why = f"this version's values among themselves; not pooled: {reason}"
    return SliceAgreement(
        f"schema v{version}", int(own.code.size), n_units, value, f"{why}; {note}" if note else why
    )


def _pooled_agreement(
    values: FieldValues, annotator: IntArray, names: list[str], slicing: Slicing
) -> FieldAgreement:
    coders = annotator[values.row]
    slots = slot_matrix(values.unit, values.code, -1)
    pairable = np.count_nonzero(slots >= 0, axis=1) >= 2 if slots.size else np.zeros(0, bool)
    if values.kind == "spans":
        return _span_field(values, coders, names, slicing, slots.shape[0], int(pairable.sum()))
    measure = _Measure(values)
    result = FieldAgreement(
        name=values.spec.name,
        kind=values.kind,
        statistic=measure.name,
        n_values=int(values.code.size),
        n_units=int(slots.shape[0]),
        n_pairable_units=int(pairable.sum()),
        estimate=_estimate(measure, slots, int(pairable.sum())),
    )
    if values.kind != "ranking" and pairable.any():
        _observed_agreement(result, slots[pairable], len(values.values))
    if values.kind in PER_LABEL_KINDS:
        result.per_label = _per_label(values, slots)
    result.pairs, result.pairs_total = _pairs(values, coders, names, measure)

    def statistic(subset: IntArray) -> tuple[float | None, str | None, int]:
        sub_slots = slot_matrix(values.unit[subset], values.code[subset], -1)
        return (*attempt(lambda: measure.alpha(sub_slots)), sub_slots.shape[0])

    _slices(result, values, slicing, statistic)
    return result


def _estimate(measure: _Measure, slots: IntArray, n_pairable: int) -> Estimate:
    value, note = attempt(lambda: measure.alpha(slots))
    if value is None:
        return Estimate(None, note=note)
    n_boot = BOOTSTRAP_DRAWS if n_pairable <= LARGE_UNITS else BOOTSTRAP_DRAWS_LARGE
    try:
        low, high = measure.interval(slots, n_boot)
    except Invalid as error:
        if error.code != E_AGREEMENT_UNDEFINED:
            raise
        return Estimate(value, n_boot=n_boot, note=f"no interval: {error.message}")
    return Estimate(value, finite(low), finite(high), n_boot)


def _observed_agreement(result: FieldAgreement, slots: IntArray, n_categories: int) -> None:
    """Share of agreeing value pairs per unit (mean over units), and Fleiss' kappa when
    every unit has the same number of values (Fleiss 1971 assumes it)."""
    per_unit = np.count_nonzero(slots >= 0, axis=1)
    fewest, most = int(per_unit.min()), int(per_unit.max())
    result.values_per_unit = (fewest, most)
    # P_a of Fleiss (1971): the per-unit share of agreeing pairs, averaged.
    result.percent_agreement, _ = attempt(
        lambda: pairwise_preference_agreement(slots, n_categories)
    )
    if fewest != most:
        result.note = (
            f"units have {fewest} to {most} values; Fleiss' kappa needs the same number on "
            "every unit, so only the observed agreement is given (alpha allows any number)"
        )
        return
    kappa, note = attempt(lambda: fleiss_kappa_counts(category_counts(slots, n_categories)))
    result.fleiss_kappa = kappa
    if note:
        result.note = f"Fleiss' kappa: {note}"


def _per_label(values: FieldValues, slots: IntArray) -> list[LabelAgreement]:
    """Binary nominal alpha of each label against the rest (present / absent)."""
    if values.kind == "labels":
        spec = values.spec
        listed = spec.label_names() if isinstance(spec, ChoiceField) else []
        extra = sorted({label for labels in values.values for label in labels} - set(listed))
        labels = [*listed, *extra]
        member = np.array(
            [[label in chosen for label in labels] for chosen in values.values], dtype=np.int64
        ).reshape(len(values.values), len(labels))
    else:
        labels = [str(v) for v in values.values]
        member = np.eye(len(labels), dtype=np.int64)
    rows: list[LabelAgreement] = []
    present = slots >= 0
    safe = np.where(present, slots, 0)
    counts = np.bincount(values.code, minlength=len(values.values))
    for position, label in enumerate(labels):
        binary = np.where(present, member[safe, position], -1)
        value, note = attempt(partial(krippendorff_alpha, binary, "nominal"))
        used = int(counts @ member[:, position]) if counts.size else 0
        rows.append(LabelAgreement(label, used, value, note))
    return rows


def _top_pairs(
    values: FieldValues, coders: IntArray, n_coders: int
) -> tuple[Iterator[tuple[int, int, IntArray, IntArray]], int]:
    """The PAIRS_SHOWN coder pairs sharing most units, each with its observation
    indices (first coder, second coder), and the number of pairs sharing any."""
    first, second = unit_pairs(values.unit, coders)
    key = coders[first] * n_coders + coders[second]
    shared = np.bincount(key, minlength=n_coders * n_coders) if key.size else np.zeros(0)
    sharing = np.flatnonzero(shared)
    chosen = sharing[np.lexsort((sharing, -shared[sharing]))][:PAIRS_SHOWN]
    picked = np.flatnonzero(np.isin(key, chosen))
    picked = picked[np.argsort(key[picked], kind="stable")]
    bounds = np.searchsorted(key[picked], chosen)
    ends = np.searchsorted(key[picked], chosen, side="right")

    def pairs() -> Iterator[tuple[int, int, IntArray, IntArray]]:
        for pair, start, end in zip(chosen, bounds, ends, strict=True):
            rows = picked[start:end]
            yield int(pair // n_coders), int(pair % n_coders), first[rows], second[rows]

    return pairs(), int(sharing.size)


def _pairs(
    values: FieldValues, coders: IntArray, names: list[str], measure: _Measure
) -> tuple[list[PairAgreement], int]:
    pairs, total = _top_pairs(values, coders, len(names))
    out = []
    for a, b, first, second in pairs:
        codes_a, codes_b = values.code[first], values.code[second]
        agree = percent_agreement(codes_a, codes_b)
        if values.kind in NOMINAL_KINDS:
            statistic = "cohen_kappa"
            value, note = attempt(partial(cohen_kappa, codes_a, codes_b))
        else:
            statistic = measure.name
            matrix = np.column_stack([codes_a, codes_b])
            value, note = attempt(partial(measure.alpha, matrix))
        out.append(PairAgreement(names[a], names[b], len(first), statistic, value, agree, note))
    return out, total


def _slices(
    result: FieldAgreement,
    values: FieldValues,
    slicing: Slicing,
    statistic: Callable[[IntArray], tuple[float | None, str | None, int]],
) -> None:
    """The field's statistic on the values of each version and time window."""
    groupings: list[tuple[str, IntArray, Callable[[int], str]]] = [
        ("by_schema_version", slicing.schema_version, lambda k: f"schema v{k}"),
        ("by_guideline_version", slicing.guideline_version, lambda k: f"guidelines v{k}"),
        ("by_window", slicing.window, lambda k: slicing.window_labels.get(k, str(k))),
    ]
    for attribute, per_row, label in groupings:
        keys = per_row[values.row]
        order = np.argsort(keys, kind="stable")
        distinct, starts = np.unique(keys[order], return_index=True)
        ends = [*starts[1:], keys.size] if keys.size else []
        slices = []
        for key, start, end in zip(distinct, starts, ends, strict=True):
            if key < 0:  # rows left out of this grouping (windows beyond the last shown)
                continue
            subset = order[start:end]
            value, note, n_units = statistic(subset)
            slices.append(SliceAgreement(label(int(key)), int(subset.size), n_units, value, note))
        setattr(result, attribute, slices)


def _span_field(
    values: FieldValues,
    coders: IntArray,
    names: list[str],
    slicing: Slicing,
    n_units: int,
    n_pairable: int,
) -> FieldAgreement:
    """Span F1 pooled over every two annotators of each item (exact and overlap)."""
    spans: list[Any] = values.values

    def documents(first: IntArray, second: IntArray) -> list[tuple[Any, Any]]:
        return [
            (spans[a], spans[b])
            for a, b in zip(values.code[first], values.code[second], strict=True)
        ]

    def f1(first: IntArray, second: IntArray, mode: Any) -> tuple[float | None, str | None]:
        docs = documents(first, second)
        return attempt(lambda: span_agreement_documents(docs, mode=mode).micro.f1)

    first, second = unit_pairs(values.unit, coders)
    f1_exact, undefined = f1(first, second, "exact")
    result = FieldAgreement(
        name=values.spec.name,
        kind="spans",
        statistic="span_f1_exact",
        n_values=int(values.code.size),
        n_units=n_units,
        n_pairable_units=n_pairable,
        estimate=Estimate(f1_exact, note=undefined),
        note="F1 between every two annotators of an item, pooled (micro); items where "
        "neither marked a span add nothing",
    )
    result.f1_overlap = f1(first, second, "overlap")[0]
    docs = documents(first, second)
    try:
        exact = span_agreement_documents(docs, mode="exact").per_label
        overlap = span_agreement_documents(docs, mode="overlap").per_label
        result.per_label = [
            LabelAgreement(label, s.n_gold + s.n_pred, s.f1, None, overlap[label].f1)
            for label, s in exact.items()
        ]
    except Invalid as error:
        if error.code != E_AGREEMENT_UNDEFINED:
            raise
    pairs, result.pairs_total = _top_pairs(values, coders, len(names))
    for a, b, pair_first, pair_second in pairs:
        value, note = f1(pair_first, pair_second, "exact")
        pair = PairAgreement(names[a], names[b], len(pair_first), "span_f1_exact", value)
        pair.note, pair.f1_overlap = note, f1(pair_first, pair_second, "overlap")[0]
        result.pairs.append(pair)

    def statistic(subset: IntArray) -> tuple[float | None, str | None, int]:
        sub_first, sub_second = unit_pairs(values.unit[subset], coders[subset])
        n_units = int(np.unique(values.unit[subset]).size)
        return (*f1(subset[sub_first], subset[sub_second], "exact"), n_units)

    _slices(result, values, slicing, statistic)
    return result
