"""Agreement input files: labels as units x coders, with the line each came from.

Two layouts, both reporting bad input as E602 with `FILE:LINE column: reason`:

- *wide*: CSV/TSV of units x coders; the header names the coders, and a first
  column named `unit`, `item` or `id` (any case) holds unit ids. An empty cell
  is missing; every row has as many cells as the header.
- *long*: CSV/TSV or JSONL of `item, annotator, label` rows (column names
  configurable). An empty or null label is missing; a repeated (item,
  annotator) pair is an error.

Labels are read as strings; `numbers` and `check_order` turn them into what a
numeric or ordered statistic needs, still naming the line of a bad label.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from annotary.errors import E_AGREEMENT_INPUT, FieldError, Invalid, Unavailable

LAYOUTS: Final = ("wide", "long")
UNIT_ID_COLUMNS: Final = ("unit", "item", "id")
JSONL_SUFFIXES: Final = (".jsonl", ".ndjson")
TSV_SUFFIXES: Final = (".tsv", ".tab")
MAX_DETAILS: Final = 20  # problems listed before "... and N more"
Row = tuple[int, list[str]]  # (line where a CSV record starts, its stripped cells)


def input_error(message: str, details: list[FieldError] | None = None) -> Invalid:
    """The E602 error: agreement input (file or options) that cannot be used.

    >>> input_error("no rows").code
    'E602'
    """
    return Invalid(E_AGREEMENT_INPUT, message, details or [])


class LineProblems:
    """Collects every bad line of a file, so that one run lists them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[FieldError] = []

    def add(self, line: int, column: str, reason: str) -> None:
        """Record a problem at `FILE:LINE column`."""
        self.found.append(FieldError(column, reason, f"{self.source}:{line}"))

    def raise_if_any(self, what: str) -> None:
        """Raise E602 listing the problems found (the first `MAX_DETAILS`), if any."""
        if not self.found:
            return
        details = self.found[:MAX_DETAILS]
        if len(self.found) > MAX_DETAILS:
            details.append(FieldError("", f"... and {len(self.found) - MAX_DETAILS} more"))
        count = len(self.found)
        raise input_error(f"{self.source}: {count} bad line{'s' * (count > 1)} ({what})", details)


@dataclass(frozen=True, slots=True)
class LabelTable:
    """Labels as units x coders (None = missing) and the line each came from."""

    source: str
    units: list[str]
    coders: list[str]
    labels: list[list[str | None]]
    lines: list[list[int]]  # 1-based line of each cell (0: no cell in the file)
    label_column: str | None  # long: the label column; wide: None (the coder's column)

    def column_of(self, coder: int) -> str:
        """The column a cell of `coder` was read from, for error messages."""
        return self.label_column or self.coders[coder]

    def select(self, coders: Sequence[int]) -> LabelTable:
        """The same units with only the given coders (in that order)."""
        return LabelTable(
            self.source,
            self.units,
            [self.coders[c] for c in coders],
            [[row[c] for c in coders] for row in self.labels],
            [[row[c] for c in coders] for row in self.lines],
            self.label_column,
        )


@dataclass(frozen=True, slots=True)
class LongColumns:
    """Column (or JSON key) names of the long layout."""

    item: str = "item"
    annotator: str = "annotator"
    label: str = "label"


# -- reading ------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unavailable(
            E_AGREEMENT_INPUT, f"cannot read {str(path)!r}: {exc.strerror or exc}"
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise input_error(
            f"{path} is not UTF-8 text",
            [FieldError("", f"invalid UTF-8 ({exc.reason})", f"{path}:{line}")],
        ) from None


def _csv_rows(text: str, delimiter: str, source: str) -> Iterator[Row]:
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


def _header(rows: Iterator[Row], source: str) -> Row:
    first = next(rows, None)
    if first is None:
        raise input_error(f"{source} is empty: expected a header row")
    line, names = first
    problems = LineProblems(source)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.add(line, "", f"the header repeats column names: {', '.join(duplicates)}")
    if "" in names:
        problems.add(line, "", f"column {names.index('') + 1} of the header has no name")
    problems.raise_if_any("header")
    return line, names


def _ragged(cells: list[str], names: list[str]) -> str:
    return (
        f"the row has {len(cells)} cells but the header has {len(names)} columns "
        "(leave a cell empty for a missing value)"
    )


def _wide(text: str, delimiter: str, source: str) -> LabelTable:
    rows = _csv_rows(text, delimiter, source)
    _, names = _header(rows, source)
    has_ids = len(names) > 1 and names[0].lower() in UNIT_ID_COLUMNS
    coders = names[1:] if has_ids else names
    problems = LineProblems(source)
    units: list[str] = []
    labels: list[list[str | None]] = []
    lines: list[list[int]] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(names):
            problems.add(line, "", _ragged(cells, names))
            continue
        unit = cells[0] if has_ids else str(len(units) + 1)
        if has_ids and not unit:
            problems.add(line, names[0], "the unit id is empty")
        elif unit in first_line:
            problems.add(
                line, names[0], f"unit {unit!r} repeats (first on line {first_line[unit]})"
            )
        first_line.setdefault(unit, line)
        units.append(unit)
        labels.append([cell or None for cell in cells[1 if has_ids else 0 :]])
        lines.append([line] * len(coders))
    problems.raise_if_any("wide format: one row per unit, one column per coder")
    if not units:
        raise input_error(f"{source} has a header but no rows of labels")
    return LabelTable(source, units, coders, labels, lines, None)


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


def _csv_observations(
    text: str, delimiter: str, source: str, columns: LongColumns, problems: LineProblems
) -> Iterator[Observation]:
    rows = _csv_rows(text, delimiter, source)
    header_line, names = _header(rows, source)
    wanted = (columns.item, columns.annotator, columns.label)
    absent = [name for name in wanted if name not in names]
    if absent:
        raise input_error(
            f"{source} has no column {', '.join(map(repr, absent))}; the long format needs "
            f"{', '.join(wanted)} (name other columns with "
            "--item-col/--annotator-col/--label-col, or use --format wide)",
            [FieldError("", f"header: {', '.join(names)}", f"{source}:{header_line}")],
        )
    item, annotator, label = (names.index(name) for name in wanted)
    for line, cells in rows:
        if len(cells) != len(names):
            problems.add(line, "", _ragged(cells, names))
            continue
        empty = [names[position] for position in (item, annotator) if not cells[position]]
        for name in empty:
            problems.add(line, name, "empty: every row needs an item and an annotator")
        if not empty:
            yield line, cells[item], cells[annotator], cells[label] or None


def _long(text: str, delimiter: str | None, source: str, columns: LongColumns) -> LabelTable:
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
    return LabelTable(source, list(items), list(annotators), labels, lines, columns.label)


def read_labels(
    path: Path, layout: str | None = None, columns: LongColumns | None = None
) -> LabelTable:
    """The labels of a wide or long file (CSV; TSV for .tsv/.tab; JSONL for .jsonl/.ndjson).

    Without `layout`: long for JSONL, for a CSV whose header has the long
    columns, or when `columns` is given; otherwise wide. Long items and
    annotators keep their order of first appearance.
    """
    suffix = path.suffix.lower()
    delimiter = None if suffix in JSONL_SUFFIXES else "\t" if suffix in TSV_SUFFIXES else ","
    if layout is not None and layout not in LAYOUTS:
        raise input_error(f"format {layout!r} is not valid; valid: {', '.join(LAYOUTS)}")
    if layout == "wide" and delimiter is None:
        raise input_error(f"{path}: the wide format is CSV/TSV; a JSONL file is long format")
    if layout == "wide" and columns is not None:
        raise input_error("--item-col/--annotator-col/--label-col apply to --format long")
    source, text = str(path), _read_text(path)
    names = columns or LongColumns()
    if layout is None:
        detected = delimiter is None or columns is not None or _has_columns(text, delimiter, names)
        layout = "long" if detected else "wide"
    if layout == "wide" and delimiter is not None:
        return _wide(text, delimiter, source)
    return _long(text, delimiter, source, names)


def _has_columns(text: str, delimiter: str, columns: LongColumns) -> bool:
    first = next(_csv_rows(text, delimiter, ""), None)
    header = set(first[1]) if first else set()
    return {columns.item, columns.annotator, columns.label} <= header


# -- labels for numeric and ordered statistics ----------------------------------------


def number(label: str) -> float | None:
    """The label as a finite number, else None.

    >>> number("2.5"), number("high"), number("nan")
    (2.5, None, None)
    """
    try:
        value = float(label)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numbers(table: LabelTable, why: str) -> list[list[float | None]]:
    """Every label parsed as a finite number; E602 naming each bad `FILE:LINE column`."""
    problems = LineProblems(table.source)
    out: list[list[float | None]] = []
    for unit, row in enumerate(table.labels):
        parsed: list[float | None] = []
        for coder, label in enumerate(row):
            value = None if label is None else number(label)
            if label is not None and value is None:
                problems.add(
                    table.lines[unit][coder],
                    table.column_of(coder),
                    f"{label!r} is not a number ({why} needs numbers)",
                )
            parsed.append(value)
        out.append(parsed)
    problems.raise_if_any(f"{why} needs numeric labels")
    return out


def check_order(table: LabelTable, order: Sequence[str]) -> None:
    """E602 unless `order` lists distinct labels and every label of the table is one."""
    if len(set(order)) != len(order) or not all(order):
        raise input_error(f"--order {','.join(order)!r} must list distinct, non-empty labels")
    known = set(order)
    problems = LineProblems(table.source)
    for unit, row in enumerate(table.labels):
        for coder, label in enumerate(row):
            if label is not None and label not in known:
                problems.add(
                    table.lines[unit][coder],
                    table.column_of(coder),
                    f"label {label!r} is not in --order; valid: {', '.join(order)}",
                )
    problems.raise_if_any("labels missing from --order")
