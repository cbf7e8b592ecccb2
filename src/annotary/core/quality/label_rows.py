"""The row-by-row readers of label files: any CSV/TSV, and JSONL.

These read every file `files.read_labels` accepts (quoted values, values
spanning lines, blank lines) and name every bad line. Plain CSV/TSV files are
read faster by `label_columns`, which hands anything unusual over to these.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import orjson

from annotary.core.quality.label_table import (
    LabelTable,
    LineProblems,
    input_error,
    table_from_rows,
)
from annotary.errors import FieldError, Invalid

UNIT_ID_COLUMNS: Final = ("unit", "item", "id")
Row = tuple[int, list[str]]  # (line where a CSV record starts, its stripped cells)


@dataclass(frozen=True, slots=True)
class LongColumns:
    """Column (or JSON key) names of the long layout."""

    item: str = "item"
    annotator: str = "annotator"
    label: str = "label"


def csv_rows(text: str, delimiter: str, source: str) -> Iterator[Row]:
    """(line where the record starts, stripped cells) for every non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise input_error(
                f"{source} is not valid CSV", [FieldError("", str(exc), f"{source}:{start}")]
            ) from None
        if len(row) > 1 or (row and row[0].strip()):
            yield start, [cell.strip() for cell in row]


def header_problems(names: list[str], line: int, source: str) -> LineProblems:
    """Repeated or empty column names of a header row."""
    problems = LineProblems(source)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.add(line, "", f"the header repeats column names: {', '.join(duplicates)}")
    if "" in names:
        problems.add(line, "", f"column {names.index('') + 1} of the header has no name")
    return problems


def _header(rows: Iterator[Row], source: str) -> Row:
    first = next(rows, None)
    if first is None:
        raise input_error(f"{source} is empty: expected a header row")
    line, names = first
    header_problems(names, line, source).raise_if_any("header")
    return line, names


def _ragged(cells: list[str], names: list[str]) -> str:
    return (
        f"the row has {len(cells)} cells but the header has {len(names)} columns "
        "(leave a cell empty for a missing value)"
    )


def has_unit_ids(names: list[str]) -> bool:
    """Whether a wide header's first column holds unit ids (`unit`, `item` or `id`).

    >>> has_unit_ids(["ID", "ann1", "ann2"]), has_unit_ids(["ann1", "ann2"])
    (True, False)
    """
    return len(names) > 1 and names[0].lower() in UNIT_ID_COLUMNS


def read_wide_rows(text: str, delimiter: str, source: str) -> LabelTable:
    """The wide layout: one row per unit, one column per coder."""
    rows = csv_rows(text, delimiter, source)
    _, names = _header(rows, source)
    has_ids = has_unit_ids(names)
    coders = names[1:] if has_ids else names
    problems = LineProblems(source)
    labels: list[list[str | None]] = []
    lines: list[list[int]] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(names):
            problems.add(line, "", _ragged(cells, names))
            continue
        unit = cells[0] if has_ids else str(len(labels) + 1)
        if has_ids and not unit:
            problems.add(line, names[0], "the unit id is empty")
        elif unit in first_line:
            problems.add(
                line, names[0], f"unit {unit!r} repeats (first on line {first_line[unit]})"
            )
        first_line.setdefault(unit, line)
        labels.append([cell or None for cell in cells[1 if has_ids else 0 :]])
        lines.append([line] * len(coders))
    problems.raise_if_any("wide format: one row per unit, one column per coder")
    if not labels:
        raise input_error(f"{source} has a header but no rows of labels")
    return table_from_rows(source, coders, labels, lines, None)


def _scalar_text(value: object) -> str | None:
    """A JSON string or number as text; None for anything else (objects, lists, booleans)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return None


Observation = tuple[int, str, str, str | None]  # line, item, annotator, label


def _jsonl_observations(
    text: str, columns: LongColumns, problems: LineProblems
) -> Iterator[Observation]:
    # Split on "\n" only: str.splitlines also breaks at U+2028 inside JSON strings.
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problems.add(line, "", f"invalid JSON: {exc}")
            continue
        if not isinstance(record, dict):
            problems.add(line, "", "expected a JSON object")
            continue
        item, annotator = (_scalar_text(record.get(k)) for k in (columns.item, columns.annotator))
        for key, value in ((columns.item, item), (columns.annotator, annotator)):
            if not value:
                problems.add(line, key, "missing or empty: need a string or a number")
        label = record.get(columns.label)
        text_label = None if label is None else _scalar_text(label)
        if label is not None and text_label is None:
            problems.add(line, columns.label, "a label must be a string or a number (or null)")
        if item and annotator:
            yield line, item, annotator, text_label or None


def _missing_long_columns(
    names: list[str], line: int, source: str, columns: LongColumns
) -> Invalid | None:
    """The E602 error for a long header without the item, annotator or label column."""
    wanted = (columns.item, columns.annotator, columns.label)
    absent = [name for name in wanted if name not in names]
    if not absent:
        return None
    return input_error(
        f"{source} has no column {', '.join(map(repr, absent))}; the long format needs "
        f"{', '.join(wanted)} (name other columns with "
        "--item-col/--annotator-col/--label-col, or use --format wide)",
        [FieldError("", f"header: {', '.join(names)}", f"{source}:{line}")],
    )


def _csv_observations(
    text: str, delimiter: str, source: str, columns: LongColumns, problems: LineProblems
) -> Iterator[Observation]:
    rows = csv_rows(text, delimiter, source)
    header_line, names = _header(rows, source)
    error = _missing_long_columns(names, header_line, source, columns)
    if error is not None:
        raise error
    item, annotator, label = (
        names.index(name) for name in (columns.item, columns.annotator, columns.label)
    )
    for line, cells in rows:
        if len(cells) != len(names):
            problems.add(line, "", _ragged(cells, names))
            continue
        empty = [names[position] for position in (item, annotator) if not cells[position]]
        for name in empty:
            problems.add(line, name, "empty: every row needs an item and an annotator")
        if not empty:
            yield line, cells[item], cells[annotator], cells[label] or None


def read_long_rows(
    text: str, delimiter: str | None, source: str, columns: LongColumns
) -> LabelTable:
    """The long layout (CSV/TSV, or JSONL when `delimiter` is None): one row per label."""
    problems = LineProblems(source)
    observations = (
        _jsonl_observations(text, columns, problems)
        if delimiter is None
        else _csv_observations(text, delimiter, source, columns, problems)
    )
    cells: dict[tuple[str, str], tuple[str | None, int]] = {}
    items: dict[str, int] = {}
    annotators: dict[str, int] = {}
    for line, item, annotator, label in observations:
        previous = cells.get((item, annotator))
        if previous is not None:
            problems.add(
                line,
                "",
                f"annotator {annotator!r} labelled item {item!r} again (first on line "
                f"{previous[1]}); agreement needs one label per item and annotator",
            )
            continue
        cells[item, annotator] = (label, line)
        items.setdefault(item, len(items))
        annotators.setdefault(annotator, len(annotators))
    problems.raise_if_any(f"long format: {columns.item}, {columns.annotator}, {columns.label}")
    if not cells:
        raise input_error(f"{source} has no annotations")
    labels: list[list[str | None]] = [[None] * len(annotators) for _ in items]
    lines = [[0] * len(annotators) for _ in items]
    for (item, annotator), (label, line) in cells.items():
        labels[items[item]][annotators[annotator]] = label
        lines[items[item]][annotators[annotator]] = line
    return table_from_rows(source, list(annotators), labels, lines, columns.label)


def has_long_columns(text: str, delimiter: str, columns: LongColumns) -> bool:
    """Whether the first record of a CSV names the item, annotator and label columns."""
    first = next(csv_rows(text, delimiter, ""), None)
    header = set(first[1]) if first else set()
    return {columns.item, columns.annotator, columns.label} <= header
