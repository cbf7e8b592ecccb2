from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from annotary.core.ingest.mapping import ImportOptions
from annotary.errors import Invalid
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import AuditEvent, GoldAnswer, ImportBatch, Item, Prelabel
from tests.services.helpers import sentiment_project, write_jsonl

TEXT = ImportOptions(kind="text")


def counts(db: Database) -> dict[str, int]:
    with read_session(db.sessions) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, Prelabel, GoldAnswer, ImportBatch, AuditEvent)
        }


@pytest.fixture
def project(db: Database) -> str:
    return create_project(db, sentiment_project()).name


def test_import_jsonl_then_reimport_adds_nothing(db: Database, project: str, tmp_path: Path):
    rows = [{"text": f"review number {i}", "id": i, "metadata": {"src": "web"}} for i in range(50)]
    rows.append({"text": "review number 3", "id": "dup"})  # exact duplicate content
    source = write_jsonl(tmp_path / "reviews.jsonl", rows)

    first = import_items(db, project, source, TEXT, batch_size=16)
    assert (first.rows_read, first.items_added, first.duplicates, first.rejected) == (51, 50, 1, 0)
    second = import_items(db, project, source, TEXT, batch_size=7)
    assert (second.items_added, second.duplicates) == (0, 51)
    assert counts(db)["items"] == 50
    with read_session(db.sessions) as session:
        item = session.scalars(select(Item).where(Item.external_id == "7")).one()
    assert item.content == {"text": "review number 7"}
    assert item.meta == {"src": "web"}
    assert item.status == "queued" and item.kind == "text"


def test_abort_reports_every_bad_line_and_stores_nothing(
    db: Database, project: str, tmp_path: Path
):
    rows: list[object] = [{"text": f"ok {i}"} for i in range(20)]
    rows[4] = "{not json"
    rows[11] = {"body": "no text column"}
    rows[17] = {"text": "fine", "gold": {"sentiment": "angry"}}
    source = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = counts(db)

    with pytest.raises(Invalid) as raised:
        import_items(db, project, source, TEXT, batch_size=3, on_error="abort")

    error = raised.value
    assert error.code == "E301"
    assert [d.location for d in error.details] == ["bad.jsonl:5", "bad.jsonl:12", "bad.jsonl:18"]
    assert "missing column 'text'" in error.details[1].reason
    assert "gold.sentiment" in error.details[2].reason
    assert "not in the label set" in error.details[2].reason
    assert counts(db) == before
    assert not (tmp_path / "bad.jsonl.rejects.jsonl").exists()


def test_skip_keeps_good_rows_and_writes_rejects(db: Database, project: str, tmp_path: Path):
    rows: list[object] = [{"text": f"ok {i}"} for i in range(10)]
    rows[2] = "[1, 2]"
    rows[6] = {"text": ""}
    source = write_jsonl(tmp_path / "mixed.jsonl", rows)

    report = import_items(db, project, source, TEXT, batch_size=4, on_error="skip")

    assert (report.items_added, report.rejected) == (8, 2)
    assert report.rejects_path == str(tmp_path / "mixed.jsonl.rejects.jsonl")
    rejects = [orjson.loads(line) for line in Path(report.rejects_path).read_bytes().splitlines()]
    assert [r["line"] for r in rejects] == [3, 7]
    assert rejects[1]["record"] == {"text": ""}
    assert counts(db)["items"] == 8


def test_prelabels_and_gold_are_stored_with_their_items(db: Database, project: str, tmp_path: Path):
    rows = [
        {
            "text": "great product",
            "prelabels": [
                {"model": "rules-v1", "annotation": {"sentiment": "positive"}, "confidence": 0.9}
            ],
        },
        {"text": "meh", "gold": {"sentiment": "neutral"}, "gold_reason": "no opinion"},
        {"text": "plain"},
    ]
    source = write_jsonl(tmp_path / "labelled.jsonl", rows)
    report = import_items(db, project, source, TEXT)
    assert (report.prelabels_added, report.gold_added) == (1, 1)
    with read_session(db.sessions) as session:
        prelabel = session.scalars(select(Prelabel)).one()
        gold = session.scalars(select(GoldAnswer)).one()
        gold_item = session.get(Item, gold.item_id)
        prelabel_item = session.get(Item, prelabel.item_id)
    assert prelabel.model == "rules-v1" and prelabel.confidence == 0.9
    assert prelabel_item is not None and prelabel_item.content == {"text": "great product"}
    assert gold.answer == {"sentiment": "neutral"} and gold.reason == "no opinion"
    assert gold_item is not None and gold_item.is_gold and gold_item.status == "gold"


def test_csv_json_and_parquet_sources(db: Database, project: str, tmp_path: Path):
    csv_path = tmp_path / "rows.csv"
    with csv_path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["body", "lang"])
        writer.writerows([["from csv one", "en"], ["from csv\ntwo lines", "de"]])
    json_path = tmp_path / "rows.json"
    json_path.write_bytes(orjson.dumps([{"text": "from json"}, {"text": "from csv one"}]))
    parquet_path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"text": ["from parquet 1", "from parquet 2"]}), parquet_path)

    csv_report = import_items(
        db,
        project,
        csv_path,
        ImportOptions(kind="text", fields={"text": "body"}, metadata_keys=("lang",)),
    )
    json_report = import_items(db, project, json_path, TEXT)
    parquet_report = import_items(db, project, parquet_path, TEXT)

    assert csv_report.items_added == 2
    assert (json_report.items_added, json_report.duplicates) == (1, 1)
    assert parquet_report.items_added == 2
    with read_session(db.sessions) as session:
        item = session.scalars(select(Item).where(Item.meta["lang"].as_string() == "de")).one()
    assert item.content == {"text": "from csv\ntwo lines"}


def test_conversation_decomposition_links_turn_items(db: Database, tmp_path: Path):
    create_project(db, sentiment_project("chats", kind="conversation"))
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello, how can I help?"},
    ]
    other = [turns[0], {"role": "assistant", "content": "what do you want?"}]
    source = write_jsonl(tmp_path / "chats.jsonl", [{"turns": turns}, {"messages": other}])
    options = ImportOptions(kind="conversation", decompose_turns=True)

    report = import_items(db, "chats", source, options)
    again = import_items(db, "chats", source, options)

    assert (report.items_added, report.child_items_added) == (2, 4)
    assert (again.items_added, again.child_items_added) == (0, 0)
    with read_session(db.sessions) as session:
        parents = session.scalars(select(Item).where(Item.parent_id.is_(None))).all()
        children = session.scalars(
            select(Item).where(Item.parent_id.is_not(None)).order_by(Item.id)
        ).all()
    assert {p.status for p in parents} == {"decomposed"}
    assert len(children) == 4
    assert all(c.kind == "turn" and c.status == "queued" for c in children)
    first_parent_children = [c for c in children if c.parent_id == parents[0].id]
    assert [c.turn_index for c in first_parent_children] == [0, 1]
    assert first_parent_children[1].content["turns"] == turns


def test_unknown_project_and_missing_file(db: Database, project: str, tmp_path: Path):
    source = write_jsonl(tmp_path / "x.jsonl", [{"text": "a"}])
    with pytest.raises(Invalid) as missing:
        import_items(db, project, tmp_path / "nope.jsonl", TEXT)
    assert missing.value.code == "E304"
    from annotary.errors import NotFound

    with pytest.raises(NotFound):
        import_items(db, "nope", source, TEXT)
    assert counts(db)["items"] == 0


def test_import_memory_stays_flat_as_the_file_grows(db: Database, tmp_path: Path) -> None:
    import tracemalloc

    create_project(db, sentiment_project("flat"))

    def peak_for(rows: int, name: str) -> int:
        source = write_jsonl(
            tmp_path / name, [{"text": f"{name} row {i} " + "x" * 150} for i in range(rows)]
        )
        tracemalloc.start()
        import_items(db, "flat", source, TEXT, batch_size=500)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small = peak_for(2_000, "small.jsonl")
    large = peak_for(16_000, "large.jsonl")  # 8x the rows
    assert large < small * 1.5, (small, large)
