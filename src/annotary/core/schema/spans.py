"""Value checks for `spans` fields: character-offset spans and the relations between them.

A spans value is either a list of spans (shorthand) or an object
`{"spans": [...], "relations": [...]}`. Paths in errors point at the value as
given: `entities[2].end` for the shorthand, `entities.spans[2].end` otherwise.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from annotary.core.items import resolve_text
from annotary.core.schema.fields import RelationType, SpansField
from annotary.core.schema.values import (
    Item,
    describe,
    index_path,
    is_int,
    key_path,
    listing,
    unknown_keys,
)
from annotary.errors import FieldError, quote

_SPAN_KEYS = ("start", "end", "label", "id", "normalized", "text")
_CONTAINER_KEYS = ("spans", "relations")
_PAIR_KEYS = ("type", "head", "tail")
_CHAIN_KEYS = ("type", "members")


@dataclass(frozen=True, slots=True)
class _Span:
    """A span whose offsets are usable (for overlap checks), with where it was given."""

    path: str
    start: int
    end: int
    label: str | None


def check_spans(field: SpansField, value: object, path: str, item: Item | None) -> list[FieldError]:
    """Every problem with a spans value: offsets, labels, overlaps, ids and relations."""
    if isinstance(value, list):
        spans_value: object = value
        spans_path, relations = path, None
        errors: list[FieldError] = []
    elif isinstance(value, dict):
        errors = unknown_keys(value, _CONTAINER_KEYS, path)
        spans_value, relations = value.get("spans"), value.get("relations")
        spans_path = key_path(path, "spans")
    else:
        return [
            FieldError(
                path,
                f"must be a list of spans or an object {{spans, relations}}, not {describe(value)}",
            )
        ]
    if not isinstance(spans_value, list):
        reason = (
            "is required"
            if spans_value is None
            else f"must be a list of spans, not {describe(spans_value)}"
        )
        return [*errors, FieldError(spans_path, reason)]
    text = None if item is None else resolve_text(item, field.source)
    if item is not None and text is None:
        errors.append(FieldError(path, f"the item has no text {field.source!r} for these spans"))
    usable: list[_Span] = []
    for index, span in enumerate(spans_value):
        span_errors, parsed = _check_span(field, span, index_path(spans_path, index), text)
        errors.extend(span_errors)
        if parsed is not None:
            usable.append(parsed)
    errors.extend(_overlap_problems(usable, field.allow_overlap))
    uses_relations = isinstance(relations, list) and bool(relations)
    span_labels, id_errors = _span_ids(spans_value, spans_path, uses_relations)
    errors.extend(id_errors)
    if relations is not None:
        errors.extend(_check_relations(field, relations, key_path(path, "relations"), span_labels))
    return errors


def _check_span(
    field: SpansField, span: object, path: str, text: str | None
) -> tuple[list[FieldError], _Span | None]:
    if not isinstance(span, dict):
        return [
            FieldError(path, f"must be a span object {{start, end, label}}, not {describe(span)}")
        ], None
    errors = unknown_keys(span, _SPAN_KEYS, path)
    start, end = span.get("start"), span.get("end")
    offsets_ok = True
    for key, offset in (("start", start), ("end", end)):
        if not is_int(offset):
            reason = (
                "is required"
                if offset is None
                else f"must be an integer offset, not {quote(offset)}"
            )
            errors.append(FieldError(key_path(path, key), reason))
            offsets_ok = False
    if offsets_ok and is_int(start) and is_int(end):
        offset_errors = _offset_problems(start, end, path, text)
        errors.extend(offset_errors)
        offsets_ok = not offset_errors
    label = span.get("label")
    names = field.label_names()
    if label is None:
        errors.append(FieldError(key_path(path, "label"), f"is required; valid: {listing(names)}"))
    elif not isinstance(label, str) or label not in names:
        reason = f"label {quote(label)} is not in the span label set; valid: {listing(names)}"
        errors.append(FieldError(key_path(path, "label"), reason))
    errors.extend(_normalized_problems(field, span, key_path(path, "normalized")))
    if offsets_ok and is_int(start) and is_int(end):
        errors.extend(_text_problems(span, start, end, text, key_path(path, "text")))
        return errors, _Span(path, start, end, label if isinstance(label, str) else None)
    if "text" in span and not isinstance(span["text"], str):
        errors.append(
            FieldError(key_path(path, "text"), f"must be a string, not {describe(span['text'])}")
        )
    return errors, None


def _offset_problems(start: int, end: int, path: str, text: str | None) -> list[FieldError]:
    if start < 0:
        return [FieldError(key_path(path, "start"), f"span start {start} must be >= 0")]
    if end <= start:
        return [
            FieldError(key_path(path, "end"), f"span end {end} must be greater than start {start}")
        ]
    if text is not None and end > len(text):
        return [
            FieldError(
                key_path(path, "end"), f"span end {end} is beyond the text length {len(text)}"
            )
        ]
    return []


def _text_problems(
    span: dict[str, Any], start: int, end: int, text: str | None, path: str
) -> list[FieldError]:
    if "text" not in span:
        return []
    given = span["text"]
    if not isinstance(given, str):
        return [FieldError(path, f"must be a string, not {describe(given)}")]
    if text is not None and text[start:end] != given:
        return [
            FieldError(
                path,
                f"span text {quote(given)} does not match the item text "
                f"{quote(text[start:end])} at [{start}, {end})",
            )
        ]
    return []


def _normalized_problems(field: SpansField, span: dict[str, Any], path: str) -> list[FieldError]:
    rule = field.normalization
    value = span.get("normalized")
    if rule is None:
        if "normalized" in span:
            return [FieldError(path, "this field has no normalization; leave 'normalized' out")]
        return []
    if value is None:
        return (
            [FieldError(path, "is required (normalization.required is true)")]
            if rule.required
            else []
        )
    if not isinstance(value, str) or not value:
        return [FieldError(path, f"must be a non-empty string, not {quote(value)}")]
    if rule.pattern is not None and _compiled(rule.pattern).fullmatch(value) is None:
        return [
            FieldError(
                path, f"normalized value {quote(value)} does not match the pattern {rule.pattern!r}"
            )
        ]
    return []


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _overlap_problems(spans: list[_Span], allow_overlap: bool) -> list[FieldError]:
    """Identical spans are always an error; other overlaps only without `allow_overlap`."""
    errors: list[FieldError] = []
    first: dict[tuple[int, int, str | None], _Span] = {}
    distinct: list[_Span] = []
    for span in spans:
        key = (span.start, span.end, span.label)
        if key in first:
            errors.append(
                FieldError(span.path, f"duplicates {first[key].path} (same start, end and label)")
            )
        else:
            first[key] = span
            distinct.append(span)
    if allow_overlap:
        return errors
    # Sweep in start order, remembering the span that reaches furthest right so far.
    reach: _Span | None = None
    for span in sorted(distinct, key=lambda s: (s.start, s.end)):
        if reach is not None and span.start < reach.end:
            errors.append(FieldError(span.path, f"overlaps {reach.path} (allow_overlap is false)"))
        if reach is None or span.end > reach.end:
            reach = span
    return errors


def _span_ids(
    spans: list[Any], path: str, ids_required: bool
) -> tuple[dict[str, str | None], list[FieldError]]:
    """Map of span id -> label (first occurrence), and problems with the ids."""
    labels: dict[str, str | None] = {}
    first_path: dict[str, str] = {}
    errors: list[FieldError] = []
    for index, span in enumerate(spans):
        if not isinstance(span, dict):
            continue
        at = key_path(index_path(path, index), "id")
        span_id = span.get("id")
        if span_id is None:
            if ids_required:
                errors.append(FieldError(at, "is required when relations are given"))
        elif not isinstance(span_id, str) or not span_id:
            errors.append(FieldError(at, f"must be a non-empty string, not {quote(span_id)}"))
        elif span_id in first_path:
            errors.append(
                FieldError(
                    at, f"duplicate span id {quote(span_id)} (also at {first_path[span_id]})"
                )
            )
        else:
            first_path[span_id] = at
            label = span.get("label")
            labels[span_id] = label if isinstance(label, str) else None
    return labels, errors


def _check_relations(
    field: SpansField, relations: object, path: str, span_labels: dict[str, str | None]
) -> list[FieldError]:
    if not isinstance(relations, list):
        return [FieldError(path, f"must be a list of relations, not {describe(relations)}")]
    if relations and not field.relations:
        return [FieldError(path, "this field defines no relation types; leave 'relations' out")]
    types = {r.name: r for r in field.relations}
    errors: list[FieldError] = []
    seen_pairs: dict[tuple[str, object], str] = {}
    chain_of: dict[tuple[str, str], str] = {}
    for index, relation in enumerate(relations):
        at = index_path(path, index)
        if not isinstance(relation, dict):
            errors.append(FieldError(at, f"must be a relation object, not {describe(relation)}"))
            continue
        kind = types.get(relation["type"]) if isinstance(relation.get("type"), str) else None
        if kind is None:
            errors.extend(unknown_keys(relation, (*_PAIR_KEYS, "members"), at))
            given = quote(relation.get("type"))
            reason = f"relation type {given} is not defined; valid: {listing(types)}"
            errors.append(FieldError(key_path(at, "type"), reason))
        elif kind.kind == "chain":
            errors.extend(unknown_keys(relation, _CHAIN_KEYS, at))
            errors.extend(_check_chain(kind, relation.get("members"), at, span_labels, chain_of))
        else:
            errors.extend(unknown_keys(relation, _PAIR_KEYS, at))
            errors.extend(_check_pair(kind, relation, at, span_labels, seen_pairs))
    return errors


def _check_pair(
    kind: RelationType,
    relation: dict[str, Any],
    path: str,
    span_labels: dict[str, str | None],
    seen: dict[tuple[str, object], str],
) -> list[FieldError]:
    errors: list[FieldError] = []
    ends = [
        _span_ref(relation.get(key), key_path(path, key), span_labels) for key in ("head", "tail")
    ]
    errors.extend(e for e in ends if isinstance(e, FieldError))
    head, tail = ends
    if not isinstance(head, str) or not isinstance(tail, str):
        return errors
    if head == tail:
        return [FieldError(key_path(path, "tail"), "a relation needs two different spans")]
    errors.extend(_end_label_problems(kind, head, tail, path, span_labels))
    key: tuple[str, object] = (
        (kind.name, frozenset((head, tail)))
        if kind.kind == "undirected"
        else (kind.name, (head, tail))
    )
    if key in seen:
        errors.append(FieldError(path, f"duplicates {seen[key]}"))
    else:
        seen[key] = path
    return errors


def _end_label_problems(
    kind: RelationType, head: str, tail: str, path: str, span_labels: dict[str, str | None]
) -> list[FieldError]:
    def fits(span_id: str, allowed: list[str] | None) -> bool:
        return allowed is None or span_labels.get(span_id) in allowed

    head_labels, tail_labels = kind.head_labels, kind.tail_labels
    if kind.kind == "undirected":
        either = (fits(head, head_labels) and fits(tail, tail_labels)) or (
            fits(tail, head_labels) and fits(head, tail_labels)
        )
        if either:
            return []
        reason = (
            f"relation {kind.name!r} links a span labelled {listing(head_labels or ['any'])} "
            f"with one labelled {listing(tail_labels or ['any'])}"
        )
        return [FieldError(path, reason)]
    errors: list[FieldError] = []
    for end, span_id, allowed in (("head", head, head_labels), ("tail", tail, tail_labels)):
        if not fits(span_id, allowed):
            reason = (
                f"span {quote(span_id)} is labelled {quote(span_labels.get(span_id))}; "
                f"the {end} of relation {kind.name!r} must be labelled {listing(allowed or [])}"
            )
            errors.append(FieldError(key_path(path, end), reason))
    return errors


def _check_chain(
    kind: RelationType,
    members: object,
    path: str,
    span_labels: dict[str, str | None],
    chain_of: dict[tuple[str, str], str],
) -> list[FieldError]:
    at = key_path(path, "members")
    if not isinstance(members, list) or len(members) < 2:
        got = describe(members) if not isinstance(members, list) else f"{len(members)} member(s)"
        return [FieldError(at, f"a chain needs a list of at least 2 span ids, not {got}")]
    errors: list[FieldError] = []
    in_this: set[str] = set()
    for index, member in enumerate(members):
        ref = _span_ref(member, index_path(at, index), span_labels)
        if isinstance(ref, FieldError):
            errors.append(ref)
        elif ref in in_this:
            errors.append(
                FieldError(
                    index_path(at, index), f"span {quote(ref)} is listed twice in this chain"
                )
            )
        elif (kind.name, ref) in chain_of:
            # One entity, one chain: a span in two chains of a type means they are the same chain.
            other = chain_of[(kind.name, ref)]
            errors.append(
                FieldError(
                    index_path(at, index),
                    f"span {quote(ref)} is already in {other}; merge the chains",
                )
            )
        else:
            in_this.add(ref)
    for ref in in_this:
        chain_of[(kind.name, ref)] = path
    return errors


def _span_ref(value: object, path: str, span_labels: dict[str, str | None]) -> str | FieldError:
    if value is None:
        return FieldError(path, "is required (a span id)")
    if not isinstance(value, str) or value not in span_labels:
        return FieldError(
            path, f"span id {quote(value)} does not exist; valid: {listing(span_labels) or 'none'}"
        )
    return value
