"""Per-field consensus settings: which method each field uses and when it agrees enough.

`workflow.consensus` in the project file maps a field name to
`{method, threshold, tolerance}`; every key is optional. What is left out
follows the project: the method from `workflow.aggregation` (for the kinds that
vote) or the kind's only aggregator, the threshold from
`workflow.agreement_threshold`, and a tolerance of one scale step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from annotary.core.schema.fields import AnnotationSchema, AnyField, RatingField

KIND_METHODS: Final[dict[str, tuple[str, ...]]] = {
    "label": ("majority", "weighted", "dawid_skene"),
    "labels": ("majority", "weighted"),
    "preference": ("majority", "weighted"),
    "spans": ("token_vote",),
    "rating": ("median",),
    "ranking": ("borda", "bradley_terry"),
    "text": ("adjudicate", "omit"),
}
"""The methods each field kind accepts; the first is its default (label, labels
and preference default to the project's `workflow.aggregation` where it fits)."""

MEASURES: Final[dict[str, str | None]] = {
    "majority": "share",
    "weighted": "share",
    "dawid_skene": "share",
    "token_vote": "span_f1_exact",
    "median": "share_within_tolerance",
    "borda": "kendall_w",
    "bradley_terry": "kendall_w",
    "adjudicate": None,
    "omit": None,
}
"""What a field's agreement measures, by method (None: the field is not compared)."""

DEFAULT_TOLERANCE: Final = 1.0
"""Ratings within one scale step of the median agree (3, 4, 4 on 1-5 all agree)."""

STEPLESS_DIVISIONS: Final = 10
"""A stepless interval scale counts steps of a tenth of its range."""


@dataclass(frozen=True)
class FieldSetting:
    """One field's entry of `workflow.consensus`, as written (None = not given)."""

    method: str | None = None
    threshold: float | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class FieldRule:
    """How one field is combined: its method, threshold and (ratings) tolerance in steps."""

    method: str
    threshold: float
    tolerance: float = DEFAULT_TOLERANCE


def settings_of(entries: Mapping[str, Any] | None) -> dict[str, FieldSetting]:
    """`workflow.consensus` as stored (a mapping of plain dicts) as settings."""
    out: dict[str, FieldSetting] = {}
    for name, entry in (entries or {}).items():
        if isinstance(entry, Mapping):
            out[str(name)] = FieldSetting(
                entry.get("method"), entry.get("threshold"), entry.get("tolerance")
            )
    return out


def default_method(spec: AnyField, aggregation: str) -> str:
    """The field's method when `workflow.consensus` names none.

    >>> from annotary.core.schema.fields import LabelsField
    >>> default_method(LabelsField(name="t", kind="labels", labels=["a"]), "dawid_skene")
    'majority'
    """
    choices = fitting_methods(spec)
    return aggregation if aggregation in choices else choices[0]


def fitting_methods(spec: AnyField) -> tuple[str, ...]:
    """The methods this field accepts (Dawid-Skene only for single-choice fields
    that are not per turn: the project-wide fit models one label per item)."""
    methods = KIND_METHODS[spec.kind]
    if spec.kind == "label" and spec.per_turn:
        return tuple(m for m in methods if m != "dawid_skene")
    return methods


def field_rules(
    schema: AnnotationSchema,
    aggregation: str,
    default_threshold: float,
    settings: Mapping[str, FieldSetting],
) -> dict[str, FieldRule]:
    """The resolved rule of every field of `schema`.

    Entries for fields the schema does not have, or methods that do not fit the
    field (possible only for a stored project whose schema changed after its
    file was checked), fall back to the defaults.
    """
    rules: dict[str, FieldRule] = {}
    for spec in schema.fields:
        setting = settings.get(spec.name, FieldSetting())
        method = setting.method
        if method not in fitting_methods(spec):
            method = default_method(spec, aggregation)
        threshold = default_threshold if setting.threshold is None else setting.threshold
        tolerance = DEFAULT_TOLERANCE if setting.tolerance is None else setting.tolerance
        rules[spec.name] = FieldRule(method, threshold, tolerance)
    return rules


def step_size(spec: RatingField) -> float:
    """One scale step in scale units: `step`, 1 on an ordinal scale without one,
    a tenth of the range on a stepless interval scale.

    >>> step_size(RatingField(name="r", kind="rating", scale="interval", min=0, max=100))
    10.0
    """
    step = spec.effective_step()
    return step if step is not None else (spec.max - spec.min) / STEPLESS_DIVISIONS


def setting_problems(
    schema: AnnotationSchema, entries: Mapping[str, FieldSetting]
) -> list[tuple[tuple[str, ...], str]]:
    """Every problem of a `workflow.consensus` mapping, as (path under it, reason).

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> s = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "r", "kind": "rating", "min": 1, "max": 5}]})
    >>> setting_problems(s, {"r": FieldSetting(method="borda"), "x": FieldSetting()})
    [(('r', 'method'), "method 'borda' does not fit the rating field 'r'; valid: median"), \
(('x',), "no field 'x' in the schema; valid: r")]
    """
    names = [spec.name for spec in schema.fields]
    problems: list[tuple[tuple[str, ...], str]] = []
    for name, setting in entries.items():
        if name not in names:
            problems.append(
                ((name,), f"no field {name!r} in the schema; valid: {', '.join(names)}")
            )
            continue
        spec = schema.field(name)
        choices = fitting_methods(spec)
        if setting.method is not None and setting.method not in choices:
            reason = (
                f"method {setting.method!r} does not fit the {spec.kind} field {name!r}; "
                f"valid: {', '.join(choices)}"
            )
            if setting.method == "dawid_skene" and spec.kind == "label":
                reason += " (Dawid-Skene models single-choice fields that are not per turn)"
            problems.append(((name, "method"), reason))
        if spec.kind == "text" and setting.threshold is not None:
            problems.append(
                (
                    (name, "threshold"),
                    "text fields are never compared (a reviewer decides, or 'omit' leaves "
                    "them out); remove 'threshold'",
                )
            )
        problems.extend(_tolerance_problems(spec, setting))
    return problems


def _tolerance_problems(spec: AnyField, setting: FieldSetting) -> list[tuple[tuple[str, ...], str]]:
    if setting.tolerance is None:
        return []
    path = (spec.name, "tolerance")
    if not isinstance(spec, RatingField):
        return [(path, f"'tolerance' applies only to rating fields; {spec.name!r} is {spec.kind}")]
    steps = (spec.max - spec.min) / step_size(spec)
    if setting.tolerance >= steps:
        return [
            (
                path,
                f"a tolerance of {setting.tolerance:g} steps covers the whole scale "
                f"({steps:g} steps from {spec.min:g} to {spec.max:g}): every rating would agree",
            )
        ]
    return []
