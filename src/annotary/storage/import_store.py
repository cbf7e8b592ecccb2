"""The rows of `import_batches`: one per run of import, with its progress.

An import commits in batches; its row is written in the same transactions, so
the counts always describe what is stored. `state` is `running` (with the
process in `runner` and a `heartbeat_at` refreshed by every batch), then `done`
or `interrupted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from annotary.storage.models import ImportBatch

RUNNING = "running"
DONE = "done"
INTERRUPTED = "interrupted"

_batches = cast(Table, ImportBatch.__table__)


@dataclass(frozen=True)
class ImportCounts:
    """What an import has stored so far (the columns of its batch row)."""

    rows_read: int
    items_added: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class RunningImport:
    """A batch row still marked `running`: its process may be alive or dead."""

    id: int
    source: str
    runner: str | None
    heartbeat_at: datetime | None
    counts: ImportCounts


def start_import_batch(
    conn: Connection,
    project_id: int,
    source: str,
    options: dict[str, Any],
    runner: str,
    now: datetime,
) -> int:
    """Record a new running import; returns its id."""
    result = conn.execute(
        insert(_batches).returning(_batches.c.id),
        {
            "project_id": project_id,
            "source": source,
            "options": options,
            "rows_read": 0,
            "items_added": 0,
            "duplicates": 0,
            "rejected": 0,
            "state": RUNNING,
            "runner": runner,
            "heartbeat_at": now,
            "created_at": now,
        },
    )
    return int(result.scalar_one())


# Run once per batch of an import: built once.
_PROGRESS = (
    update(_batches)
    .where(_batches.c.id == bindparam("batch"))
    .values(
        heartbeat_at=bindparam("now"),
        rows_read=bindparam("read"),
        items_added=bindparam("added"),
        duplicates=bindparam("skipped"),
        rejected=bindparam("bad"),
    )
)


def record_import_progress(
    conn: Connection, batch_id: int, counts: ImportCounts, now: datetime
) -> None:
    """Store the counts of a running import and refresh its heartbeat."""
    conn.execute(
        _PROGRESS,
        {
            "batch": batch_id,
            "now": now,
            "read": counts.rows_read,
            "added": counts.items_added,
            "skipped": counts.duplicates,
            "bad": counts.rejected,
        },
    )


def finish_import_batch(
    conn: Connection, batch_id: int, counts: ImportCounts, state: str, now: datetime
) -> None:
    """Close an import as `done` or `interrupted` with its final counts."""
    conn.execute(
        update(_batches)
        .where(_batches.c.id == batch_id)
        .values(state=state, finished_at=now, heartbeat_at=now, **_count_values(counts))
    )


def running_imports(conn: Connection, project_id: int) -> list[RunningImport]:
    """The project's imports marked `running`, oldest first."""
    rows = conn.execute(
        select(
            _batches.c.id,
            _batches.c.source,
            _batches.c.runner,
            _batches.c.heartbeat_at,
            _batches.c.rows_read,
            _batches.c.items_added,
            _batches.c.duplicates,
            _batches.c.rejected,
        )
        .where(_batches.c.project_id == project_id, _batches.c.state == RUNNING)
        .order_by(_batches.c.id)
    )
    return [RunningImport(row[0], row[1], row[2], row[3], ImportCounts(*row[4:])) for row in rows]


def _count_values(counts: ImportCounts) -> dict[str, int]:
    return {
        "rows_read": counts.rows_read,
        "items_added": counts.items_added,
        "duplicates": counts.duplicates,
        "rejected": counts.rejected,
    }
