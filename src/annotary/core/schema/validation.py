"""Validate an annotation payload against its schema: every problem, with a precise path.

`validate_annotation` never stops at the first problem and never raises for a
bad payload; it returns a list of `FieldError`. Paths use dots for object keys
and `[i]` for list positions (`entities.spans[2].end`); per-turn values add the
turn index as a key (`coherence.3`, `entities.3.spans[0]`).

This module handles what is shared by every field kind: unknown and missing
fields, `when` conditions and per-turn nesting. The value of each kind is
checked in `values.py` and `spans.py`.
"""

from __future__ import annotations

import re
from typing import Any, assert_never

from annotary.core.items import turn_roles
from annotary.core.schema.fields import (
    AnnotationSchema,
    AnyField,
    ChoiceField,
    Condition,
    LabelField,
    LabelsField,
    PreferenceField,
    RankingField,
    RatingField,
    SpansField,
    TextField,
    with_ancestors,
)
from annotary.core.schema.spans import check_spans
from annotary.core.schema.values import (
    Item,
    check_label,
    check_labels,
    check_preference,
    check_ranking,
    check_rating,
    check_text,
    describe,
    key_path,
    listing,
)
from annotary.errors import FieldError, quote, shorten

_TURN_KEY = re.compile(r"^(0|[1-9][0-9]*)$")


def validate_annotation(
    schema: AnnotationSchema, payload: object, item: dict[str, Any] | None = None
) -> list[FieldError]:
    """Every problem with `payload` as an annotation of `item` under `schema`.

    Without `item`, the checks that need it (span bounds, candidate counts, turn
    roles) are skipped.
    """
    if not isinstance(payload, dict):
        reason = (
            f"an annotation must be an object with one value per field, not {describe(payload)}"
        )
        return [FieldError("", reason)]
    names = [f.name for f in schema.fields]
    errors = [
        FieldError(shorten(str(key)), f"unknown field {quote(key)}; valid: {listing(names)}")
        for key in payload
        if key not in names
    ]
    for spec in schema.fields:
        if spec.per_turn:
            errors.extend(_check_per_turn(schema, spec, payload, item))
        else:
            errors.extend(_check_field(schema, spec, payload, item))
    return errors


def implied_labels(field: ChoiceField, value: object) -> list[str]:
    """The labels a value chooses plus, for a taxonomy, all their ancestors; root first.

    Deduplicated in a stable order; non-string entries are ignored. Used to
    compute agreement per taxonomy level.

    >>> from annotary.core.schema.fields import LabelsField
    >>> f = LabelsField(name="t", kind="labels", labels=["a/b", "a/c"], hierarchical=True)
    >>> implied_labels(f, ["a/b", "a/c"])
    ['a', 'a/b', 'a/c']
    """
    chosen = value if isinstance(value, list) else [value]
    seen: dict[str, None] = {}
    for label in chosen:
        if isinstance(label, str):
            for node in with_ancestors(label) if field.hierarchical else [label]:
                seen.setdefault(node, None)
    return list(seen)


def check_value(
    spec: AnyField, value: object, path: str, item: Item | None, required: bool
) -> list[FieldError]:
    """Every problem with a non-null value of one field (one turn's value if per-turn)."""
    if isinstance(spec, LabelField):
        return check_label(spec, value, path)
    if isinstance(spec, LabelsField):
        return check_labels(spec, value, path)
    if isinstance(spec, SpansField):
        return check_spans(spec, value, path, item)
    if isinstance(spec, RatingField):
        return check_rating(spec, value, path)
    if isinstance(spec, RankingField):
        return check_ranking(spec, value, path, item)
    if isinstance(spec, PreferenceField):
        return check_preference(spec, value, path, item)
    if isinstance(spec, TextField):
        return check_text(spec, value, path, required)
    assert_never(spec)


def _check_field(
    schema: AnnotationSchema, spec: AnyField, payload: dict[Any, Any], item: Item | None
) -> list[FieldError]:
    value = payload.get(spec.name)
    target = payload.get(spec.when.field) if spec.when is not None else None
    return _check_entry(schema, spec, value, target, spec.name, item)


def _check_entry(
    schema: AnnotationSchema,
    spec: AnyField,
    value: object,
    condition_target: object,
    path: str,
    item: Item | None,
) -> list[FieldError]:
    """Presence, condition and value of one field (or one turn of a per-turn field)."""
    condition = spec.when
    if condition is not None and not _holds(schema, condition, condition_target):
        if value is None:
            return []
        reason = f"must be left out: {spec.name!r} applies only when {_describe(condition)}"
        return [FieldError(path, reason)]
    if value is None:
        if not spec.required:
            return []
        because = "" if condition is None else f" (because {_describe(condition)})"
        return [FieldError(path, f"is required{because}")]
    return check_value(spec, value, path, item, spec.required)


def applies(schema: AnnotationSchema, spec: AnyField, payload: dict[str, Any]) -> bool:
    """Whether a field applies to an annotation with these values: it has no
    condition, or its condition holds (for a per-turn field, on any turn).

    >>> schema = AnnotationSchema.model_validate({"fields": [
    ...     {"name": "s", "kind": "label", "labels": ["pos", "neg"]},
    ...     {"name": "why", "kind": "text", "when": {"field": "s", "equals": "neg"}}]})
    >>> applies(schema, schema.field("why"), {"s": "pos"})
    False
    """
    if spec.when is None:
        return True
    target = payload.get(spec.when.field)
    if spec.per_turn:
        turns = target.values() if isinstance(target, dict) else []
        return any(_holds(schema, spec.when, value) for value in turns)
    return _holds(schema, spec.when, target)


def _holds(schema: AnnotationSchema, condition: Condition, target_value: object) -> bool:
    """Whether a condition holds for the value its field has (None = absent)."""
    if condition.present is not None:
        return (target_value is not None) is condition.present
    if target_value is None:
        return False
    target = schema.field(condition.field)
    if isinstance(target, ChoiceField):
        chosen: list[object] = list(implied_labels(target, target_value))
    else:
        chosen = [target_value]
    wanted = [condition.equals] if condition.equals is not None else (condition.in_ or [])
    return any(_same(have, want) for have in chosen for want in wanted)


def _same(have: object, want: object) -> bool:
    # JSON true is not 1: keep booleans from matching numbers.
    return isinstance(have, bool) == isinstance(want, bool) and have == want


def _describe(condition: Condition) -> str:
    if condition.present is not None:
        return f"{condition.field!r} {'has a value' if condition.present else 'has no value'}"
    if condition.equals is not None:
        return f"{condition.field!r} is {condition.equals!r}"
    return f"{condition.field!r} is one of {listing(repr(v) for v in condition.in_ or [])}"


def _check_per_turn(
    schema: AnnotationSchema, spec: AnyField, payload: dict[Any, Any], item: Item | None
) -> list[FieldError]:
    """A per-turn value: {"<turn index>": value}, one entry per applicable turn."""
    path = spec.name
    value = payload.get(spec.name)
    if value is not None and not isinstance(value, dict):
        reason = (
            "must be an object mapping turn indices ('0', '1', ...) to values, "
            f"not {describe(value)}"
        )
        return [FieldError(path, reason)]
    entries: dict[Any, Any] = value or {}
    roles = None if item is None else turn_roles(item)
    if item is not None and roles is None:
        if entries or spec.required:
            return [FieldError(path, "the item has no conversation turns for this per-turn field")]
        return []
    target = payload.get(spec.when.field) if spec.when is not None else None
    target_entries: dict[Any, Any] = target if isinstance(target, dict) else {}
    errors: list[FieldError] = []
    for key, entry in entries.items():
        at = key_path(path, str(key))
        index = int(key) if isinstance(key, str) and _TURN_KEY.match(key) else None
        if index is None:
            errors.append(
                FieldError(at, f"turn key {quote(key)} must be a turn index such as '0' or '3'")
            )
            continue
        problem = None if item is None or roles is None else _turn_problem(spec, index, item, roles)
        if problem is not None:
            errors.append(FieldError(at, problem))
        elif entry is not None:
            turn_item = None if item is None else {**item, "turn_index": index}
            errors.extend(_check_entry(schema, spec, entry, target_entries.get(key), at, turn_item))
    if spec.required:
        errors.extend(_missing_turns(schema, spec, entries, target_entries, item, roles))
    return errors


def _annotated_turns(item: Item, roles: list[str]) -> list[int]:
    """Turns annotated in this item: all of a conversation, only its own for a turn item."""
    index = item.get("turn_index")
    if isinstance(index, int) and not isinstance(index, bool):
        return [index] if 0 <= index < len(roles) else []
    return list(range(len(roles)))


def _turn_problem(spec: AnyField, index: int, item: Item, roles: list[str]) -> str | None:
    if index >= len(roles):
        return f"turn {index} does not exist; the item has {len(roles)} turns"
    annotated = _annotated_turns(item, roles)
    if index not in annotated:
        return f"turn {index} is context in this item; only turn {listing(annotated)} is annotated"
    if spec.turn_roles is not None and roles[index] not in spec.turn_roles:
        return (
            f"turn {index} is a {roles[index]!r} turn; {spec.name!r} applies only to "
            f"turns with role {listing(spec.turn_roles)}"
        )
    return None


def _missing_turns(
    schema: AnnotationSchema,
    spec: AnyField,
    entries: dict[Any, Any],
    target_entries: dict[Any, Any],
    item: Item | None,
    roles: list[str] | None,
) -> list[FieldError]:
    """A required per-turn field needs every applicable turn (at least one without an item)."""
    if item is not None and roles is not None:
        keys = [
            str(i)
            for i in _annotated_turns(item, roles)
            if spec.turn_roles is None or roles[i] in spec.turn_roles
        ]
    elif spec.when is not None:
        # Without the item, the turns the condition names are the ones we know of.
        keys = [k for k in target_entries if isinstance(k, str) and _TURN_KEY.match(k)]
    else:
        if any(v is not None for v in entries.values()):
            return []
        return [FieldError(spec.name, "is required: give a value for at least one turn")]
    errors: list[FieldError] = []
    for key in keys:
        if entries.get(key) is not None:
            continue
        if spec.when is not None and not _holds(schema, spec.when, target_entries.get(key)):
            continue
        role = f" ({roles[int(key)]})" if roles is not None else ""
        because = "" if spec.when is None else f" (because {_describe(spec.when)})"
        errors.append(
            FieldError(key_path(spec.name, key), f"is required for turn {key}{role}{because}")
        )
    return errors
