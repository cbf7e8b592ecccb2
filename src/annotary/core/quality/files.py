"""Agreement input files: labels as units x coders, with the line each came from.

Two layouts, both reporting bad input as E602 with `FILE:LINE column: reason`:

- *wide*: CSV/TSV of units x coders; the header names the coders, and a first
  column named `unit`, `item` or `id` (any case) holds unit ids. An empty cell
  is missing; every row has as many cells as the header.
- *long*: CSV/TSV or JSONL of `item, annotator, label` rows (column names
  configurable). An empty or null label is missing; a repeated (item,
  annotator) pair is an error.

Labels are read as strings into a `LabelTable` of codes; `label_values` and
`check_order` turn them into what a numeric or ordered statistic needs, still
naming the line of a bad label. Plain CSV/TSV files are read column by column
(`label_columns`, pyarrow); every other file, and any file with a bad line, row
by row (`label_rows`), which names every problem.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from annotary.core.quality.label_columns import read_columns
from annotary.core.quality.label_rows import (
    LongColumns,
    has_long_columns,
    read_long_rows,
    read_wide_rows,
)
from annotary.core.quality.label_table import (
    MAX_DETAILS,
    LabelTable,
    LineProblems,
    input_error,
)
from annotary.errors import E_AGREEMENT_INPUT, FieldError, Unavailable

__all__ = [
    "MAX_DETAILS",
    "LabelTable",
    "LineProblems",
    "LongColumns",
    "check_order",
    "input_error",
    "label_values",
    "number",
    "read_labels",
]

LAYOUTS: Final = ("wide", "long")
JSONL_SUFFIXES: Final = (".jsonl", ".ndjson")
TSV_SUFFIXES: Final = (".tsv", ".tab")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Unavailable(
            E_AGREEMENT_INPUT, f"cannot read {str(path)!r}: {exc.strerror or exc}"
        ) from exc


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise input_error(
            f"{path} is not UTF-8 text",
            [FieldError("", f"invalid UTF-8 ({exc.reason})", f"{path}:{line}")],
        ) from None


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
    source, data = str(path), _read_bytes(path)
    names = columns or LongColumns()
    if delimiter is not None:
        table = read_columns(data, delimiter, source, layout, names, columns is not None)
        if table is not None:
            return table
    text = _decode(data, path)
    if layout is None:
        detected = (
            delimiter is None or columns is not None or has_long_columns(text, delimiter, names)
        )
        layout = "long" if detected else "wide"
    if layout == "wide" and delimiter is not None:
        return read_wide_rows(text, delimiter, source)
    return read_long_rows(text, delimiter, source, names)


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


def label_values(table: LabelTable, why: str) -> npt.NDArray[np.float64]:
    """The number each label of the table stands for; E602 naming each bad `FILE:LINE column`."""
    parsed = [number(label) for label in table.labels]
    bad = np.array([value is None for value in parsed], dtype=np.bool_)
    problems = LineProblems(table.source)
    count, first = table.flagged_cells(bad)
    for line, column, label in first:
        problems.add(line, column, f"{label!r} is not a number ({why} needs numbers)")
    problems.also(count - len(first))
    problems.raise_if_any(f"{why} needs numeric labels")
    return np.array(parsed, dtype=np.float64).reshape(len(parsed))


def check_order(table: LabelTable, order: Sequence[str]) -> None:
    """E602 unless `order` lists distinct labels and every label of the table is one."""
    if len(set(order)) != len(order) or not all(order):
        raise input_error(f"--order {','.join(order)!r} must list distinct, non-empty labels")
    known = set(order)
    problems = LineProblems(table.source)
    unknown = np.array([label not in known for label in table.labels], dtype=np.bool_)
    count, first = table.flagged_cells(unknown)
    for line, column, label in first:
        problems.add(line, column, f"label {label!r} is not in --order; valid: {', '.join(order)}")
    problems.also(count - len(first))
    problems.raise_if_any("labels missing from --order")
