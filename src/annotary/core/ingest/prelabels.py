"""Annotations attached to items at import: model pre-labels and gold answers.

Pre-labels are shown to annotators as a starting point; gold answers seed the
quality checks (SPEC 3). Both are checked against the project's schema by an
injected `check_annotation(annotation, content)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from annotary.core.ingest.values import decoded
from annotary.errors import FieldError

DEFAULT_PRELABEL_MODEL: Final = "import"

AnnotationCheck = Callable[[dict[str, Any], dict[str, Any]], list[FieldError]]


@dataclass(frozen=True, slots=True)
class PrelabelRow:
    """A model's suggested annotation, shown to annotators as a starting point."""

    model: str
    annotation: dict[str, Any]
    confidence: float | None


Prelabels = list[tuple[str, PrelabelRow]]


def parse_prelabels(data: dict[str, Any], reasons: list[str]) -> Prelabels:
    """The record's valid pre-labels, each with the path its annotation is reported at."""
    prelabels: Prelabels = []
    given = data.get("prelabels")
    if given is not None:
        given = decoded(given, "prelabels", reasons)
        if not isinstance(given, list):
            if given is not None:
                reasons.append("prelabels must be a list of {model, annotation, confidence}")
            given = []
        for i, entry in enumerate(given):
            prelabel = _prelabel_entry(entry, f"prelabels[{i}]", reasons)
            if prelabel is not None:
                prelabels.append((f"prelabels[{i}].annotation", prelabel))
    single = data.get("prelabel")
    if single is not None:
        single = decoded(single, "prelabel", reasons)
        model = data.get("prelabel_model") or DEFAULT_PRELABEL_MODEL
        if not isinstance(single, dict):
            if single is not None:
                reasons.append("prelabel must be an annotation object")
        elif not isinstance(model, str):
            reasons.append("prelabel_model must be a string")
        else:
            prelabels.append(("prelabel", PrelabelRow(model, single, None)))
    return prelabels


def _prelabel_entry(entry: Any, where: str, reasons: list[str]) -> PrelabelRow | None:
    if not isinstance(entry, dict):
        reasons.append(f"{where} must be an object with 'model' and 'annotation'")
        return None
    model = entry.get("model")
    annotation = entry.get("annotation")
    confidence = entry.get("confidence")
    problems = len(reasons)
    if not isinstance(model, str) or not model.strip():
        reasons.append(f"{where}.model must be a non-empty string")
    if not isinstance(annotation, dict):
        reasons.append(f"{where}.annotation must be an object")
    if confidence is not None and not _is_probability(confidence):
        reasons.append(f"{where}.confidence must be a number between 0 and 1")
    if len(reasons) > problems or not isinstance(model, str) or not isinstance(annotation, dict):
        return None
    return PrelabelRow(model, annotation, None if confidence is None else float(confidence))


def parse_gold(
    data: dict[str, Any], reasons: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    """The record's gold annotation and the reason given for it, when valid."""
    gold = decoded(data["gold"], "gold", reasons)
    if gold is not None and not isinstance(gold, dict):
        reasons.append("gold must be an annotation object")
        gold = None
    reason = data.get("gold_reason")
    if reason is not None and not isinstance(reason, str):
        reasons.append("gold_reason must be a string")
        reason = None
    return gold, reason


def _is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def check_annotations(
    check: AnnotationCheck,
    content: dict[str, Any],
    annotations: list[tuple[str, dict[str, Any]]],
    reasons: list[str],
) -> None:
    """Validate (path, annotation) pairs against the project schema, paths prefixed."""
    for prefix, annotation in annotations:
        for error in check(annotation, content):
            path = f"{prefix}.{error.path}" if error.path else prefix
            reasons.append(f"{path}: {error.reason}")
