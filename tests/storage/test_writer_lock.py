"""SQLite writers of different processes take turns (always a SQLite file)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from annotary.storage.db import (
    Database,
    bulk_write_connection,
    bulk_write_transaction,
    read_session,
    write_transaction,
    writers_waiting,
)

BUSY_WRITER = """
import sys, time
from sqlalchemy import text
from annotary.storage.db import Database, write_transaction

db = Database.from_url(sys.argv[1])
until = time.monotonic() + float(sys.argv[2])
print("writing", flush=True)
while time.monotonic() < until:
    # Back to back, as an import commits batch after batch.
    with write_transaction(db.sessions) as session:
        session.execute(text("INSERT INTO marks (source) VALUES ('busy')"))
        time.sleep(0.05)
db.dispose()
"""


def test_a_writer_gets_its_turn_between_another_process_back_to_back_transactions(
    tmp_path: Path,
) -> None:
    # Before: the waiting writer polled in SQLite's busy handler (sleeps of up
    # to 100 ms) and nearly always found the file locked again: it waited for
    # the other process to stop writing altogether.
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    db = Database.from_url(url)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE marks (id INTEGER PRIMARY KEY, source TEXT)"))
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY_WRITER, url, "8"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert busy.stdout is not None and busy.stdout.readline() == "writing\n"
        time.sleep(0.3)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            with write_transaction(db.sessions) as session:
                waits.append(time.monotonic() - started)
                session.execute(text("INSERT INTO marks (source) VALUES ('test')"))
        assert busy.poll() is None, "the busy writer stopped before the test wrote"
    finally:
        busy.kill()
        busy.wait()
        db.dispose()
    # Each turn comes after at most one of the other's 50 ms transactions.
    assert max(waits) < 1.0, waits


WAITING_WRITER = """
import sys
from sqlalchemy import text
from annotary.storage.db import Database, write_transaction

db = Database.from_url(sys.argv[1])
print("waiting", flush=True)
with write_transaction(db.sessions) as session:
    session.execute(text("INSERT INTO marks (source) VALUES ('other process')"))
db.dispose()
"""


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_bulk_writer_sees_who_waits_for_its_lock(tmp_path: Path) -> None:
    # An import holds a transaction open while no one waits, and commits
    # after its chunk at hand as soon as someone does.
    url = f"sqlite:///{tmp_path / 'waiting.db'}"
    db = Database.from_url(url)
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE marks (id INTEGER PRIMARY KEY, source TEXT)"))
    with bulk_write_connection(db.engine) as conn:
        with bulk_write_transaction(conn):
            assert not writers_waiting(conn)
            thread = threading.Thread(target=insert_mark, args=(db, "other thread"))
            thread.start()
            assert wait_until(lambda: writers_waiting(conn)), "the waiting thread is not seen"
        thread.join(timeout=20)
        assert not thread.is_alive()
        process = subprocess.Popen(
            [sys.executable, "-c", WAITING_WRITER, url], stdout=subprocess.PIPE, text=True
        )
        try:
            with bulk_write_transaction(conn):
                assert process.stdout is not None and process.stdout.readline() == "waiting\n"
                assert wait_until(lambda: writers_waiting(conn)), "the waiting process is not seen"
            assert process.wait(timeout=30) == 0
        finally:
            process.kill()
    with read_session(db.sessions) as session:
        sources = session.scalars(text("SELECT source FROM marks ORDER BY id")).all()
    db.dispose()
    assert sources == ["other thread", "other process"]


def insert_mark(db: Database, source: str) -> None:
    with write_transaction(db.sessions) as session:
        session.execute(text("INSERT INTO marks (source) VALUES (:s)"), {"s": source})
