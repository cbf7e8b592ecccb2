"""Value checks for the non-span field kinds, and the helpers every check shares.

Each `check_*` function takes a field definition, the value an annotator gave
(already known to be non-null), the path of that value in the payload, and the
item content (None when unknown), and returns every problem it finds. Checks
that need the item are skipped without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

from annotary.core.items import candidate_count
from annotary.core.schema.fields import (
    ChoiceField,
    LabelField,
    LabelsField,
    PreferenceField,
    RankingField,
    RatingField,
    TextField,
)
from annotary.errors import FieldError, quote, shorten

Item = dict[str, Any]
"""Item content as in `annotary.core.items`."""

_LISTING_LIMIT = 30
_STEP_TOLERANCE = 1e-9


def key_path(path: str, key: str) -> str:
    """`path.key`, or `key` at the top level."""
    return f"{path}.{key}" if path else key


def index_path(path: str, index: int) -> str:
    """`path[index]`."""
    return f"{path}[{index}]"


def listing(names: Iterable[object]) -> str:
    """Comma-separated names for a 'valid: ...' hint, shortened when very long."""
    shown = [str(n) for n in names]
    if len(shown) <= _LISTING_LIMIT:
        return ", ".join(shown)
    rest = len(shown) - _LISTING_LIMIT
    return f"{', '.join(shown[:_LISTING_LIMIT])}, ... ({rest} more)"


def describe(value: object) -> str:
    """A short JSON-ish name of a value's type for 'must be X, not Y' messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_int(value: object) -> TypeGuard[int]:
    """An integer that is not a boolean (JSON `true` is not 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float that is not a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def unknown_keys(value: dict[Any, Any], allowed: Iterable[str], path: str) -> list[FieldError]:
    """One error per key of `value` that is not in `allowed`."""
    allowed = list(allowed)
    return [
        FieldError(
            key_path(path, shorten(str(key))),
            f"unknown key {quote(key)}; valid: {listing(allowed)}",
        )
        for key in value
        if key not in allowed
    ]


def check_label(field: LabelField, value: object, path: str) -> list[FieldError]:
    """A single choice: one string of the label set."""
    if not isinstance(value, str):
        return [FieldError(path, f"must be a label (a string), not {describe(value)}")]
    return _label_problem(field, value, path, field.label_names())


def check_labels(field: LabelsField, value: object, path: str) -> list[FieldError]:
    """A multi-label choice: unique labels of the set, as many as the bounds allow."""
    if not isinstance(value, list):
        return [FieldError(path, f"must be a list of labels, not {describe(value)}")]
    errors: list[FieldError] = []
    valid = field.label_names()
    first_seen: dict[str, int] = {}
    for index, label in enumerate(value):
        at = index_path(path, index)
        if not isinstance(label, str):
            errors.append(FieldError(at, f"must be a label (a string), not {describe(label)}"))
        elif label in first_seen:
            errors.append(
                FieldError(at, f"duplicate label {quote(label)} (also at [{first_seen[label]}])")
            )
        else:
            first_seen[label] = index
            errors.extend(_label_problem(field, label, at, valid))
    if len(value) < field.min_count:
        errors.append(
            FieldError(path, f"choose at least {field.min_count} labels, not {len(value)}")
        )
    if field.max_count is not None and len(value) > field.max_count:
        errors.append(
            FieldError(path, f"choose at most {field.max_count} labels, not {len(value)}")
        )
    return errors


def _label_problem(field: ChoiceField, label: str, path: str, valid: list[str]) -> list[FieldError]:
    if label in valid:
        return []
    if field.leaf_only and label in field.taxonomy_nodes():
        reason = f"label {quote(label)} is not a leaf (leaf_only is true); valid: {listing(valid)}"
    else:
        reason = f"label {quote(label)} is not in the label set; valid: {listing(valid)}"
    return [FieldError(path, reason)]


def check_rating(field: RatingField, value: object, path: str) -> list[FieldError]:
    """A number on the scale: within bounds, whole for ordinal, on the step grid."""
    if not is_number(value):
        return [FieldError(path, f"must be a finite number, not {describe(value)}")]
    scale = f"[{_num(field.min)}, {_num(field.max)}]"
    if not field.min <= value <= field.max:
        return [FieldError(path, f"rating {_num(value)} is outside the scale {scale}")]
    if field.scale == "ordinal" and value != int(value):
        return [FieldError(path, f"rating {_num(value)} must be a whole point of {scale}")]
    step = field.step
    if step is not None:
        steps = (value - field.min) / step
        if abs(steps - round(steps)) > _STEP_TOLERANCE * max(1.0, abs(steps)):
            reason = (
                f"rating {_num(value)} is not on the scale grid {scale} in steps of {_num(step)}"
            )
            return [FieldError(path, reason)]
    return []


def _num(value: float) -> str:
    """1.0 -> '1', 2.5 -> '2.5': scale numbers as a person would write them."""
    return str(int(value)) if value == int(value) else str(value)


def check_ranking(
    field: RankingField, value: object, path: str, item: Item | None
) -> list[FieldError]:
    """An order of candidate indices (or of tied groups): each candidate exactly once."""
    if not isinstance(value, list):
        return [FieldError(path, f"must be a list of candidate indices, not {describe(value)}")]
    if not value:
        return [FieldError(path, "must rank at least one candidate")]
    count = _item_candidates(field.source, path, item)
    if isinstance(count, FieldError):
        return [count]
    entries = _ranking_entries(field, value, path)
    errors = [e for e in entries if isinstance(e, FieldError)]
    first_seen: dict[int, str] = {}
    for at, index in (e for e in entries if not isinstance(e, FieldError)):
        if index in first_seen:
            errors.append(
                FieldError(at, f"candidate {index} is ranked twice (also at {first_seen[index]})")
            )
            continue
        first_seen[index] = at
        if count is not None and index >= count:
            errors.append(FieldError(at, f"candidate {index} does not exist; the item has {count}"))
    if count is not None:
        missing = [i for i in range(count) if i not in first_seen]
        if missing:
            errors.append(
                FieldError(
                    path,
                    f"candidates {listing(missing)} are not ranked; "
                    f"rank each of 0..{count - 1} exactly once",
                )
            )
    return errors


def _ranking_entries(
    field: RankingField, value: list[Any], path: str
) -> list[tuple[str, int] | FieldError]:
    """The (path, index) of every well-formed candidate index, or an error in its place."""
    out: list[tuple[str, int] | FieldError] = []
    if not field.allow_ties:
        for i, entry in enumerate(value):
            out.append(_candidate_index(entry, index_path(path, i)))
        return out
    for i, group in enumerate(value):
        at = index_path(path, i)
        if not isinstance(group, list) or not group:
            reason = (
                "must be a non-empty list of candidate indices (a group sharing a rank; "
                f"allow_ties is true), not {describe(group)}"
            )
            out.append(FieldError(at, reason))
            continue
        out.extend(_candidate_index(entry, index_path(at, j)) for j, entry in enumerate(group))
    return out


def _candidate_index(entry: object, at: str) -> tuple[str, int] | FieldError:
    if not is_int(entry) or entry < 0:
        return FieldError(at, f"must be a candidate index (an integer >= 0), not {quote(entry)}")
    return (at, entry)


def _item_candidates(source: str, path: str, item: Item | None) -> int | FieldError | None:
    """How many candidates the item offers; None without an item."""
    if item is None:
        return None
    count = candidate_count(item, source)
    if count is None:
        return FieldError(path, f"the item has no candidate list {source!r} to choose from")
    return count


_PREFERENCE_KEYS = ("choice", "strength")


def check_preference(
    field: PreferenceField, value: object, path: str, item: Item | None
) -> list[FieldError]:
    """{"choice": "a"|"b"|"tie", "strength": ...} over an item with exactly two candidates."""
    if not isinstance(value, dict):
        return [FieldError(path, f"must be an object {{choice, strength}}, not {describe(value)}")]
    errors = unknown_keys(value, _PREFERENCE_KEYS, path)
    count = _item_candidates(field.source, path, item)
    if isinstance(count, FieldError):
        errors.append(count)
    elif count is not None and count != 2:
        errors.append(
            FieldError(path, f"a preference needs exactly 2 candidates; the item has {count}")
        )
    choices = ["a", "b", "tie"] if field.allow_tie else ["a", "b"]
    choice = value.get("choice")
    choice_path = key_path(path, "choice")
    if choice is None:
        errors.append(FieldError(choice_path, f"is required; valid: {listing(choices)}"))
    elif choice not in choices:
        hint = " (allow_tie is false)" if choice == "tie" else ""
        errors.append(
            FieldError(
                choice_path, f"choice {quote(choice)} is not valid{hint}; valid: {listing(choices)}"
            )
        )
    errors.extend(
        _strength_problems(field, choice, value.get("strength"), key_path(path, "strength"))
    )
    return errors


def _strength_problems(
    field: PreferenceField, choice: object, strength: object, path: str
) -> list[FieldError]:
    valid = listing(field.strengths or [])
    if strength is None:
        if field.require_strength and choice in ("a", "b"):
            return [FieldError(path, f"is required (require_strength is true); valid: {valid}")]
        return []
    if not field.strengths:
        return [FieldError(path, "this field has no strengths; leave 'strength' out")]
    if choice == "tie":
        return [FieldError(path, "a tie has no strength; leave 'strength' out")]
    if not isinstance(strength, str) or strength not in field.strengths:
        return [FieldError(path, f"strength {quote(strength)} is not valid; valid: {valid}")]
    return []


def check_text(field: TextField, value: object, path: str, required: bool) -> list[FieldError]:
    """A string within the length bounds; non-blank when the field is required."""
    if not isinstance(value, str):
        return [FieldError(path, f"must be a string, not {describe(value)}")]
    if required and not value.strip():
        return [FieldError(path, "is required and must not be blank")]
    if len(value) < field.min_length:
        return [
            FieldError(path, f"must be at least {field.min_length} characters, not {len(value)}")
        ]
    if field.max_length is not None and len(value) > field.max_length:
        return [
            FieldError(path, f"must be at most {field.max_length} characters, not {len(value)}")
        ]
    return []
