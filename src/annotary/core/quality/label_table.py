"""Labels read from a file: a units x coders matrix of label codes, with their lines.

`LabelTable` is what `files.read_labels` returns, whichever reader built it:
the labels as codes into the list of distinct label strings (-1 = missing), and
the 1-based line each cell came from, so that a bad label found later is still
reported as `FILE:LINE column: reason` (E602).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from annotary.core.quality.coding import MISSING, Codes
from annotary.errors import E_AGREEMENT_INPUT, FieldError, Invalid

MAX_DETAILS: Final = 20  # problems listed before "... and N more"
Lines = npt.NDArray[np.int64]


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
        self.found: list[FieldError] = []  # the first MAX_DETAILS
        self.count = 0

    def add(self, line: int, column: str, reason: str) -> None:
        """Record a problem at `FILE:LINE column`."""
        self.count += 1
        if len(self.found) < MAX_DETAILS:
            self.found.append(FieldError(column, reason, f"{self.source}:{line}"))

    def also(self, count: int) -> None:
        """Count `count` more problems without listing them (beyond `MAX_DETAILS`)."""
        self.count += count

    def raise_if_any(self, what: str) -> None:
        """Raise E602 listing the problems found (the first `MAX_DETAILS`), if any."""
        if not self.count:
            return
        details = list(self.found)
        if self.count > MAX_DETAILS:
            details.append(FieldError("", f"... and {self.count - MAX_DETAILS} more"))
        count = self.count
        raise input_error(f"{self.source}: {count} bad line{'s' * (count > 1)} ({what})", details)


@dataclass(frozen=True, slots=True)
class LabelTable:
    """Labels as units x coders codes into `labels` (-1 = missing), and each cell's line."""

    source: str
    coders: list[str]
    codes: Codes  # units x coders; k >= 0 is labels[k]
    labels: list[str]  # the distinct labels (stripped, never empty)
    lines: Lines  # units x coders: 1-based line of each cell (0: no cell in the file)
    label_column: str | None  # long: the label column; wide: None (the coder's column)

    @property
    def n_units(self) -> int:
        """Rows of the table: units in wide files, distinct items in long ones."""
        return int(self.codes.shape[0])

    def column_of(self, coder: int) -> str:
        """The column a cell of `coder` was read from, for error messages."""
        return self.label_column or self.coders[coder]

    def select(self, coders: Sequence[int]) -> LabelTable:
        """The same units with only the given coders (in that order) and the labels they use."""
        chosen = list(coders)
        codes = self.codes[:, chosen]
        used = np.unique(codes[codes >= 0])
        recode = np.full(len(self.labels) + 1, MISSING, dtype=np.int64)
        recode[used] = np.arange(used.size)
        return LabelTable(
            self.source,
            [self.coders[c] for c in chosen],
            recode[codes],  # index -1 is the last entry: MISSING
            [self.labels[k] for k in used.tolist()],
            self.lines[:, chosen],
            self.label_column,
        )

    def flagged_cells(
        self, labels: npt.NDArray[np.bool_]
    ) -> tuple[int, list[tuple[int, str, str]]]:
        """How many cells hold a flagged label, and the first `MAX_DETAILS` of them.

        Each as (line, column, label), unit by unit (row-major).
        """
        flagged = np.append(labels, False)[self.codes]  # code -1 (missing): index -1, False
        count = int(np.count_nonzero(flagged))
        first: list[tuple[int, str, str]] = []
        for unit, coder in np.argwhere(flagged)[:MAX_DETAILS].tolist():
            label = self.labels[int(self.codes[unit, coder])]
            first.append((int(self.lines[unit, coder]), self.column_of(coder), label))
        return count, first


def table_from_rows(
    source: str,
    coders: list[str],
    rows: Sequence[Sequence[str | None]],
    lines: Sequence[Sequence[int]],
    label_column: str | None,
) -> LabelTable:
    """A table from rows of labels (None = missing), one per unit, with their lines."""
    index: dict[str, int] = {}
    flat = [
        MISSING if label is None else index.setdefault(label, len(index))
        for row in rows
        for label in row
    ]
    shape = (len(rows), len(coders))
    codes = np.array(flat, dtype=np.int64).reshape(shape)
    line_matrix = np.array(lines, dtype=np.int64).reshape(shape)
    return LabelTable(source, coders, codes, list(index), line_matrix, label_column)
