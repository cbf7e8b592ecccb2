"""Label files: the column reader (pyarrow) reads exactly what the row reader reads.

`label_columns.read_columns` may decline a file (None), never read it
differently: on every file it accepts, its table equals the row reader's
(labels, coders, the line of every cell); on every file the row reader
rejects, it declines. Plain files, the common case, must take the fast path.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotary.core.quality.label_columns import read_columns
from annotary.core.quality.label_rows import LongColumns, read_long_rows, read_wide_rows
from annotary.core.quality.label_table import LabelTable
from annotary.errors import Invalid

SOURCE = "labels.csv"
# Characters that test stripping (space, tab, vertical tab, no-break space),
# quoting (comma, quote) and line breaks inside cells.
PIECES = ["a", "b", "é", " ", "\t", "\x0b", "\u00a0", ",", '"', "\n", "\r", "1", "2.5"]
CELLS = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
PLAIN_CELLS = st.lists(st.sampled_from(["a", "b", "é", " ", "1", "2.5", "x y"]), max_size=3).map(
    "".join
)


def decoded(table: LabelTable) -> tuple[Any, ...]:
    labels = [[None if c < 0 else table.labels[c] for c in row] for row in table.codes.tolist()]
    return table.coders, labels, np.asarray(table.lines).tolist(), table.label_column


def row_reader(data: bytes, long: bool) -> tuple[Any, ...] | None:
    text = data.decode("utf-8-sig")
    try:
        table = read_long_rows(text, ",", SOURCE, LongColumns()) if long else None
        table = table or read_wide_rows(text, ",", SOURCE)
    except Invalid:
        return None
    return decoded(table)


@st.composite
def csv_files(draw: st.DrawFn, long: bool) -> bytes:
    """A CSV as a spreadsheet or script might write it: any cells, quoted as needed."""
    cells = draw(st.sampled_from([CELLS, PLAIN_CELLS, PLAIN_CELLS]))
    if long:
        header = ["item", "annotator", "label"] + (["note"] if draw(st.booleans()) else [])
        ids = st.sampled_from(["i1", "i2", " i1", "i3", ""])
        who = st.sampled_from(["ann", "bob", "bob ", "eve", ""])
        row = st.tuples(ids, who, cells, cells).map(lambda r: list(r[: len(header)]))
    else:
        width = draw(st.integers(2, 4))
        header = draw(st.sampled_from([["unit"], ["ID"], []]))
        header = header + [f"c{n}" for n in range(width - len(header))]
        unit = st.sampled_from(["u1", "u2", "u3", "u4", " u4", "u5 ", "", "u\u00a0", "u"])
        first = unit if header[0] in ("unit", "ID") else cells
        row = st.tuples(first, st.lists(cells, min_size=width - 1, max_size=width - 1))
        row = row.map(lambda r: [r[0], *r[1]])
    rows = draw(st.lists(row, min_size=0, max_size=8))
    if rows and draw(st.integers(0, 3)) == 0:  # a ragged row
        rows[draw(st.integers(0, len(rows) - 1))].append("x")
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    csv.writer(out, quoting=quoting, lineterminator=ending).writerows([header, *rows])
    text = out.getvalue()
    if draw(st.booleans()):  # blank lines
        text = text.replace(ending, ending * 2, 2)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8")


def check_same(data: bytes, long: bool) -> LabelTable | None:
    fast = read_columns(data, ",", SOURCE, "long" if long else None, LongColumns(), False)
    expected = row_reader(data, long)
    if fast is not None:
        assert expected is not None, "the column reader accepted a file the row reader rejects"
        assert decoded(fast) == expected
    return fast


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files(long=False))
def test_wide_files_read_the_same(data: bytes) -> None:
    check_same(data, long=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files(long=True))
def test_long_files_read_the_same(data: bytes) -> None:
    check_same(data, long=True)


@pytest.mark.parametrize(
    "text",
    [
        "unit,a,b\nu1,x,y\nu2,,y\n",
        "unit,a,b\r\nu1, x ,y\r\n\r\nu2,x,\r\n",  # CRLF, a blank line, cells to strip
        '"unit","a","b"\n"u1","x","y"\n"u2","","y"\n',  # quoted, as R's write.csv
        "\ufeffa,b,c\nx,x,y\n1,2,3",  # BOM, no unit ids, no final newline
    ],
)
def test_plain_wide_files_take_the_column_reader(text: str) -> None:
    assert check_same(text.encode(), long=False) is not None


def test_plain_long_file_takes_the_column_reader() -> None:
    text = "item,annotator,label,note\ni2,bob,x,\ni1, ann ,y,z\ni1,bob,,\ni2,ann,x,q\n"
    table = check_same(text.encode(), long=True)
    assert table is not None
    assert table.coders == ["bob", "ann"]  # order of first appearance
    assert decoded(table)[1] == [["x", "x"], [None, "y"]]  # items i2, i1


@pytest.mark.parametrize(
    "text",
    [
        'unit,a,b\nu1,"x,y",z\n',  # a delimiter inside quotes
        'unit,a,b\nu1,"x\ny",z\n',  # a line break inside quotes
        'unit,a,b\nu1,x"y,z\n',  # a quote inside a cell
        "unit,a,b\nu1,x\n",  # ragged
        "unit,a,b\nu1,x,y\nu1,x,y\n",  # repeated unit id
        "unit,a,b\nu1,x,y\n u1,x,y\n",  # repeated once stripped
        "unit,a,a\nu1,x,y\n",  # repeated column name
        "unit,a,b\rfoo\n",  # a lone carriage return
    ],
)
def test_files_with_something_unusual_go_to_the_row_reader(text: str) -> None:
    assert check_same(text.encode(), long=False) is None
