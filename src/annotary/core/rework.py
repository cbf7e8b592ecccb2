"""Rework (SPEC 8): annotations made under an older schema or guideline version,
redone for the changed fields only.

Three pure steps, shared by the service that selects the work and by the queue
that serves it:

- `RedoRule.fields`: which fields of one stored annotation must be redone
  under the current schema: those whose value space changed and that the
  annotation answered, those added since (when they apply), those that no
  longer validate, and any field a manager names explicitly;
- `merge_answer`: the annotation after its author redid those fields: the
  other fields kept, the redone ones replaced, all validated together;
- `merge_final`: the item's final label after rework: the fields nobody
  redid keep their final value (an adjudicated decision stays), the redone
  ones take the new consensus;
- `refinalize`: that final label with its record (per-field method and
  agreement), or the verdict that the redone fields need a reviewer.

>>> from annotary.core.schema.fields import AnnotationSchema
>>> v1 = AnnotationSchema.model_validate({"fields": [
...     {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
...     {"name": "note", "kind": "text", "required": False}]})
>>> v2 = AnnotationSchema.model_validate({"version": 2, "fields": [
...     {"name": "s", "kind": "label", "labels": ["pos", "neg", "mixed"]},
...     {"name": "note", "kind": "text", "required": False}]})
>>> rule = redo_rule(v1, v2)
>>> rule.fields({"s": "pos", "note": "fine"}, None)
['s']
>>> merge_answer(v2, {"s": "pos", "note": "fine"}, ["s"], {"s": "mixed"}, None)
({'note': 'fine', 's': 'mixed'}, [])
>>> merge_final(v2, {"s": "pos", "note": "fine"}, {"s": "mixed", "note": "other"}, ["s"])
{'note': 'fine', 's': 'mixed'}
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotary.core.consensus.outcome import ItemConsensus
from annotary.core.schema.diff import diff_schemas
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.recheck import MAX_EXAMPLES, Recheck, recheck, top_field
from annotary.core.schema.validation import applies, validate_annotation
from annotary.errors import FieldError


@dataclass(frozen=True)
class RedoRule:
    """Which fields of annotations stored under one old version to redo under `new`."""

    new: AnnotationSchema
    value_changed: frozenset[str]
    """Fields whose value space changed: redone where the annotation answered them."""
    added: frozenset[str]
    """Fields new since the old version: redone where they apply."""
    check: Recheck | None
    """Finds the fields that no longer validate (None: the old version is the new one)."""
    requested: frozenset[str]
    """Fields a manager asked to redo, whatever changed."""

    def fields(self, payload: Any, item: dict[str, Any] | None) -> list[str]:
        """The fields to redo for one annotation, in schema order."""
        values = payload if isinstance(payload, dict) else {}
        chosen = set(self.requested)
        chosen.update(f for f in self.value_changed if values.get(f) is not None)
        chosen.update(f for f in self.added if applies(self.new, self.new.field(f), values))
        if self.check is not None:
            chosen.update(top_field(p.path) for p in self.check.problems(payload, item))
        names = [f.name for f in self.new.fields]
        return [name for name in names if name in chosen]

    @property
    def needs_item(self) -> bool:
        """Whether `fields` reads the item (spans, rankings, turns)."""
        return self.check is not None and self.check.needs_item


def redo_rule(
    old: AnnotationSchema, new: AnnotationSchema, requested: Collection[str] = ()
) -> RedoRule:
    """The rule for annotations stored under `old` (it may be `new` itself, when a
    manager names fields to redo after a guidelines change).

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> v1 = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "s", "kind": "rating", "min": 1, "max": 7},
    ...     {"name": "t", "kind": "label", "labels": ["a", "b"]}]})
    >>> v2 = AnnotationSchema.model_validate({"version": 2, "fields": [
    ...     {"name": "s", "kind": "rating", "min": 1, "max": 5},
    ...     {"name": "t", "kind": "label", "labels": ["a", "b"], "description": "new"},
    ...     {"name": "why", "kind": "text"}]})
    >>> redo_rule(v1, v2).fields({"s": 3, "t": "a"}, None)
    ['s', 'why']
    """
    diff = diff_schemas(old, new)
    added = frozenset(diff.added())
    value_changed = frozenset(diff.value_changed() - added - set(diff.removed()))
    check = recheck(old, new) if diff else None
    return RedoRule(new, value_changed, added, check, frozenset(requested))


def merge_answer(
    new: AnnotationSchema,
    previous: dict[str, Any],
    fields: Sequence[str],
    answer: Any,
    item: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The annotation after its author redid `fields`: the answer must hold only
    those fields (leaving one out leaves it empty); the other values of
    `previous` that the new schema still has are kept. Every problem of the
    merged annotation is returned, kept fields marked as such.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> v2 = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
    ...     {"name": "n", "kind": "text", "required": False}]})
    >>> _, errors = merge_answer(v2, {"s": "pos"}, ["s"], {"s": "x", "n": "y"}, None)
    >>> for error in errors:
    ...     print(error)
    n: not part of this rework; redo only: s
    s: label 'x' is not in the label set; valid: pos, neg
    """
    if not isinstance(answer, dict):
        return dict(previous), [FieldError("", "a rework answer must be an object of fields")]
    asked = list(fields)
    errors = [
        FieldError(str(key), f"not part of this rework; redo only: {', '.join(asked)}")
        for key in answer
        if key not in asked
    ]
    names = {f.name for f in new.fields}
    merged = {k: v for k, v in previous.items() if k in names and k not in asked}
    merged.update({k: answer[k] for k in asked if answer.get(k) is not None})
    for problem in validate_annotation(new, merged, item):
        if top_field(problem.path) in asked or not problem.path:
            errors.append(problem)
        else:
            errors.append(FieldError(problem.path, f"{problem.reason} (kept from before)"))
    return merged, errors


def merge_final(
    new: AnnotationSchema,
    previous: dict[str, Any] | None,
    consensus: dict[str, Any],
    fields: Sequence[str],
) -> dict[str, Any]:
    """The final label after rework: the previous final value of every field not
    redone (if the new schema has it), the new consensus for the redone ones.
    Without a previous final label, the consensus as it is."""
    if previous is None:
        return dict(consensus)
    names = {f.name for f in new.fields}
    merged = {k: v for k, v in previous.items() if k in names and k not in fields}
    merged.update({k: consensus[k] for k in fields if consensus.get(k) is not None})
    return merged


def task_view(
    new: AnnotationSchema, fields: Sequence[str], previous: dict[str, Any]
) -> dict[str, Any]:
    """What a rework task shows its annotator: the fields to redo (those the
    current schema still has) and their earlier values of them.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> v2 = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
    ...     {"name": "why", "kind": "text", "required": False}]})
    >>> task_view(v2, ["s", "why", "gone"], {"s": "pos", "gone": 1})
    {'fields': ['s', 'why'], 'previous': {'s': 'pos'}}
    """
    names = {f.name for f in new.fields}
    asked = [name for name in fields if name in names]
    return {"fields": asked, "previous": {k: previous[k] for k in asked if k in previous}}


@dataclass(frozen=True)
class Refinal:
    """An item's final label after its rework (`agreed`), or the verdict that the
    redone fields need a reviewer (not `agreed`; then only `problems` matters)."""

    agreed: bool
    payload: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    """The per-field record: kept for the fields not redone, new for the redone ones."""
    method: str
    agreement: float | None
    confidence: float | None
    problems: tuple[str, ...] = ()


def refinalize(
    new: AnnotationSchema,
    previous: dict[str, Any] | None,
    previous_fields: dict[str, Any],
    consensus: ItemConsensus,
    fields: Sequence[str],
    item: dict[str, Any] | None,
    *,
    single: bool = False,
) -> Refinal:
    """The final label of an item whose annotators redid `fields`, from the
    consensus of the redone annotations: `merge_final` of the `previous` final
    payload and the consensus. It stands when every redone field passes its
    threshold (or the item has a single annotator, `single`, as at overlap 1)
    and the merged label is a valid annotation (checked against `item` when
    given). Method, agreement and confidence are those of the redone fields;
    the fields kept keep their record from `previous_fields`.

    >>> from annotary.core.consensus.outcome import FieldOutcome
    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> v2 = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "s", "kind": "label", "labels": ["pos", "neg", "mixed"]},
    ...     {"name": "n", "kind": "label", "labels": ["a", "b"]}]})
    >>> s = FieldOutcome("mixed", "majority", "share", 1.0, 1.0, 0.66)
    >>> n = FieldOutcome("b", "majority", "share", 0.5, 0.5, 0.66)
    >>> kept = {"n": {"method": "majority", "agreement": 1.0}}
    >>> done = refinalize(v2, {"s": "pos", "n": "a"}, kept,
    ...                   ItemConsensus({"s": "mixed", "n": "b"}, {"s": s, "n": n}), ["s"], None)
    >>> done.agreed, done.payload, sorted(done.fields), done.agreement
    (True, {'n': 'a', 's': 'mixed'}, ['n', 's'], 1.0)
    """
    names = {f.name for f in new.fields}
    redone = [name for name in fields if name in consensus.fields]
    outcomes = [consensus.fields[name] for name in redone]
    payload = merge_final(new, previous, consensus.payload, redone)
    problems = tuple(f"{p.path}: {p.reason}" for p in validate_annotation(new, payload, item))
    passed = single or all(outcome.passed for outcome in outcomes)
    record = {
        name: value
        for name, value in previous_fields.items()
        if name in names and name not in redone
    }
    record.update({name: consensus.fields[name].record() for name in redone})
    used = {outcome.method for outcome in outcomes}
    method = next((m for m in ("dawid_skene", "weighted") if m in used), "majority")
    agreements = [o.agreement for o in outcomes if o.agreement is not None]
    confidences = [o.confidence for o in outcomes if o.confidence is not None]
    return Refinal(
        agreed=passed and not problems,
        payload=payload,
        fields=record,
        method=method,
        agreement=min(agreements) if agreements else None,
        confidence=min(confidences) if confidences else None,
        problems=problems,
    )


@dataclass(frozen=True)
class ReworkExample:
    """One annotation selected for rework: where, whose, under which version, which fields."""

    item_id: int
    external_id: str | None
    annotation_id: int
    username: str
    schema_version: int
    guideline_version: int
    fields: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "item_id": self.item_id,
            "external_id": self.external_id,
            "annotation_id": self.annotation_id,
            "username": self.username,
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "fields": self.fields,
        }


@dataclass
class ReworkPlan:
    """The annotations selected for rework (or re-queued, when `applied`)."""

    project: str
    schema_version: int
    guideline_version: int
    requested: list[str] | None
    """The fields a manager named; None: every changed field."""
    items: int = 0
    annotations: int = 0
    by_field: dict[str, int] = field(default_factory=dict)
    """Annotations to redo per field."""
    by_version: dict[str, int] = field(default_factory=dict)
    """Annotations to redo per version they were made under (`schema v1 / guidelines v1`)."""
    dropped: int = 0
    """Annotations whose authors are no longer active workers of the project: their
    fields are not redone (the item goes on without their values for them)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Items with older annotations left alone, by reason (gold, escalated, leased now, ...)."""
    examples: list[ReworkExample] = field(default_factory=list)
    applied: bool = False

    def count(self, example: ReworkExample, active: bool) -> None:
        """Add one selected annotation."""
        if not active:
            self.dropped += 1
            return
        self.annotations += 1
        for name in example.fields:
            self.by_field[name] = self.by_field.get(name, 0) + 1
        key = f"schema v{example.schema_version} / guidelines v{example.guideline_version}"
        self.by_version[key] = self.by_version.get(key, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(example)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "project": self.project,
            "schema_version": self.schema_version,
            "guideline_version": self.guideline_version,
            "requested": self.requested,
            "items": self.items,
            "annotations": self.annotations,
            "by_field": dict(self.by_field),
            "by_version": dict(self.by_version),
            "dropped": self.dropped,
            "skipped": dict(self.skipped),
            "examples": [e.to_dict() for e in self.examples],
            "applied": self.applied,
        }
