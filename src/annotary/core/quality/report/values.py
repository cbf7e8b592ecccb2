"""One field's values as long-format observations (see `core.quality.units`).

A unit is an item, or an item's turn for `per_turn` fields, or an item's
candidate for rankings (whose value is the candidate's rank position). Each
distinct JSON text of a field is decoded once: a label field has a handful, so a
million annotations cost about one dictionary lookup each.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from annotary.core.schema.fields import AnyField, ChoiceField, PreferenceField

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Span = tuple[int, int, str]


@dataclass
class FieldValues:
    """One field's observations in long format.

    `code[i]` indexes `values`, the distinct canonical values: a label name, a
    frozenset of labels, a preference choice, a rating, a rank position, or a
    tuple of spans `(start, end, label)`.
    """

    spec: AnyField
    unit: IntArray
    row: IntArray
    code: IntArray
    values: list[Any]
    unit_item: IntArray
    """Item code of every unit."""

    @property
    def kind(self) -> str:
        return self.spec.kind

    def numbers(self) -> FloatArray:
        """The numeric value of every code (ratings, rank positions)."""
        return np.array([float(v) for v in self.values], dtype=np.float64)


Decoded = list[tuple[Hashable, Any]]
"""A field value as observations: (sub-unit or None, canonical value)."""


class _Decoded(dict[str | None, Any]):
    """JSON text -> what it decodes to; each distinct text is decoded once."""

    def __init__(self, learn: Callable[[str | None], Any]) -> None:
        super().__init__()
        self.learn = learn

    def __missing__(self, text: str | None) -> Any:
        value = self[text] = self.learn(text)
        return value


class FieldReader:
    """Turns one field's JSON texts, chunk by chunk, into long-format observations."""

    def __init__(self, spec: AnyField) -> None:
        self.spec = spec
        self.decode = _decoder(spec)
        self.values: list[Any] = list(_seed_values(spec))
        self.code_of: dict[Any, int] = {v: i for i, v in enumerate(self.values)}
        # One value per annotation at the item: a code per row, no unit bookkeeping.
        self.simple = not spec.per_turn and spec.kind not in ("ranking", "spans")
        self.fast = _Decoded(self._learn_simple)
        self.decoded: dict[str | None, list[tuple[Hashable, int]]] = {}
        self.rows: list[IntArray] = []
        self.codes: list[IntArray] = []
        self.unit_keys: list[tuple[int, Hashable]] = []

    def _code(self, value: Any) -> int:
        if value not in self.code_of:
            self.code_of[value] = len(self.values)
            self.values.append(value)
        return self.code_of[value]

    def _learn_simple(self, text: str | None) -> int:
        observations = self.decode(_json(text))
        return self._code(observations[0][1]) if observations else -1

    def read(self, texts: Sequence[str | None], first_row: int, item_ids: IntArray) -> None:
        """Add the values of rows `first_row ...` (one JSON text per row)."""
        if self.simple:
            codes = np.fromiter(map(self.fast.__getitem__, texts), np.int64, len(texts))
            present = np.flatnonzero(codes >= 0)
            self.rows.append(present + first_row)
            self.codes.append(codes[present])
            return
        rows: list[int] = []
        codes_list: list[int] = []
        for offset, text in enumerate(texts):
            observations = self.decoded.get(text)
            if observations is None:
                observations = [(sub, self._code(v)) for sub, v in self.decode(_json(text))]
                self.decoded[text] = observations
            item_id = int(item_ids[offset])
            for sub, code in observations:
                rows.append(first_row + offset)
                codes_list.append(code)
                self.unit_keys.append((item_id, sub))
        self.rows.append(np.array(rows, dtype=np.int64))
        self.codes.append(np.array(codes_list, dtype=np.int64))

    def finish(self, row_items: IntArray, item_ids: IntArray) -> FieldValues:
        """The observations, with unit codes (`row_items`: item code of every row)."""
        rows = _concat(self.rows)
        codes = _concat(self.codes)
        if self.simple:
            unit = row_items[rows]
            unit_item = np.arange(item_ids.size, dtype=np.int64)
        else:
            keys: dict[tuple[int, Hashable], int] = {}
            unit = np.fromiter(
                (keys.setdefault(k, len(keys)) for k in self.unit_keys), np.int64, rows.size
            )
            unit_item = np.zeros(len(keys), dtype=np.int64)
            unit_item[unit] = row_items[rows]
        return FieldValues(self.spec, unit, rows, codes, self.values, unit_item)


def _concat(arrays: list[IntArray]) -> IntArray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _seed_values(spec: AnyField) -> Iterable[Any]:
    """Values every report lists, used or not, in the schema's order."""
    if isinstance(spec, ChoiceField) and spec.kind == "label":
        return spec.label_names()
    if isinstance(spec, PreferenceField):
        return ["a", "b", "tie"] if spec.allow_tie else ["a", "b"]
    return ()


def _decoder(spec: AnyField) -> Callable[[Any], Decoded]:
    single = _SINGLE[spec.kind]
    if not spec.per_turn:
        return single

    def per_turn(value: Any) -> Decoded:
        if not isinstance(value, dict):
            return []
        return [
            ((turn, sub) if sub is not None else turn, canonical)
            for turn, inner in sorted(value.items())
            for sub, canonical in single(inner)
        ]

    return per_turn


def _label(value: Any) -> Decoded:
    if value is None:
        return []
    return [(None, value if isinstance(value, str) else orjson.dumps(value).decode())]


def _labels(value: Any) -> Decoded:
    if not isinstance(value, list):
        return []
    return [(None, frozenset(str(v) for v in value))]


def _preference(value: Any) -> Decoded:
    choice = value.get("choice") if isinstance(value, dict) else None
    return [(None, choice)] if isinstance(choice, str) else []


def _rating(value: Any) -> Decoded:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return [(None, float(value))] if number else []


def _ranking(value: Any) -> Decoded:
    """Candidate -> rank position (0 = best; tied candidates share their group's)."""
    if not isinstance(value, list):
        return []
    ranks: Decoded = []
    for position, entry in enumerate(value):
        group = entry if isinstance(entry, list) else [entry]
        ranks.extend((c, float(position)) for c in group if isinstance(c, int))
    return ranks


def _spans(value: Any) -> Decoded:
    spans = value.get("spans") if isinstance(value, dict) else value
    if not isinstance(spans, list):
        return []
    cells: list[Span] = []
    for span in spans:
        if isinstance(span, dict):
            start, end, label = span.get("start"), span.get("end"), span.get("label")
            if isinstance(start, int) and isinstance(end, int) and start < end:
                cells.append((start, end, str(label)))
    return [(None, tuple(sorted(cells)))]


_SINGLE: dict[str, Callable[[Any], Decoded]] = {
    "label": _label,
    "labels": _labels,
    "preference": _preference,
    "rating": _rating,
    "ranking": _ranking,
    "spans": _spans,
}
