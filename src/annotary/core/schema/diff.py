"""What changed between two versions of an annotation schema, field by field.

`diff_schemas(old, new)` lists every change as a `FieldChange`: a field added or
removed, its kind, its label set (labels added and removed, with a hint where a
removal and an addition at the same place look like a rename), each option
(`min`, `max`, `required`, `when`, ...). Each change says what it does to stored
values (`effect`):

- `breaking`: values stored under the old version may no longer validate (a
  label removed, a narrower scale, a field that became required, a new kind);
- `widening`: old values stay valid but the choice changed (a label added, a
  wider scale): annotations of the two versions were made under different
  choices;
- `neutral`: wording only (descriptions, hotkeys, point labels, prefill).

Changes to the *value space* (everything but wording, `required` and `when`)
make a field's values of the two versions incomparable for agreement; changes
to presence (`required`, `when`) only decide whether a value must be there.

>>> from annotary.core.schema.fields import AnnotationSchema
>>> old = AnnotationSchema.model_validate({"fields": [
...     {"name": "sentiment", "kind": "label", "labels": ["pos", "neg", "neutral"]},
...     {"name": "stars", "kind": "rating", "min": 1, "max": 7}]})
>>> new = AnnotationSchema.model_validate({"fields": [
...     {"name": "sentiment", "kind": "label", "labels": ["pos", "neg", "mixed"]},
...     {"name": "stars", "kind": "rating", "min": 1, "max": 5, "required": False}]})
>>> for change in diff_schemas(old, new).changes:
...     print(change.effect, change)
breaking sentiment: labels removed: neutral (renamed to 'mixed'?)
widening sentiment: labels added: mixed
neutral stars: required true -> false
breaking stars: max 7 -> 5 (narrower)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from annotary.core.schema.fields import AnnotationSchema, AnyField

Effect = Literal["breaking", "widening", "neutral"]

NEUTRAL_ASPECTS: Final = frozenset(
    {"description", "point_labels", "prefill", "multiline", "label options", "position"}
)
"""Wording only: stored values keep their meaning."""
PRESENCE_ASPECTS: Final = frozenset({"required", "when"})
"""Whether a value must (or may) be there; the values themselves keep their meaning."""
_LOWER_BOUNDS: Final = frozenset({"min", "min_count", "min_length"})
_UPPER_BOUNDS: Final = frozenset({"max", "max_count", "max_length"})
_PERMISSIONS: Final = frozenset({"allow_ties", "allow_tie", "allow_overlap"})
"""Options that allow more when true."""
_OBLIGATIONS: Final = frozenset({"require_strength", "leaf_only", "required"})
"""Options that allow less when true."""


@dataclass(frozen=True)
class FieldChange:
    """One change to one field: `aspect` is `field` (added/removed), `kind`,
    `labels added`, `labels removed`, `label options` or an option name."""

    field: str
    aspect: str
    before: Any
    after: Any
    effect: Effect
    note: str = ""

    @property
    def changes_values(self) -> bool:
        """Whether the field's value space changed (values of the two versions differ
        in meaning or in what could be chosen)."""
        return self.aspect not in NEUTRAL_ASPECTS | PRESENCE_ASPECTS

    def __str__(self) -> str:
        note = f" ({self.note})" if self.note else ""
        if self.aspect == "field":
            what = f"added ({self.after})" if self.before is None else f"removed ({self.before})"
            return f"{self.field}: field {what}{note}"
        if self.aspect == "labels added":
            return f"{self.field}: labels added: {', '.join(self.after)}{note}"
        if self.aspect == "labels removed":
            return f"{self.field}: labels removed: {', '.join(self.before)}{note}"
        return f"{self.field}: {self.aspect} {_show(self.before)} -> {_show(self.after)}{note}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the readable line as `text`."""
        return {
            "field": self.field,
            "aspect": self.aspect,
            "before": self.before,
            "after": self.after,
            "effect": self.effect,
            "note": self.note,
            "text": str(self),
        }


@dataclass(frozen=True)
class SchemaDiff:
    """Every change from one schema version to another, in field order."""

    old_version: int
    new_version: int
    changes: list[FieldChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def fields(self) -> list[str]:
        """Names of the fields with any change, in order of appearance."""
        return list(dict.fromkeys(c.field for c in self.changes))

    def value_changed(self) -> set[str]:
        """Fields whose value space changed (added and removed ones included)."""
        return {c.field for c in self.changes if c.changes_values}

    def to_check(self) -> set[str]:
        """Fields whose stored values may have to be checked again: any change but wording."""
        return {c.field for c in self.changes if c.aspect not in NEUTRAL_ASPECTS}

    def added(self) -> list[str]:
        """Fields that are new in the new version."""
        return [c.field for c in self.changes if c.aspect == "field" and c.before is None]

    def removed(self) -> list[str]:
        """Fields of the old version that the new one no longer has."""
        return [c.field for c in self.changes if c.aspect == "field" and c.after is None]

    def breaking(self) -> list[FieldChange]:
        """The changes that can make stored values invalid."""
        return [c for c in self.changes if c.effect == "breaking"]


def same_definition(old: AnnotationSchema, new: AnnotationSchema) -> bool:
    """Whether two schemas have the same fields, whatever their version numbers.

    >>> from annotary.core.schema.fields import AnnotationSchema
    >>> a = AnnotationSchema.model_validate({"fields": [{"name": "t", "kind": "text"}]})
    >>> same_definition(a, a.model_copy(update={"version": 4}))
    True
    """
    return old.fields == new.fields


def diff_schemas(old: AnnotationSchema, new: AnnotationSchema) -> SchemaDiff:
    """Every change from `old` to `new`, field by field (see the module docstring)."""
    before = {spec.name: spec for spec in old.fields}
    after = {spec.name: spec for spec in new.fields}
    changes: list[FieldChange] = []
    for spec in new.fields:
        if spec.name not in before:
            effect: Effect = "breaking" if spec.required and spec.when is None else "widening"
            note = "stored annotations have no value for it" if effect == "breaking" else ""
            changes.append(FieldChange(spec.name, "field", None, spec.kind, effect, note))
        else:
            changes.extend(diff_fields(before[spec.name], spec))
    for spec in old.fields:
        if spec.name not in after:
            note = "its stored values are no longer part of the schema"
            changes.append(FieldChange(spec.name, "field", spec.kind, None, "breaking", note))
    changes.extend(_moves(old, new))
    order = {name: i for i, name in enumerate(dict.fromkeys([*after, *before]))}
    changes.sort(key=lambda c: order[c.field])
    return SchemaDiff(old.version, new.version, changes)


def _moves(old: AnnotationSchema, new: AnnotationSchema) -> Iterator[FieldChange]:
    """Fields kept by both versions whose place among the kept ones changed."""
    names = {f.name for f in new.fields}
    kept_before = [f.name for f in old.fields if f.name in names]
    kept = set(kept_before)
    kept_after = [f.name for f in new.fields if f.name in kept]
    for place, name in enumerate(kept_after):
        if kept_before[place] != name:
            was = kept_before.index(name)
            yield FieldChange(name, "position", was + 1, place + 1, "neutral")


def diff_fields(old: AnyField, new: AnyField) -> list[FieldChange]:
    """The changes from one definition of a field to another (same name).

    >>> from annotary.core.schema.fields import RatingField
    >>> a = RatingField(name="stars", kind="rating", min=1, max=5)
    >>> [str(c) for c in diff_fields(a, a.model_copy(update={"min": 0}))]
    ['stars: min 1 -> 0 (wider)']
    """
    name = new.name
    if old.kind != new.kind:
        return [FieldChange(name, "kind", old.kind, new.kind, "breaking")]
    before = old.model_dump(mode="json", by_alias=True)
    after = new.model_dump(mode="json", by_alias=True)
    changes: list[FieldChange] = []
    for key in dict.fromkeys([*after, *before]):
        if key == "name" or before.get(key) == after.get(key):
            continue
        if key == "labels":
            changes.extend(_label_changes(name, before["labels"], after["labels"]))
        else:
            changes.append(_option_change(name, key, before.get(key), after.get(key)))
    return changes


def comparable(old: AnyField | None, new: AnyField) -> bool:
    """Whether values of `old` and `new` can be compared for agreement: the same
    value space (wording, `required` and `when` may differ).

    >>> from annotary.core.schema.fields import LabelField
    >>> a = LabelField(name="s", kind="label", labels=["x", "y"])
    >>> comparable(a, a.model_copy(update={"description": "new wording"}))
    True
    >>> comparable(a, LabelField(name="s", kind="label", labels=["x", "y", "z"]))
    False
    """
    if old is None:
        return False
    return not any(c.changes_values for c in diff_fields(old, new))


def diff_guidelines(old: str, new: str, old_version: int, new_version: int) -> list[str]:
    """The guidelines as a unified text diff (empty when the texts are equal).

    >>> print("\\n".join(diff_guidelines("Be kind.\\nBe brief.\\n", "Be kind.\\n", 1, 2)))
    --- guidelines v1
    +++ guidelines v2
    @@ -1,2 +1 @@
     Be kind.
    -Be brief.
    """
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"guidelines v{old_version}",
            f"guidelines v{new_version}",
        )
    ]


def _label_changes(
    name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Iterator[FieldChange]:
    old_names = [o["name"] for o in before]
    new_names = [o["name"] for o in after]
    removed = [n for n in old_names if n not in new_names]
    added = [n for n in new_names if n not in old_names]
    if removed:
        yield FieldChange(
            name, "labels removed", removed, None, "breaking", _renames(before, after, removed)
        )
    if added:
        yield FieldChange(name, "labels added", None, added, "widening")
    old_options = {o["name"]: o for o in before}
    edited = [o["name"] for o in after if o["name"] in old_options and o != old_options[o["name"]]]
    if edited:
        yield FieldChange(name, "label options", None, edited, "neutral", "description or hotkey")


def _renames(before: list[dict[str, Any]], after: list[dict[str, Any]], removed: list[str]) -> str:
    """A hint for removed labels that look renamed: a new label at the same position,
    or with the same hotkey or description."""
    old_names = {o["name"] for o in before}
    hints = []
    for position, option in enumerate(before):
        if option["name"] not in removed:
            continue
        for index, candidate in enumerate(after):
            if candidate["name"] in old_names:
                continue
            same_place = index == position
            same_key = option.get("hotkey") and option.get("hotkey") == candidate.get("hotkey")
            same_text = option.get("description") and (
                option.get("description") == candidate.get("description")
            )
            if same_place or same_key or same_text:
                hints.append(f"renamed to {candidate['name']!r}?")
                break
    return "; ".join(hints)


def _option_change(name: str, key: str, before: Any, after: Any) -> FieldChange:
    if key in NEUTRAL_ASPECTS:
        return FieldChange(name, key, before, after, "neutral")
    if key in _LOWER_BOUNDS or key in _UPPER_BOUNDS:
        return _bound_change(name, key, before, after)
    if key in _PERMISSIONS:
        effect: Effect = "breaking" if before and not after else "widening"
        return FieldChange(name, key, before, after, effect)
    if key in _OBLIGATIONS:
        if after and not before:
            effect = "breaking"
        else:
            effect = "neutral" if key == "required" else "widening"
        return FieldChange(name, key, before, after, effect)
    if key == "hierarchical":
        # A taxonomy lets ancestors be chosen; a flat set with '/' names is not allowed.
        effect = "widening" if after else "breaking"
        return FieldChange(name, key, before, after, effect)
    if key in ("turn_roles", "strengths", "relations"):
        return _list_change(name, key, before, after)
    if key == "step" and after is None:
        return FieldChange(name, key, before, after, "widening")
    if key == "scale" and after == "interval":
        return FieldChange(name, key, before, after, "widening", "whole points stay valid")
    return FieldChange(name, key, before, after, "breaking")


def _bound_change(name: str, key: str, before: Any, after: Any) -> FieldChange:
    """A lower bound that rises or an upper bound that falls (or appears) narrows."""
    if key in _UPPER_BOUNDS:
        narrower = after is not None and (before is None or after < before)
    else:
        narrower = (after or 0) > (before or 0)
    effect: Effect = "breaking" if narrower else "widening"
    return FieldChange(name, key, before, after, effect, "narrower" if narrower else "wider")


def _list_change(name: str, key: str, before: Any, after: Any) -> FieldChange:
    """Lists of allowed things (None = all, for turn roles): losing an entry narrows."""
    if key == "turn_roles":
        narrower = after is not None and (before is None or not set(after) >= set(before))
    else:
        kept = [_canonical(v) for v in before or []]
        narrower = not set(kept) <= {_canonical(v) for v in after or []}
        if key == "strengths" and not narrower:
            # Strengths are ordered: the old ones must keep their order.
            narrower = [v for v in after or [] if v in (before or [])] != list(before or [])
    effect: Effect = "breaking" if narrower else "widening"
    return FieldChange(name, key, before, after, effect)


def _canonical(value: Any) -> str:
    return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def lines(changes: Iterable[FieldChange]) -> list[str]:
    """Readable lines, breaking changes marked with `!`.

    >>> from annotary.core.schema.fields import LabelField
    >>> a = LabelField(name="s", kind="label", labels=["x", "y"])
    >>> lines(diff_fields(a, LabelField(name="s", kind="label", labels=["x"])))
    ['! s: labels removed: y']
    """
    return [f"{'!' if c.effect == 'breaking' else ' '} {c}" for c in changes]
