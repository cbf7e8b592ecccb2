"""Record readers: every format, bad rows with exact line numbers, streaming memory."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotary.core.ingest import readers
from annotary.core.ingest.readers import Record, detect_format, read_records, total_size
from annotary.errors import Invalid, Unavailable


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def summary(records: list[Record]) -> list[tuple[int, dict[str, object] | None, bool]]:
    return [(r.number, r.data, r.error is not None) for r in records]


# -- format detection ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.json", "json"),
        ("a.csv", "csv"),
        ("a.tsv", "tsv"),
        ("a.parquet", "parquet"),
    ],
)
def test_format_from_extension(name: str, expected: str) -> None:
    assert detect_format(Path(name)) == expected


def test_unknown_extension_names_the_valid_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", '{"text": "a"}\n')
    with pytest.raises(Invalid) as caught:
        read_records(path)
    assert caught.value.code == "E302"
    assert "jsonl" in caught.value.message
    assert "parquet" in caught.value.message


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", '{"text": "a"}\n')
    assert [r.data for r in read_records(path, "jsonl")] == [{"text": "a"}]


def test_unknown_explicit_format_is_invalid(tmp_path: Path) -> None:
    path = write(tmp_path / "data.jsonl", "")
    with pytest.raises(Invalid) as caught:
        read_records(path, "xml")
    assert caught.value.code == "E302"
    assert "csv" in caught.value.message


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as caught:
        read_records(tmp_path / "nope.jsonl")
    assert caught.value.code == "E304"
    with pytest.raises(Unavailable):
        total_size(tmp_path / "nope.jsonl")


# -- JSONL ---------------------------------------------------------------------------


def test_jsonl_reports_bad_lines_with_their_numbers(tmp_path: Path) -> None:
    text = '\ufeff{"text": "one"}\n\n{"text": oops}\n[1, 2]\r\n{"text": "five"}\n'
    path = write(tmp_path / "data.jsonl", text)
    records = list(read_records(path))
    assert summary(records) == [
        (1, {"text": "one"}, False),
        (3, None, True),
        (4, None, True),
        (5, {"text": "five"}, False),
    ]
    assert records[1].error is not None
    assert records[1].error.startswith("invalid JSON")
    assert records[2].error == "expected a JSON object, got an array"
    assert records[-1].position == total_size(path)
    assert [r.position for r in records] == sorted(r.position for r in records)


def test_jsonl_without_final_newline(tmp_path: Path) -> None:
    path = write(tmp_path / "data.jsonl", '{"a": 1}\n{"a": 2}')
    assert [(r.number, r.data) for r in read_records(path)] == [(1, {"a": 1}), (2, {"a": 2})]


# -- JSON array ------------------------------------------------------------------------


def test_jsonl_survives_any_chunk_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # JSONL is read in chunks split into lines: a line cut by a chunk's end,
    # or longer than several chunks, still comes out whole, numbered and placed.
    raw = (
        b"\xef\xbb\xbf" + b'{"text": "first"}\r\n'
        + b"\n   \n"
        + b'{"text": "' + "héllo ✓ ".encode() * 9 + b'"}\n'
        + b"[1, 2]\n"
        + b'{"text": "last, no newline"}'
    )  # fmt: skip
    path = tmp_path / "chunks.jsonl"
    path.write_bytes(raw)
    ends = [len(b"\n".join(raw.split(b"\n")[:n])) + 1 for n in range(1, 6)]  # after line n
    expected = [
        (1, {"text": "first"}, None, ends[0]),
        (4, {"text": "héllo ✓ " * 9}, None, ends[3]),
        (5, None, "expected a JSON object, got an array", ends[4]),
        (6, {"text": "last, no newline"}, None, len(raw)),
    ]
    for chunk_size in [*range(1, 70), 4096]:
        monkeypatch.setattr(readers, "JSONL_CHUNK_SIZE", chunk_size)
        records = [tuple(record) for record in read_records(path)]
        assert records == expected, chunk_size


def test_json_array_gives_each_element_its_starting_line(tmp_path: Path) -> None:
    text = '[\n  {"text": "a"},\n  {\n    "text": "b\\nstill b"\n  },\n  42,\n  {"text": "c"}\n]\n'
    path = write(tmp_path / "data.json", text)
    records = list(read_records(path))
    assert summary(records) == [
        (2, {"text": "a"}, False),
        (3, {"text": "b\nstill b"}, False),
        (6, None, True),
        (7, {"text": "c"}, False),
    ]
    assert records[2].error == "expected a JSON object, got a number"
    positions = [r.position for r in records]
    assert positions == sorted(positions)
    assert 0 < positions[0] < positions[-1] <= total_size(path)


def test_truncated_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "data.json", '[{"text": "a"},\n{"text": "b"},\n{"text": "c')
    records = list(read_records(path))
    assert summary(records) == [
        (1, {"text": "a"}, False),
        (2, {"text": "b"}, False),
        (3, None, True),
    ]
    assert "truncated" in (records[-1].error or "")


def test_unclosed_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "data.json", '[{"text": "a"},\n')
    records = list(read_records(path))
    assert [r.number for r in records] == [1, 2]
    assert "not closed" in (records[-1].error or "")


def test_json_syntax_error_stops_at_the_broken_element(tmp_path: Path) -> None:
    text = '[\n{"text": "a"},\n{"text": "b",\n "label": x},\n{"text": "never read"}\n]'
    path = write(tmp_path / "data.json", text)
    records = list(read_records(path))
    assert summary(records) == [(2, {"text": "a"}, False), (3, None, True)]
    error = records[-1].error or ""
    assert "line 4" in error
    assert "not read" in error


def test_json_missing_comma_between_elements(tmp_path: Path) -> None:
    path = write(tmp_path / "data.json", '[{"a": 1}\n {"a": 2}]')
    records = list(read_records(path))
    assert summary(records) == [(1, {"a": 1}, False), (2, None, True)]
    assert "expected ',' or ']'" in (records[-1].error or "")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"text": "a"}', "an object"),
        ('"just a string"', "a string"),
        ("", "empty"),
        ("   \n  ", "empty"),
    ],
)
def test_json_top_level_must_be_an_array(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path / "data.json", text)
    records = list(read_records(path))
    assert len(records) == 1
    assert records[0].number == 1
    assert records[0].data is None
    assert fragment in (records[0].error or "")


def test_json_empty_array_and_trailing_garbage(tmp_path: Path) -> None:
    assert list(read_records(write(tmp_path / "empty.json", " [ ] \n"))) == []
    records = list(read_records(write(tmp_path / "extra.json", '[{"a": 1}]\n\n]')))
    assert summary(records) == [(1, {"a": 1}, False), (3, None, True)]


def test_json_array_survives_any_chunk_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elements = [
        1234567,
        {"ok": True, "n": 12345.678e-3, "none": None, "text": "héllo wörld ✓ 😀"},
        {"text": 'esc \\" \u00e9 \\u00e9 \n', "neg": -0.5, "list": [1, [2, {"x": False}]]},
        {"text": "z" * 100},
    ]
    text = "[" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in elements) + "\n]\n"
    path = write(tmp_path / "data.json", text)
    for chunk_size in [*range(1, 80), 4096]:
        # Every split point of the first elements falls on some chunk boundary.
        monkeypatch.setattr(readers, "CHUNK_SIZE", chunk_size)
        records = list(read_records(path))
        assert [r.number for r in records] == [1, 2, 3, 4], chunk_size
        assert [r.data for r in records] == [None, *elements[1:]], chunk_size
        assert records[0].error == "expected a JSON object, got a number", chunk_size


def test_json_array_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    element = json.dumps({"text": "x" * 2000, "metadata": {"source": "bench"}})
    count = 10_000
    with path.open("w") as out:
        out.write("[\n")
        out.write(",\n".join([element] * count))
        out.write("\n]\n")
    assert total_size(path) > 20_000_000
    tracemalloc.start()
    try:
        seen = 0
        last = None
        for record in read_records(path):
            seen += 1
            last = record
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert last is not None
    assert last.number == count + 1
    assert peak < 8_000_000


# -- CSV / TSV -----------------------------------------------------------------------


def test_csv_start_lines_with_multiline_fields_and_bad_rows(tmp_path: Path) -> None:
    text = (
        "id,text,label\n"  # 1
        '1,"first\nspans\nthree lines",pos\n'  # 2-4
        "2,too,many,cells\n"  # 5
        "\n"  # 6 blank
        '3,"quoted ""x"", fine",\n'  # 7: empty label cell
        "4,,neg,\n"  # 8: empty text, trailing empty extra cell
    )
    path = write(tmp_path / "data.csv", text)
    records = list(read_records(path))
    assert summary(records) == [
        (2, {"id": "1", "text": "first\nspans\nthree lines", "label": "pos"}, False),
        (5, None, True),
        (7, {"id": "3", "text": 'quoted "x", fine'}, False),
        (8, {"id": "4", "label": "neg"}, False),
    ]
    assert "4 cells" in (records[1].error or "")
    assert "3 columns" in (records[1].error or "")
    assert records[-1].position == total_size(path)


def test_csv_bom_crlf_and_unnamed_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", "\ufeff,text\r\n0,hello\r\n1,world\r\n")
    records = list(read_records(path))
    assert [(r.number, r.data) for r in records] == [(2, {"text": "hello"}), (3, {"text": "world"})]


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = write(tmp_path / "data.tsv", "text\tlang\na, b\ten\n")
    assert [r.data for r in read_records(path)] == [{"text": "a, b", "lang": "en"}]
    assert [r.data for r in read_records(path, "csv")] == [{"text": "a, b", "lang": "en"}]


def test_csv_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", "text,text\na,b\n")
    records = list(read_records(path))
    assert len(records) == 1
    assert records[0].number == 1
    assert "text" in (records[0].error or "")


def test_csv_invalid_utf8_stops_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"text\nfine\nbad \xff byte\nnever\n")
    records = list(read_records(path))
    assert summary(records) == [(2, {"text": "fine"}, False), (3, None, True)]
    assert "UTF-8" in (records[-1].error or "")


def test_csv_long_field_is_accepted(tmp_path: Path) -> None:
    long_text = "y" * 300_000
    path = write(tmp_path / "data.csv", f'text\n"{long_text}"\n')
    assert [r.data for r in read_records(path)] == [{"text": long_text}]


# -- Parquet -------------------------------------------------------------------------


def test_parquet_rows_nulls_and_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    table = pa.table(
        {
            "text": ["a", "b", None],
            "score": [1.5, None, 3.0],
            "at": [dt.datetime(2024, 5, 1, 12, 30), None, None],
            "tags": [["x"], [], None],
        }
    )
    pq.write_table(table, path)
    records = list(read_records(path))
    assert summary(records) == [
        (1, {"text": "a", "score": 1.5, "at": "2024-05-01T12:30:00", "tags": ["x"]}, False),
        (2, {"text": "b", "tags": []}, False),
        (3, {"score": 3.0}, False),
    ]
    assert records[-1].position == total_size(path)


def test_parquet_row_numbers_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(25)]}), path)
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 10)
    records = list(read_records(path))
    assert [r.number for r in records] == list(range(1, 26))
    assert records[24].data == {"text": "t24"}


def test_corrupt_parquet_is_invalid(tmp_path: Path) -> None:
    path = write(tmp_path / "data.parquet", "not parquet at all")
    with pytest.raises(Invalid) as caught:
        list(read_records(path))
    assert caught.value.code == "E304"
