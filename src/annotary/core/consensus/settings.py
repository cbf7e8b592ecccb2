"""Per-field consensus settings: which method each field uses and when it agrees enough.

`workflow.consensus` in the project file maps a field name to
`{method, threshold, tolerance}`; every key is optional. What is left out
follows the project: the method from `workflow.aggregation` (for the kinds that
vote) or the kind's first method, the threshold from
`workflow.agreement_threshold`, and a tolerance of one scale step.

The methods are the registered aggregators (`core.consensus.aggregator`): the
built-in ones (`core.consensus.methods`), then those of plugins. Every function
here takes the `Plugins` to read them from; None means `default_plugins()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from annotary.core.schema.fields import AnnotationSchema, AnyField, RatingField
from annotary.errors import E_COMPONENT_UNKNOWN, Unavailable

if TYPE_CHECKING:
    from annotary.core.consensus.aggregator import AggregatorSpec
    from annotary.core.plugins.registry import Components, Plugins

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


def aggregators_of(plugins: Plugins | None) -> Components[AggregatorSpec]:
    """The registered consensus methods of `plugins` (None: the default plugins)."""
    if plugins is None:
        from annotary.core.plugins.manager import default_plugins  # built on first use

        plugins = default_plugins()
    return plugins.aggregators


def default_method(spec: AnyField, aggregation: str, plugins: Plugins | None = None) -> str:
    """The field's method when `workflow.consensus` names none.

    >>> from annotary.core.schema.fields import LabelsField
    >>> default_method(LabelsField(name="t", kind="labels", labels=["a"]), "dawid_skene")
    'majority'
    """
    choices = fitting_methods(spec, plugins)
    return aggregation if aggregation in choices else choices[0]


def fitting_methods(spec: AnyField, plugins: Plugins | None = None) -> tuple[str, ...]:
    """The methods this field accepts, in registration order (Dawid-Skene only for
    single-choice fields that are not per turn: the project-wide fit models one
    label per item)."""
    return tuple(a.name for a in aggregators_of(plugins) if a.fits(spec))


def field_rules(
    schema: AnnotationSchema,
    aggregation: str,
    default_threshold: float,
    settings: Mapping[str, FieldSetting],
    plugins: Plugins | None = None,
) -> dict[str, FieldRule]:
    """The resolved rule of every field of `schema`.

    Entries for fields the schema does not have, or methods that do not fit the
    field (possible only for a stored project whose schema changed after its
    file was checked), fall back to the defaults. A method no plugin registers
    (its plugin was uninstalled since) is an error: another method would change
    what the project's labels mean.
    """
    aggregators = aggregators_of(plugins)
    rules: dict[str, FieldRule] = {}
    for spec in schema.fields:
        setting = settings.get(spec.name, FieldSetting())
        method = setting.method
        if method is not None and method not in aggregators:
            raise Unavailable(
                E_COMPONENT_UNKNOWN,
                f"field {spec.name!r} uses the consensus method {method!r}, which no installed "
                f"plugin registers; installed for {spec.kind} fields: "
                f"{', '.join(fitting_methods(spec, plugins))} (`annotary plugins` lists them)",
            )
        if method is None or not aggregators[method].fits(spec):
            method = default_method(spec, aggregation, plugins)
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
    schema: AnnotationSchema, entries: Mapping[str, FieldSetting], plugins: Plugins | None = None
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
        choices = fitting_methods(spec, plugins) if setting.method is not None else ()
        if setting.method is not None and setting.method not in aggregators_of(plugins):
            reason = (
                f"unknown consensus method {setting.method!r} (no installed plugin registers "
                f"it); valid for the {spec.kind} field {name!r}: {', '.join(choices)}"
            )
            problems.append(((name, "method"), reason))
        elif setting.method is not None and setting.method not in choices:
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
