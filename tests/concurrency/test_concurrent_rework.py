"""Rework under concurrency (SPEC 8): annotators who redo the same item at the same
moment, and a cancel that lands while they work.

Threads call the real services on one `Database` (its pool gives each its own
connection): on PostgreSQL the transactions truly overlap; on SQLite the
queue's writer lock serializes them, as in production.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from annotary.errors import NotFound
from annotary.services.rework import cancel_rework
from annotary.storage.db import Database, read_session
from annotary.storage.models import FinalLabel, Lease
from tests.services.rework_world import World, build, by_external_id, rework_statuses

ITEMS = 24
ROWS = [{"id": f"c{i}", "text": f"Item number {i}."} for i in range(ITEMS)]
POSITIVE = [{"sentiment": "positive"}] * ITEMS


def two_annotators(db: Database, tmp_path: Path) -> World:
    """Overlap 2: ann1 and ann2 agreed on every item; all of them go back for rework."""
    world = build(db, tmp_path, {"ann1": POSITIVE, "ann2": POSITIVE}, overlap=2, items=ROWS)
    assert world.requeue() == ITEMS
    return world


def test_two_annotators_finishing_one_items_rework_at_once(db: Database, tmp_path: Path) -> None:
    """Both submit the last open parts of the same item together, item after item:
    exactly one of them completes each rework."""
    world = two_annotators(db, tmp_path)
    barrier = threading.Barrier(2, timeout=60)
    errors: list[BaseException] = []

    def redo(user: str) -> None:
        try:
            for _ in range(ITEMS):
                task = world.rework_task(user)  # both get the same item, in order
                barrier.wait()
                world.submit(user, task, {"sentiment": "mixed"})
                barrier.wait()
        except BaseException as exc:  # reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=redo, args=(user,)) for user in ("ann1", "ann2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    states = by_external_id(db)
    assert {s["status"] for s in states.values()} == {"finalized"}
    assert {s["final"]["payload"]["sentiment"] for s in states.values()} == {"mixed"}
    assert {s["lease_count"] for s in states.values()} == {0}
    assert rework_statuses(db) == (["done"] * ITEMS, ["done"] * ITEMS * 2)
    with read_session(db.sessions) as session:
        labels = session.scalar(select(func.count()).select_from(FinalLabel))
        highest = session.scalar(select(func.max(FinalLabel.id)))
    assert labels == ITEMS
    if db.engine.dialect.name == "postgresql":
        # Ids come from a sequence: each final label was replaced exactly once.
        assert highest == 2 * ITEMS


def test_a_cancel_amid_submits_leaves_everything_consistent(db: Database, tmp_path: Path) -> None:
    world = two_annotators(db, tmp_path)
    started = threading.Barrier(3, timeout=60)
    errors: list[BaseException] = []
    refused: list[str] = []

    def redo(user: str) -> None:
        try:
            started.wait()
            while (task := world.task(user)) is not None:
                try:
                    world.submit(user, task, {"sentiment": "mixed"})
                except NotFound as gone:  # the cancel took the lease back
                    refused.append(gone.code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=redo, args=(user,)) for user in ("ann1", "ann2")]
    for thread in threads:
        thread.start()
    started.wait()
    cancelled = cancel_rework(db, "versions")
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert set(refused) <= {"E801"}
    reworks, rows = rework_statuses(db)
    assert reworks.count("cancelled") == cancelled
    assert set(reworks) <= {"done", "cancelled"} and "open" not in rows
    states = by_external_id(db)
    # Completed reworks finalized the new answers; cancelled ones went back as they were.
    assert {s["status"] for s in states.values()} == {"finalized"}
    assert {s["lease_count"] for s in states.values()} == {0}
    with read_session(db.sessions) as session:
        assert session.scalars(select(Lease)).all() == []
    for state in states.values():
        assert state["final"]["payload"]["sentiment"] in {"positive", "mixed"}
