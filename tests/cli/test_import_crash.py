"""An import killed mid-run, for real: what stays, and what a re-run does."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from annotary.services.projects import create_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import GoldAnswer, ImportBatch, Item, Prelabel
from tests.cli.runner import ANNOTARY, run
from tests.services.helpers import sentiment_project

ROWS = 30_000


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    create_project(database, sentiment_project())
    yield database
    database.dispose()


def write_rows(path: Path) -> Path:
    """Every 10th row has a gold answer, the one after it a pre-label."""
    with path.open("wb") as out:
        for i in range(ROWS):
            row: dict[str, object] = {"id": i, "text": f"review {i} " + "words " * 20}
            if i % 10 == 0:
                row["gold"] = {"sentiment": "neutral"}
            elif i % 10 == 1:
                row["prelabel"] = {"sentiment": "positive"}
            out.write(orjson.dumps(row) + b"\n")
    return path


def items_stored(db: Database) -> int:
    with read_session(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def start_and_stop(
    db: Database, db_url: str, source: Path, stop: signal.Signals
) -> tuple[int, str]:
    """Start `annotary import`, send `stop` once some batches are in; (exit code, stderr)."""
    process = subprocess.Popen(
        [ANNOTARY, "import", "reviews", str(source), "--db", db_url, "--batch-size", "100"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while items_stored(db) < 500 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    stored = items_stored(db)
    assert 0 < stored < ROWS, f"not stopped mid-run ({stored} items stored)"
    return process.returncode, stderr


def assert_every_item_complete(db: Database) -> None:
    """Gold items carry their gold answer, pre-labelled rows their pre-label."""
    with read_session(db.sessions) as session:
        ids = [int(i) for i in session.scalars(select(Item.external_id))]
        gold = session.scalar(select(func.count()).select_from(GoldAnswer))
        prelabels = session.scalar(select(func.count()).select_from(Prelabel))
    assert len(ids) == len(set(ids))
    assert gold == sum(1 for i in ids if i % 10 == 0)
    assert prelabels == sum(1 for i in ids if i % 10 == 1)


def batches(db: Database) -> list[tuple[str, int]]:
    with read_session(db.sessions) as session:
        rows = session.execute(
            select(ImportBatch.state, ImportBatch.items_added).order_by(ImportBatch.id)
        )
        return [(state, added) for state, added in rows]


def test_killed_import_keeps_complete_items_and_a_rerun_adds_exactly_the_rest(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "reviews.jsonl")

    code, _ = start_and_stop(db, db_url, source, signal.SIGKILL)

    assert code == -signal.SIGKILL
    stored = items_stored(db)
    assert_every_item_complete(db)
    # The batch row was written with the items: its count is what is stored.
    assert batches(db) == [("running", stored)]

    again = run("import", "reviews", str(source), "--db", db_url, "--json")

    assert again.returncode == 0, again.stderr
    report = orjson.loads(again.stdout)
    assert (report["items_added"], report["duplicates"]) == (ROWS - stored, stored)
    assert items_stored(db) == ROWS
    assert_every_item_complete(db)
    assert batches(db) == [("interrupted", stored), ("done", ROWS - stored)]


def test_interrupted_import_says_what_it_stored(db: Database, db_url: str, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "reviews.jsonl")

    code, stderr = start_and_stop(db, db_url, source, signal.SIGINT)

    assert code == 130, stderr
    stored = items_stored(db)
    assert f"interrupted: {stored} item(s) of reviews.jsonl were stored" in stderr
    assert "Traceback" not in stderr
    assert batches(db) == [("interrupted", stored)]
    assert_every_item_complete(db)
