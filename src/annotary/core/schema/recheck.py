"""Which stored values a new schema version would invalidate.

A value stored under an old schema version (an annotation, a gold answer, a
pre-label, a final label) was valid under that version; under a new one it may
not be. Only the fields the change touched can break, so `recheck(old, new)`
cuts the new schema down to those fields (and the fields their conditions
look at) and `Recheck.problems` validates just them: a label field of a million
annotations costs one check per distinct value, not one per annotation.

A value *invalidated* by an update is one that does not validate against the
new schema: it uses a removed label or field, has the old kind, lies outside a
narrower scale, lacks a field that became required, or breaks a changed
condition.

>>> from annotary.core.schema.fields import AnnotationSchema
>>> old = AnnotationSchema.model_validate({"fields": [
...     {"name": "sentiment", "kind": "label", "labels": ["pos", "neg", "neutral"]},
...     {"name": "note", "kind": "text", "required": False}]})
>>> new = AnnotationSchema.model_validate({"version": 2, "fields": [
...     {"name": "sentiment", "kind": "label", "labels": ["pos", "neg"]},
...     {"name": "note", "kind": "text", "required": False, "description": "why"}]})
>>> check = recheck(old, new)
>>> sorted(check.checked)
['sentiment']
>>> [str(p) for p in check.problems({"sentiment": "neutral", "note": "meh"}, None)]
["sentiment: label 'neutral' is not in the label set; valid: pos, neg"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from annotary.core.schema.diff import diff_schemas
from annotary.core.schema.fields import AnnotationSchema, AnyField
from annotary.core.schema.validation import validate_annotation
from annotary.errors import FieldError

MAX_EXAMPLES: Final = 20
"""Invalid values listed per kind of stored record (the counts cover all)."""
MAX_REMEMBERED: Final = 100_000
"""Distinct values whose problems `check_values` keeps at once."""
_ITEM_KINDS: Final = frozenset({"spans", "ranking", "preference"})
"""Field kinds whose check reads the item (span bounds, candidate counts)."""


@dataclass(frozen=True)
class Recheck:
    """How to check a payload stored under one old version against the new schema."""

    new: AnnotationSchema
    schema: AnnotationSchema | None
    """The new schema cut down to the checked fields and their condition targets
    (None: nothing to check but removed fields)."""
    checked: frozenset[str]
    removed: frozenset[str]
    full: bool = False
    """Validate against the whole new schema (the old version is unknown)."""

    @property
    def needed(self) -> bool:
        """Whether any payload could fail."""
        return self.full or bool(self.checked or self.removed)

    @property
    def needs_item(self) -> bool:
        """Whether the checks read the item (spans, rankings, preferences, turns)."""
        return self.schema is not None and any(_reads_item(f) for f in self.schema.fields)

    def problems(self, payload: Any, item: dict[str, Any] | None) -> list[FieldError]:
        """Every reason `payload` does not validate under the new schema."""
        if self.full or not isinstance(payload, dict):
            return validate_annotation(self.new, payload, item)
        errors = [
            FieldError(name, f"field {name!r} is no longer in the schema")
            for name in sorted(self.removed)
            if payload.get(name) is not None
        ]
        if self.schema is not None:
            names = {f.name for f in self.schema.fields}
            part = {k: v for k, v in payload.items() if k in names}
            errors.extend(
                p
                for p in validate_annotation(self.schema, part, item)
                if top_field(p.path) in self.checked
            )
        return errors

    def relevant(self, payload: Any) -> Any:
        """The part of a payload the checks look at (the whole of it for a full check)."""
        if self.full or not isinstance(payload, dict):
            return payload
        names = self.removed | {f.name for f in self.schema.fields} if self.schema else self.removed
        return {k: v for k, v in payload.items() if k in names}


StoredPayload = tuple[int, int, str | None, Any, dict[str, Any] | None]
"""(record id, item id, item external id, payload, item content or None)."""


def check_values(check: Recheck, record: str, chunks: Iterable[Iterable[StoredPayload]]) -> Tally:
    """Check stored values of one kind; values that need no item are checked once
    per distinct relevant part.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> old = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "rating", "min": 1, "max": 7}]})
    >>> new = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "rating", "min": 1, "max": 5}]})
    >>> rows = [(1, 10, "a", {"s": 6}, None), (2, 11, None, {"s": 3}, None)]
    >>> tally = check_values(recheck(old, new), "annotation", [rows])
    >>> tally.invalid, tally.examples[0].item_id, tally.examples[0].reason
    (1, 10, 'rating 6 is outside the scale [1, 5]')
    """
    tally = Tally(record)
    known: dict[bytes, list[FieldError]] = {}
    for chunk in chunks:
        for record_id, item_id, external_id, payload, item in chunk:
            if check.needs_item:
                problems = check.problems(payload, item)
            else:
                key = orjson.dumps(check.relevant(payload), option=orjson.OPT_SORT_KEYS)
                found = known.get(key)
                if found is None:
                    if len(known) >= MAX_REMEMBERED:
                        known.clear()
                    found = known[key] = check.problems(payload, None)
                problems = found
            tally.add(record_id, item_id, external_id, problems)
    return tally


def recheck(old: AnnotationSchema | None, new: AnnotationSchema) -> Recheck:
    """How to check values stored under `old` (None: an unknown version, so
    everything is checked) against `new`."""
    if old is None:
        return Recheck(new, new, frozenset(f.name for f in new.fields), frozenset(), full=True)
    diff = diff_schemas(old, new)
    checked = diff.to_check() - set(diff.removed())
    if not checked:
        return Recheck(new, None, frozenset(), frozenset(diff.removed()))
    keep = _with_condition_targets(new, checked)
    part = AnnotationSchema(version=new.version, fields=[f for f in new.fields if f.name in keep])
    return Recheck(new, part, frozenset(checked), frozenset(diff.removed()))


def top_field(path: str) -> str:
    """The field a validation path starts with: `entities.spans[2].end` -> `entities`.

    >>> top_field("entities.spans[2].end"), top_field("coherence.3"), top_field("x[0]")
    ('entities', 'coherence', 'x')
    """
    return path.split(".", 1)[0].split("[", 1)[0]


def _with_condition_targets(schema: AnnotationSchema, names: Iterable[str]) -> set[str]:
    """`names` and, transitively, every field their `when` conditions refer to."""
    by_name = {f.name: f for f in schema.fields}
    keep: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        condition = by_name[name].when
        if condition is not None:
            pending.append(condition.field)
    return keep


def _reads_item(spec: AnyField) -> bool:
    return spec.per_turn or spec.kind in _ITEM_KINDS


@dataclass(frozen=True)
class InvalidValue:
    """One stored value that no longer validates: where it is and why."""

    record: str
    """What it is: `annotation`, `gold answer`, `pre-label` or `final label`."""
    record_id: int
    item_id: int
    external_id: str | None
    path: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "record": self.record,
            "record_id": self.record_id,
            "item_id": self.item_id,
            "external_id": self.external_id,
            "path": self.path,
            "reason": self.reason,
        }

    def to_field_error(self) -> FieldError:
        """As an error detail: the path, the reason, and where the value is stored."""
        item = f"item {self.item_id}" + (f" ({self.external_id})" if self.external_id else "")
        return FieldError(self.path, self.reason, f"{self.record} {self.record_id}, {item}")


@dataclass
class Tally:
    """Stored values of one kind checked against a new schema: how many no longer
    validate, per field, with the first `MAX_EXAMPLES` problems.

    >>> tally = Tally("annotation")
    >>> tally.add(7, 3, "t3", [FieldError("sentiment", "label 'x' is not in the label set")])
    >>> tally.add(8, 4, None, [])
    >>> tally.checked, tally.invalid, tally.by_field
    (2, 1, {'sentiment': 1})
    """

    record: str
    checked: int = 0
    invalid: int = 0
    by_field: dict[str, int] = field(default_factory=dict)
    examples: list[InvalidValue] = field(default_factory=list)

    def add(
        self, record_id: int, item_id: int, external_id: str | None, problems: list[FieldError]
    ) -> None:
        """Count one checked value and its problems (none: it still validates)."""
        self.checked += 1
        if not problems:
            return
        self.invalid += 1
        for name in dict.fromkeys(top_field(p.path) for p in problems):
            self.by_field[name] = self.by_field.get(name, 0) + 1
        for problem in problems:
            if len(self.examples) >= MAX_EXAMPLES:
                break
            self.examples.append(
                InvalidValue(
                    self.record, record_id, item_id, external_id, problem.path, problem.reason
                )
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "record": self.record,
            "checked": self.checked,
            "invalid": self.invalid,
            "by_field": dict(self.by_field),
            "examples": [e.to_dict() for e in self.examples],
        }
