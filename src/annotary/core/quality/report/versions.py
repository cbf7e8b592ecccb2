"""Which schema versions' values of a field the QA report pools.

Annotations record the schema version they were made under. A field whose
value space changed between versions (a label added or removed, another
kind, a different scale; see `core.schema.diff`) gives values that cannot be
compared across the change: an annotator who could not choose `mixed` did
not disagree with one who chose it. So each figure of a field pools only the
versions whose definition of the field has the current value space; the
values of the other versions are kept apart, and each such version gets a
figure of its own (its values compared among themselves) when its values can
still be read as the current kind, else none, with the reason.

Changes of wording, `required` or `when` do not keep versions apart: the
values mean the same. Versions the report does not know (no stored
definition) are pooled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from annotary.core.quality.report.values import FieldValues
from annotary.core.schema.diff import diff_fields
from annotary.core.schema.fields import AnnotationSchema, AnyField, RatingField


@dataclass(frozen=True)
class VersionScope:
    """The schema versions of one field kept apart from the current definition."""

    apart: dict[int, str] = field(default_factory=dict)
    """Version -> why its values are not pooled with the current ones."""
    own_figure: frozenset[int] = frozenset()
    """Versions kept apart whose values can still be compared among themselves."""

    def pooled_rows(self, row_versions: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which annotation rows (by their schema version) the pooled figures use."""
        if not self.apart:
            return np.ones(row_versions.size, dtype=np.bool_)
        return ~np.isin(row_versions, np.array(sorted(self.apart), dtype=np.int64))


def version_scope(spec: AnyField, schemas: Mapping[int, AnnotationSchema]) -> VersionScope:
    """Which stored versions keep their values of the field `spec` (the current
    definition) apart, and why.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> v1 = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "label", "labels": ["pos", "neg"]}]})
    >>> v2 = AnnotationSchema.model_validate({"version": 2,
    ...     "fields": [{"name": "s", "kind": "label", "labels": ["pos", "neg", "mixed"]}]})
    >>> scope = version_scope(v2.fields[0], {1: v1, 2: v2})
    >>> scope.apart, sorted(scope.own_figure)
    ({1: 's: labels added: mixed (in v2 and later)'}, [1])
    """
    apart: dict[int, str] = {}
    own: set[int] = set()
    current = max(schemas, default=0)
    for version in sorted(schemas):
        old = _field(schemas[version], spec.name)
        if old is None:
            apart[version] = f"{spec.name!r} is not a field of schema v{version}"
            continue
        changes = [c for c in diff_fields(old, spec) if c.changes_values]
        if not changes:
            continue
        changed_in = _changed_in(spec, schemas, version, current)
        apart[version] = "; ".join(str(c) for c in changes) + f" (in v{changed_in} and later)"
        if _readable_as(old, spec):
            own.add(version)
    return VersionScope(apart, frozenset(own))


def restrict(values: FieldValues, keep: npt.NDArray[np.bool_]) -> FieldValues:
    """The observations of rows whose entry in `keep` (per observation) is true,
    with units coded afresh.

    >>> from annotary.core.schema.fields import LabelField
    >>> spec = LabelField(name="s", kind="label", labels=["a", "b"])
    >>> full = FieldValues(spec, np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([0, 1, 0]),
    ...                    ["a", "b"], np.array([4, 7]))
    >>> part = restrict(full, np.array([False, False, True]))
    >>> part.unit.tolist(), part.row.tolist(), part.unit_item.tolist()
    ([0], [2], [7])
    """
    kept_units, unit = np.unique(values.unit[keep], return_inverse=True)
    return FieldValues(
        values.spec,
        unit.reshape(-1).astype(np.int64),
        values.row[keep],
        values.code[keep],
        values.values,
        values.unit_item[kept_units],
    )


def _field(schema: AnnotationSchema, name: str) -> AnyField | None:
    try:
        return schema.field(name)
    except KeyError:
        return None


def _changed_in(
    spec: AnyField, schemas: Mapping[int, AnnotationSchema], version: int, current: int
) -> int:
    """The first version after `version` whose definition has the current value space."""
    for later in range(version + 1, current + 1):
        if later in schemas:
            old = _field(schemas[later], spec.name)
            if old is not None and not any(c.changes_values for c in diff_fields(old, spec)):
                return later
    return current


def _readable_as(old: AnyField, new: AnyField) -> bool:
    """Whether values of `old` decode as values of `new`: the same kind, nesting
    and, for ratings, scale level."""
    if old.kind != new.kind or old.per_turn != new.per_turn:
        return False
    if isinstance(old, RatingField) and isinstance(new, RatingField):
        return old.scale == new.scale
    return True
