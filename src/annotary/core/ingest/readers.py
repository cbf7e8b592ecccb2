"""Streaming record readers for JSONL, JSON, CSV/TSV and Parquet files (SPEC 3).

Each reader yields one `Record` per source record, in order, with the exact
place it came from (a 1-based line, or a row for Parquet) so a bad row can be
reported where the user will find it. A record that cannot be parsed is still
yielded, with `data=None` and the reason in `error`; the caller decides whether
the import stops or skips it. Memory stays flat whatever the file size: nothing
reads a whole file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

import orjson

from annotary.core.ingest.json_array import JsonArrayStream, json_type
from annotary.errors import E_IMPORT_FILE_UNREADABLE, E_IMPORT_FORMAT, Invalid, Unavailable, quote

FORMATS: Final = ("jsonl", "json", "csv", "tsv", "parquet")
EXTENSIONS: Final = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
}
CHUNK_SIZE: Final = 1 << 20
JSONL_CHUNK_SIZE: Final = 1 << 16
PARQUET_BATCH_ROWS: Final = 8192

_BOM: Final = codecs.BOM_UTF8
_NOT_READ: Final = "the rest of the file was not read"


class Record(NamedTuple):
    """One source record: where it starts, its data or why it could not be parsed.

    `number` is the 1-based line where the record starts (JSONL, JSON, CSV) or
    the 1-based row (Parquet). `position` is how many bytes of the file have been
    consumed, for a progress bar (approximate for JSON and Parquet). A NamedTuple:
    one is made per row of the file, and a tuple is the cheapest to make.
    """

    number: int
    data: dict[str, Any] | None
    error: str | None
    position: int


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The format to read `path` with: `fmt` when given, else from the extension."""
    if fmt is None:
        detected = EXTENSIONS.get(path.suffix.lower())
        if detected is None:
            raise Invalid(
                E_IMPORT_FORMAT,
                f"cannot tell the format of {path.name!r} from its extension; "
                f"valid extensions: {', '.join(EXTENSIONS)} (or give the format: "
                f"{', '.join(FORMATS)})",
            )
        return detected
    if fmt not in FORMATS:
        raise Invalid(E_IMPORT_FORMAT, f"unknown format {quote(fmt)}; valid: {', '.join(FORMATS)}")
    if fmt == "csv" and path.suffix.lower() == ".tsv":
        return "tsv"
    return fmt


def total_size(path: Path) -> int:
    """Size of the file in bytes: the end point of `Record.position`."""
    try:
        return path.stat().st_size
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def read_records(path: Path, fmt: str | None = None) -> Iterator[Record]:
    """Stream the records of a JSONL, JSON, CSV/TSV or Parquet file.

    The format and the file are checked now (Invalid E302, Unavailable E304);
    records are read lazily as the iterator is consumed.
    """
    resolved = detect_format(path, fmt)
    if not path.is_file():
        raise Unavailable(E_IMPORT_FILE_UNREADABLE, f"cannot read {str(path)!r}: not a file")
    if resolved == "jsonl":
        return _read_jsonl(path)
    if resolved == "json":
        return _read_json_array(path)
    if resolved == "parquet":
        return _read_parquet(path)
    return _read_csv(path, "\t" if resolved == "tsv" else ",")


def _unreadable(path: Path, exc: OSError) -> Unavailable:
    return Unavailable(
        E_IMPORT_FILE_UNREADABLE, f"cannot read {str(path)!r}: {exc.strerror or exc}"
    )


def _not_an_object(value: Any) -> str:
    return f"expected a JSON object, got {json_type(value)}"


# -- JSONL ------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[Record]:
    # Read in chunks and split them: about a third faster than line by line.
    loads = orjson.loads
    position = 0
    number = 0
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with file:
        read = file.read
        tail: list[bytes] = []  # the start of a line the chunk ended in
        while True:
            chunk = read(JSONL_CHUNK_SIZE)
            if chunk:
                lines = chunk.split(b"\n")
                if tail:
                    tail.append(lines[0])
                    if len(lines) == 1:
                        continue  # a line longer than a chunk
                    lines[0] = b"".join(tail)
                tail = [lines.pop()]
                ending = 1  # each line ends in a newline
            else:
                lines = [b"".join(tail)] if tail else []
                ending = 0  # the last line, if any, does not
            for line in lines:
                number += 1
                position += len(line) + ending
                if number == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                if not line or line.isspace():
                    continue
                try:
                    data = loads(line)
                except orjson.JSONDecodeError as exc:
                    yield Record(number, None, f"invalid JSON: {exc}", position)
                    continue
                if type(data) is dict:
                    yield Record(number, data, None, position)
                else:
                    yield Record(number, None, _not_an_object(data), position)
            if not chunk:
                return


# -- JSON array -----------------------------------------------------------------------


def _read_json_array(path: Path) -> Iterator[Record]:
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with file:
        for line, value, error, position in JsonArrayStream(file, CHUNK_SIZE).elements():
            if error is not None:
                yield Record(line, None, error, position)
            elif type(value) is dict:
                yield Record(line, value, None, position)
            else:
                yield Record(line, None, _not_an_object(value), position)


# -- CSV / TSV ------------------------------------------------------------------------


class _DecodedLines:
    """Lines of a binary file decoded as UTF-8 (BOM dropped), counting bytes and lines."""

    def __init__(self, file: IO[bytes]) -> None:
        self._lines = iter(file)
        self.position = 0
        self.lines = 0

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.position += len(raw)
        self.lines += 1
        return raw.decode("utf-8-sig" if self.lines == 1 else "utf-8")


def _read_csv(path: Path, delimiter: str) -> Iterator[Record]:
    # Long texts are normal here; the default 128 KiB field limit is not.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    try:
        file = path.open("rb")
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with file:
        lines = _DecodedLines(file)
        reader = csv.reader(lines, delimiter=delimiter)
        header: list[str] | None = None
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                reason = f"line {lines.lines + 1} is not valid UTF-8 ({exc.reason}); {_NOT_READ}"
                yield Record(start, None, reason, lines.position)
                return
            except csv.Error as exc:
                yield Record(start, None, f"invalid CSV: {exc}; {_NOT_READ}", lines.position)
                return
            if not any(row):
                continue
            if header is None:
                header = [name.strip() for name in row]
                duplicates = sorted({n for n in header if n and header.count(n) > 1})
                if duplicates:
                    reason = (
                        f"the header repeats column names: {', '.join(duplicates)}; "
                        f"column names must be unique"
                    )
                    yield Record(start, None, reason, lines.position)
                    return
                continue
            if len(row) > len(header) and any(row[len(header) :]):
                reason = (
                    f"the row has {len(row)} cells but the header has {len(header)} columns "
                    f"(a value with an unquoted {'tab' if delimiter == chr(9) else 'comma'}?)"
                )
                yield Record(start, None, reason, lines.position)
                continue
            # An empty cell is an absent value, not an empty string; unnamed columns
            # (e.g. a pandas index) are dropped.
            data = {name: value for name, value in zip(header, row, strict=False) if value and name}
            yield Record(start, data, None, lines.position)


# -- Parquet -------------------------------------------------------------------------


def _plain_value(value: Any) -> Any:
    """A JSON-friendly form of Arrow's temporal and decimal values."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _read_parquet(path: Path) -> Iterator[Record]:
    import pyarrow as pa  # imported lazily: pyarrow is slow to import
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except pa.ArrowException as exc:
        raise Invalid(
            E_IMPORT_FILE_UNREADABLE, f"cannot read {path.name!r} as Parquet: {exc}"
        ) from exc
    size = total_size(path)
    total_rows = max(1, parquet.metadata.num_rows)
    convert = [
        field.name
        for field in parquet.schema_arrow
        if pa.types.is_temporal(field.type) or pa.types.is_decimal(field.type)
    ]
    number = 0
    with parquet:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            has_nulls = any(column.null_count for column in batch.columns)
            for row in batch.to_pylist():
                number += 1
                if has_nulls:
                    row = {key: value for key, value in row.items() if value is not None}
                for name in convert:
                    if name in row:
                        row[name] = _plain_value(row[name])
                yield Record(number, row, None, size * number // total_rows)
