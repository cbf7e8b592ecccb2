"""SQLite writers of different processes take turns (always a SQLite file)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from annotary.storage.db import Database, write_transaction

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
