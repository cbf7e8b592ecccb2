"""Shared helpers and fixtures for the example-based schema validation tests."""

from __future__ import annotations

from typing import Any

from annotary.core.schema import AnnotationSchema, validate_annotation
from annotary.errors import FieldError


def schema(*fields: dict[str, Any]) -> AnnotationSchema:
    """A schema of these field definitions."""
    return AnnotationSchema.model_validate({"fields": list(fields)})


def errors(
    fields: list[dict[str, Any]], payload: object, item: dict[str, Any] | None = None
) -> list[FieldError]:
    """Every error of `payload` under a schema of `fields`."""
    return validate_annotation(schema(*fields), payload, item)


def only_error(
    fields: list[dict[str, Any]], payload: object, item: dict[str, Any] | None = None
) -> FieldError:
    """The one error of `payload`; fails when there are none or several."""
    found = errors(fields, payload, item)
    assert len(found) == 1, found
    return found[0]


def assert_error(found: FieldError, path: str, reason: str) -> None:
    """`found` is at exactly `path` and its reason contains `reason`."""
    assert found.path == path, found
    assert reason in found.reason, found


ENTITIES = {
    "name": "entities",
    "kind": "spans",
    "labels": ["PER", "ORG", "LOC"],
    "relations": [
        {"name": "works_for", "head_labels": ["PER"], "tail_labels": ["ORG"]},
        {"name": "near", "kind": "undirected", "head_labels": ["LOC"], "tail_labels": ["ORG"]},
        {"name": "coref", "kind": "chain"},
    ],
}
TEXT_ITEM = {"text": "Ann Lee works for Acme in Paris."}  # 32 characters
PAIR_ITEM = {"prompt": "Hi?", "responses": ["Hello.", "Hey."]}


def span(start: Any, end: Any, label: str = "PER", **extra: Any) -> dict[str, Any]:
    """A span object as an annotator would send it."""
    return {"start": start, "end": end, "label": label, **extra}
