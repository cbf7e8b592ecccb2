"""Imports commit in short batches: the queue keeps working during an import,
concurrent imports stay exact, and the batch rows record what happened."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotary.core.ingest.mapping import ImportOptions
from annotary.errors import Conflict
from annotary.services.imports import import_items
from annotary.services.queue.serving import next_task
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    AuditEvent,
    GoldAnswer,
    ImportBatch,
    Item,
    Prelabel,
    Project,
    utcnow,
)
from tests.services.helpers import write_jsonl
from tests.services.queue_world import FixedDraw, build_world

TEXT = ImportOptions(kind="text")


def item_count(db: Database) -> int:
    with read_session(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def test_next_task_and_readers_get_the_database_between_batches(
    db: Database, tmp_path: Path
) -> None:
    # Before: the whole import was one write transaction, so next task waited
    # for its end (SQLite) and nobody saw any of its items before it finished.
    world = build_world(db, tmp_path, rows=[{"text": "already queued"}])
    source = write_jsonl(tmp_path / "big.jsonl", [{"text": f"row {i}"} for i in range(3000)])
    served: list[bool] = []
    seen: list[int] = []

    def during_import(_done: int) -> None:
        served_in_time = threading.Event()

        def serve() -> None:
            next_task(db, world.actors["ann1"], "queue", FixedDraw(0.99))
            served_in_time.set()

        worker = threading.Thread(target=serve, daemon=True)
        workers.append(worker)
        worker.start()
        served.append(served_in_time.wait(timeout=10))
        seen.append(item_count(db))

    workers: list[threading.Thread] = []
    report = import_items(db, "queue", source, TEXT, batch_size=500, progress=during_import)
    for worker in workers:
        worker.join(timeout=60)

    assert report.items_added == 3000
    assert served and all(served)
    # Committed batches are visible at once (abort mode: after the check of the file).
    assert seen == sorted(seen) and any(1 < n < 3001 for n in seen)
    assert item_count(db) == 3001


def test_batch_row_tracks_the_import(db: Database, tmp_path: Path) -> None:
    build_world(db, tmp_path, rows=[])
    rows: list[object] = [{"text": f"row {i}"} for i in range(25)]
    rows.append({"text": "row 3"})
    rows.append("{broken")
    source = write_jsonl(tmp_path / "rows.jsonl", rows)

    report = import_items(db, "queue", source, TEXT, batch_size=4, on_error="skip")

    with read_session(db.sessions) as session:
        batch = session.get(ImportBatch, report.batch_id)
        assert batch is not None
        stored = session.scalar(
            select(func.count()).select_from(Item).where(Item.import_batch_id == batch.id)
        )
    assert (batch.state, batch.rows_read, batch.items_added) == ("done", 27, 25)
    assert (batch.duplicates, batch.rejected, stored) == (1, 1, 25)
    assert batch.finished_at is not None and batch.runner is not None


def test_abort_mode_stores_nothing_when_the_file_changes_after_the_check(
    db: Database, tmp_path: Path
) -> None:
    build_world(db, tmp_path, rows=[])
    source = write_jsonl(tmp_path / "rows.jsonl", [{"text": f"row {i}"} for i in range(20)])

    def edit_during_check(_done: int) -> None:
        with source.open("ab") as out:  # a good row, but not the file that was checked
            out.write(b'{"text": "added while checking"}\n')

    with pytest.raises(Conflict) as raised:
        import_items(db, "queue", source, TEXT, batch_size=5, progress=edit_during_check)

    assert raised.value.code == "E305"
    assert item_count(db) == 0
    with read_session(db.sessions) as session:
        sources = session.scalars(select(ImportBatch.source)).all()
    assert sources == ["items.jsonl"]  # the world's own (empty) import only


def test_concurrent_imports_of_overlapping_files_store_each_item_once(
    db: Database, tmp_path: Path
) -> None:
    build_world(db, tmp_path, rows=[])
    rows = [
        {"text": f"shared {i}", "gold": {"sentiment": "neutral"}}
        if i % 7 == 0
        else {
            "text": f"shared {i}",
            "prelabel": {"sentiment": "positive"},
        }
        for i in range(1200)
    ]
    forward = write_jsonl(tmp_path / "forward.jsonl", [*rows, {"text": "only forward"}])
    # Reversed: on PostgreSQL the two imports meet each other's rows in opposite
    # orders, which can deadlock; the batch that loses is run again.
    backward = write_jsonl(tmp_path / "backward.jsonl", [*rows[::-1], {"text": "only back"}])
    reports = {}
    failures: list[BaseException] = []

    def run(path: Path) -> None:
        try:
            reports[path.name] = import_items(db, "queue", path, TEXT, batch_size=50)
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(path,)) for path in (forward, backward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    added = sum(r.items_added for r in reports.values())
    assert added == 1202 == item_count(db)
    assert all(r.items_added + r.duplicates == 1201 for r in reports.values())
    with read_session(db.sessions) as session:
        gold = session.scalar(select(func.count()).select_from(GoldAnswer))
        prelabels = session.scalar(select(func.count()).select_from(Prelabel))
        gold_items = session.scalar(
            select(func.count()).select_from(Item).where(Item.status == "gold")
        )
    assert gold == gold_items == len(range(0, 1200, 7))
    assert prelabels == 1200 - gold
    assert sum(r.gold_added for r in reports.values()) == gold
    assert sum(r.prelabels_added for r in reports.values()) == prelabels


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_next_import_closes_the_imports_of_dead_processes(db: Database, tmp_path: Path) -> None:
    build_world(db, tmp_path, rows=[])
    now = utcnow()
    here = socket.gethostname()
    with write_transaction(db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == "queue"))
        assert project_id is not None
        for source, runner, beat in (
            ("killed.jsonl", f"{here}:{dead_pid()}", now),  # its process is gone
            ("gone.jsonl", "elsewhere:1", now - timedelta(hours=1)),  # silent for an hour
            ("remote.jsonl", "elsewhere:2", now),  # another host, beating: alive
            ("here.jsonl", f"{here}:{os.getpid()}", now),  # this very process
        ):
            session.add(
                ImportBatch(
                    project_id=project_id,
                    source=source,
                    state="running",
                    runner=runner,
                    heartbeat_at=beat,
                    items_added=3,
                )
            )

    import_items(db, "queue", write_jsonl(tmp_path / "new.jsonl", [{"text": "x"}]), TEXT)

    with read_session(db.sessions) as session:
        states = dict(session.execute(select(ImportBatch.source, ImportBatch.state)).all())
        events = session.scalars(
            select(AuditEvent.target).where(AuditEvent.action == "items.import_interrupted")
        ).all()
    assert states == {
        "items.jsonl": "done",  # the world's own import
        "killed.jsonl": "interrupted",
        "gone.jsonl": "interrupted",
        "remote.jsonl": "running",
        "here.jsonl": "running",
        "new.jsonl": "done",
    }
    assert len(events) == 2
