"""The ingest hot path's storage: batched inserts that skip stored content."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from annotary.services.projects import create_project
from annotary.storage.db import Database, read_session
from annotary.storage.item_store import ItemStore, NewItem, is_deadlock
from annotary.storage.models import Project
from tests.conftest import on_postgresql
from tests.services.helpers import sentiment_project


def new_item(project_id: int, digest: str) -> NewItem:
    return NewItem(
        project_id, "text", '{"text": "x"}', digest, "{}", None, None, None, "queued", 0.0, False,
        None, None, "2026-11-29 12:00:00.000000",
    )  # fmt: skip


def project_id(db: Database) -> int:
    create_project(db, sentiment_project())
    with read_session(db.sessions) as session:
        found = session.scalar(select(Project.id))
    assert found is not None
    return found


def test_insert_skips_stored_content_and_reports_new_ids(db: Database) -> None:
    pid = project_id(db)
    with db.engine.begin() as conn:
        added, ids = ItemStore(conn).insert([new_item(pid, "a"), new_item(pid, "b")], True)
    assert added == 2 and set(ids) == {"a", "b"}
    with db.engine.begin() as conn:
        store = ItemStore(conn)
        added, ids = store.insert([new_item(pid, "b"), new_item(pid, "c")], True)
        assert store.existing_hashes(pid, ["a", "c", "z"]) == {"a", "c"}
    assert added == 1 and "c" in ids


@pytest.mark.skipif(not on_postgresql(), reason="row-level deadlocks: PostgreSQL only")
def test_a_deadlock_between_two_imports_is_recognized(db: Database) -> None:
    # Two imports inserting the same content in opposite orders wait on each
    # other; PostgreSQL aborts one, and the import runs that batch again.
    pid = project_id(db)
    first, second = db.engine.connect(), db.engine.connect()
    errors: list[DBAPIError] = []

    def insert(conn_name: str, digest: str) -> None:
        conn = first if conn_name == "first" else second
        try:
            ItemStore(conn).insert([new_item(pid, digest)])
        except DBAPIError as error:
            errors.append(error)
            conn.rollback()

    try:
        first.begin()
        second.begin()
        insert("first", "x")
        insert("second", "y")
        waiting = threading.Thread(target=insert, args=("first", "y"))
        waiting.start()
        insert("second", "x")
        if not errors:
            second.commit()
        waiting.join(timeout=30)
    finally:
        first.close()
        second.close()
    assert len(errors) == 1 and is_deadlock(errors[0])
