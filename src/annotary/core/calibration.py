"""Calibration rounds (SPEC 4): a fixed set of items with expert answers that every
participant annotates, each answer compared with the expert's and shown back
with the reason.

Pure pieces: the order a participant meets the items in, the comparison of an
answer with the expert answer (the same per-field rule as gold scoring,
`annotary.core.consensus.gold_matches`), and the tallies managers see per
annotator and per item.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from annotary.core.consensus import gold_matches
from annotary.core.items import content_problems
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.validation import validate_annotation
from annotary.errors import FieldError

ROUND_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""A round's name: it appears in URLs and commands."""
MAX_ROUND_ITEMS: Final = 500
MAX_REASON: Final = 5000


@dataclass(frozen=True)
class ExpertItem:
    """An item of a round: its kind and content, the expert answer and the reason."""

    kind: str
    content: dict[str, Any]
    answer: dict[str, Any]
    reason: str


def round_shape_problems(
    name: str, gold_references: Sequence[str], n_given: int
) -> list[FieldError]:
    """What is wrong with a round before its items are looked at: its name, its size,
    a gold item named twice.

    >>> [e.path for e in round_shape_problems("Week 1", [], 0)]
    ['name', 'items']
    """
    problems = []
    if not ROUND_NAME.match(name):
        problems.append(
            FieldError(
                "name",
                "use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a "
                "letter or digit",
            )
        )
    if not 1 <= len(gold_references) + n_given <= MAX_ROUND_ITEMS:
        problems.append(
            FieldError("items", f"a round needs 1 to {MAX_ROUND_ITEMS} items (gold or given)")
        )
    if len(set(gold_references)) != len(gold_references):
        problems.append(FieldError("gold_items", "names the same item twice"))
    return problems


def expert_item_problems(
    schema: AnnotationSchema, items: Sequence[ExpertItem], from_gold: int
) -> list[FieldError]:
    """Every problem with a round's items: content of the item kind, an expert answer
    valid under `schema`, a reason. The first `from_gold` items are gold copies
    (paths `gold_items[i]`), the rest were given (paths `items[i]`)."""
    problems = []
    for index, item in enumerate(items):
        path = f"gold_items[{index}]" if index < from_gold else f"items[{index - from_gold}]"
        problems += [
            FieldError(f"{path}.content.{p}" if p else f"{path}.content", reason)
            for p, reason in content_problems(item.kind, item.content)
        ]
        problems += [
            FieldError(f"{path}.answer.{e.path}" if e.path else f"{path}.answer", e.reason)
            for e in validate_annotation(schema, item.answer, item.content)
        ]
        if not isinstance(item.reason, str) or not item.reason.strip():
            problems.append(
                FieldError(f"{path}.reason", "every item needs the reason for its answer")
            )
        elif len(item.reason) > MAX_REASON:
            problems.append(FieldError(f"{path}.reason", f"at most {MAX_REASON} characters"))
    return problems


def participant_order(
    positions: Sequence[int], seed: int, user_id: int, shuffle: bool
) -> list[int]:
    """The positions of a round's items in the order this participant meets them.

    Fixed rounds keep the given order. Shuffled rounds give each participant an
    order of their own, the same on every call (seeded by the round and the user).

    >>> participant_order([0, 1, 2], 7, 1, shuffle=False)
    [0, 1, 2]
    >>> sorted(participant_order([0, 1, 2], 7, 1, shuffle=True))
    [0, 1, 2]
    """
    order = sorted(positions)
    if shuffle:
        random.Random(f"calibration:{seed}:{user_id}").shuffle(order)
    return order


def next_position(order: Sequence[int], answered: Iterable[int]) -> int | None:
    """The first position in `order` not answered yet; None when the round is done.

    >>> next_position([2, 0, 1], {2})
    0
    """
    done = set(answered)
    return next((p for p in order if p not in done), None)


@dataclass(frozen=True)
class Comparison:
    """An answer against the expert answer: per compared field whether it matched.

    `correct` is True when every compared field matched, None when the expert
    answer has no field that can be compared (only free text).
    """

    matches: dict[str, bool]
    correct: bool | None


def compare_with_expert(
    schema: AnnotationSchema, expert: dict[str, Any], answer: dict[str, Any]
) -> Comparison:
    """Compare an answer with the expert answer field by field (free text is never compared).

    >>> s = AnnotationSchema.model_validate(
    ...     {"fields": [{"name": "s", "kind": "label", "labels": ["a", "b"]}]})
    >>> compare_with_expert(s, {"s": "a"}, {"s": "b"})
    Comparison(matches={'s': False}, correct=False)
    """
    matches = gold_matches(schema, expert, answer)
    return Comparison(matches, all(matches.values()) if matches else None)


@dataclass
class Tally:
    """Answers counted for one participant or one item: overall and per field."""

    answered: int = 0
    correct: int = 0
    scored: int = 0
    """Answers that had a field to compare (the denominator of `accuracy`)."""
    fields: dict[str, list[int]] = field(default_factory=dict)
    """Per field: [compared, matched]."""

    def add(self, matches: dict[str, Any], correct: bool | None) -> None:
        """Count one answer."""
        self.answered += 1
        if correct is not None:
            self.scored += 1
            self.correct += int(correct)
        for name, matched in matches.items():
            cell = self.fields.setdefault(name, [0, 0])
            cell[0] += 1
            cell[1] += int(bool(matched))

    @property
    def accuracy(self) -> float | None:
        """Share of scored answers with every field right."""
        return self.correct / self.scored if self.scored else None

    def field_shares(self) -> dict[str, float]:
        """Per field, the share of compared answers that matched the expert."""
        return {name: matched / compared for name, (compared, matched) in self.fields.items()}


def parse_expert_items(
    lines: Iterable[str], source: str
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Items of a calibration file: one JSON object per line, `{"content": {...},
    "answer": {...}, "reason": "..."}` (blank lines skipped). Returns the items and
    every problem with its `FILE:LINE`; schema checks come later, on the server.

    >>> items, problems = parse_expert_items(['{"content": {"text": "hi"}, "answer": {}}'], "f")
    >>> [str(p) for p in problems]
    ['f:1 reason: is missing']
    """
    items: list[dict[str, Any]] = []
    problems: list[FieldError] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        if len(items) >= MAX_ROUND_ITEMS:
            problems.append(FieldError("", f"a round holds at most {MAX_ROUND_ITEMS} items", where))
            break
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            problems.append(FieldError("", f"not JSON: {exc}", where))
            continue
        if not isinstance(row, dict):
            problems.append(FieldError("", "each line must be a JSON object", where))
            continue
        found = len(problems)
        for key, kind in (("content", dict), ("answer", dict), ("reason", str)):
            if key not in row:
                problems.append(FieldError(key, "is missing", where))
            elif not isinstance(row[key], kind):
                expected = "an object" if kind is dict else "a string"
                problems.append(FieldError(key, f"must be {expected}", where))
        unknown = sorted(set(row) - {"content", "answer", "reason"})
        if unknown:
            problems.append(
                FieldError(unknown[0][:40], "unknown key; use content, answer, reason", where)
            )
        if len(problems) == found:
            items.append(
                {"content": row["content"], "answer": row["answer"], "reason": row["reason"]}
            )
    return items, problems
