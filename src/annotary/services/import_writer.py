"""Writing an import's rows in short transactions, with its batch row as a log.

Each batch of rows is one write transaction: the items, their pre-labels, gold
answers and turn items, and the batch row's counts and heartbeat. So an item is
never stored without what belongs to it, the counts always match what is
stored, and between two batches the queue's writers get the database.

On SQLite, where one writer works at a time, a batch holds the database for
about HOLD_TARGET: the writer sizes the next batch from how long the last one
took (at most `batch_size` rows), and copies the write-ahead log into the
database file between batches, not inside them. On PostgreSQL, where an import
does not hold back other writers, batches are `batch_size` rows.

A batch row left `running` by a process that died is marked `interrupted` by
the next import into the project: its items stay (they are complete) and a
re-run of the file skips them as duplicates.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from annotary.core.ingest.mapping import ImportOptions, ItemRow
from annotary.core.project import ProjectRef
from annotary.core.queue import match_route
from annotary.services.audit import record_event
from annotary.services.queue.workflow import routes_of
from annotary.storage.db import (
    Database,
    bulk_write_connection,
    bulk_write_transaction,
    checkpoint_wal,
    write_connection,
    write_transaction,
)
from annotary.storage.import_store import (
    DONE,
    INTERRUPTED,
    ImportCounts,
    RunningImport,
    finish_import_batch,
    record_import_progress,
    running_imports,
    start_import_batch,
)
from annotary.storage.item_store import ItemStore, NewItem, is_deadlock
from annotary.storage.models import utcnow

HOLD_TARGET = 0.02
"""Seconds a batch should hold SQLite's writer lock."""
MIN_BATCH = 50
CHECKPOINT_EVERY = 0.0
"""Seconds between the writer's checkpoints of SQLite's write-ahead log (0: after
every batch). A writer whose commit finds a long log copies it into the
database file inside its commit, holding the writer lock: a next task after a
few unchecked batches would do the import's copying."""
HEARTBEAT_SECONDS = 10.0
"""A running import commits (rows or only its heartbeat) at least this often."""
STALE_AFTER = timedelta(minutes=2)
"""A running import whose heartbeat is older than this is taken for dead."""
_DEADLOCK_RETRIES = 5


@dataclass
class WriteCounts:
    """What the writer has stored so far."""

    items_added: int = 0
    child_items_added: int = 0
    duplicates: int = 0
    prelabels_added: int = 0
    gold_added: int = 0


def this_runner() -> str:
    """`host:pid` of this process, as recorded on the batches it writes."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_abandoned(running: RunningImport, now: datetime) -> bool:
    """Whether a `running` import's process is gone: on this host its process no
    longer exists; anywhere, its heartbeat is older than STALE_AFTER."""
    beat = running.heartbeat_at
    if beat is None or _as_utc(beat) < now - STALE_AFTER:
        return True
    host, _, pid = (running.runner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_exists(int(pid))
    return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class BatchWriter:
    """Stores the rows of one import in batches; see the module docstring."""

    def __init__(
        self,
        db: Database,
        project: ProjectRef,
        options: ImportOptions,
        batch_size: int,
    ) -> None:
        self.db = db
        self.project = project
        self.batch_size = batch_size
        self.options = options
        self.routes = routes_of(project.definition.get("workflow", {}))
        self.pending: dict[str, ItemRow] = {}
        self.counts = WriteCounts()
        self.batch_id: int | None = None
        self.last_commit = time.monotonic()
        self.sqlite = db.dialect == "sqlite"
        self.rows_per_batch = min(batch_size, 500) if self.sqlite else batch_size
        self._stack = ExitStack()
        self._conn: Connection | None = None
        self._checkpointed = time.monotonic()

    def __enter__(self) -> BatchWriter:
        self._conn = self._stack.enter_context(bulk_write_connection(self.db.engine))
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self.sqlite and self._conn is not None:
                checkpoint_wal(self._conn)  # leave the log short for the next writer
        finally:
            self._conn = None
            self._stack.close()

    def start(self, source: str, options: dict[str, object], source_label: str) -> int:
        """Record the import as running (after closing the project's dead imports)."""
        now = utcnow()
        with write_transaction(self.db.sessions) as session:
            conn = session.connection()
            for running in running_imports(conn, self.project.id):
                if is_abandoned(running, now):
                    finish_import_batch(conn, running.id, running.counts, INTERRUPTED, now)
                    record_event(
                        session,
                        "items.import_interrupted",
                        project_id=self.project.id,
                        target=f"import:{running.id}",
                        details={"source": running.source, "runner": running.runner},
                        source=source_label,
                    )
            self.batch_id = start_import_batch(
                conn, self.project.id, source, options, this_runner(), now
            )
        self.last_commit = time.monotonic()
        return self.batch_id

    def add(self, row: ItemRow) -> None:
        """Queue a row for the next batch (a second row of the same content is a duplicate)."""
        if row.content_hash in self.pending:
            self.counts.duplicates += 1
        else:
            self.pending[row.content_hash] = row

    def due(self) -> bool:
        """Whether the pending rows (or the heartbeat) should be committed now."""
        return (
            len(self.pending) >= self.rows_per_batch
            or time.monotonic() - self.last_commit >= HEARTBEAT_SECONDS
        )

    def commit(self, progress: ImportCounts) -> None:
        """Write the pending rows and `progress` in one transaction."""
        conn = self._connection()
        rows = list(self.pending.values())
        self.pending = {}
        items = [self._new_item(row) for row in rows]
        for attempt in range(_DEADLOCK_RETRIES):
            outcome = WriteCounts()
            try:
                with bulk_write_transaction(conn):
                    started = time.perf_counter()
                    self._write(conn, rows, items, outcome)
                    record_import_progress(
                        conn, self._batch(), self._progress(progress, outcome), utcnow()
                    )
                held = time.perf_counter() - started
            except DBAPIError as error:
                if not is_deadlock(error) or attempt == _DEADLOCK_RETRIES - 1:
                    raise
                continue
            break
        counts = self.counts
        counts.items_added += outcome.items_added
        counts.child_items_added += outcome.child_items_added
        counts.duplicates += outcome.duplicates
        counts.prelabels_added += outcome.prelabels_added
        counts.gold_added += outcome.gold_added
        if self.sqlite:
            if time.monotonic() - self._checkpointed >= CHECKPOINT_EVERY:
                checkpoint_wal(conn)
                self._checkpointed = time.monotonic()
            if len(rows) >= self.rows_per_batch:
                self._resize(held)
        self.last_commit = time.monotonic()

    def _resize(self, held: float) -> None:
        """Size the next batch to hold the writer lock for about HOLD_TARGET."""
        factor = min(2.0, max(0.5, HOLD_TARGET / max(held, 1e-4)))
        self.rows_per_batch = max(
            MIN_BATCH, min(self.batch_size, int(self.rows_per_batch * factor))
        )

    def finish(
        self,
        progress: ImportCounts,
        details: dict[str, object],
        actor_id: int | None,
        source_label: str,
    ) -> None:
        """Close the import as done and record the audit event."""
        with write_transaction(self.db.sessions) as session:
            finish_import_batch(session.connection(), self._batch(), progress, DONE, utcnow())
            record_event(
                session,
                "items.import",
                actor_id=actor_id,
                project_id=self.project.id,
                target=f"import:{self._batch()}",
                details=details,
                source=source_label,
            )

    def interrupt(self, progress: ImportCounts) -> None:
        """Mark the import interrupted (what it committed stays)."""
        if self.batch_id is None:
            return
        with write_connection(self.db.engine) as conn:
            finish_import_batch(conn, self.batch_id, progress, INTERRUPTED, utcnow())

    def _connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("BatchWriter is used outside its `with` block")
        return self._conn

    def _batch(self) -> int:
        if self.batch_id is None:
            raise RuntimeError("BatchWriter.start() was not called")
        return self.batch_id

    def _progress(self, progress: ImportCounts, outcome: WriteCounts) -> ImportCounts:
        return ImportCounts(
            progress.rows_read,
            self.counts.items_added + outcome.items_added,
            self.counts.duplicates + outcome.duplicates,
            progress.rejected,
        )

    def _write(
        self, conn: Connection, rows: list[ItemRow], items: list[NewItem], outcome: WriteCounts
    ) -> None:
        store = ItemStore(conn)
        needs_ids = any(r.prelabels or r.gold is not None or r.children for r in rows)
        existing: set[str] = set()
        if needs_ids:
            # Pre-labels, gold and turns attach to new items only; knowing which
            # rows are new takes one look-up per batch.
            existing = store.existing_hashes(self.project.id, [r.content_hash for r in rows])
            if existing:
                kept = [i for i, row in enumerate(rows) if row.content_hash not in existing]
                rows = [rows[i] for i in kept]
                items = [items[i] for i in kept]
        # The insert itself skips hashes already stored (ON CONFLICT DO NOTHING).
        inserted, ids = store.insert(items, needs_ids)
        outcome.duplicates = len(rows) - inserted + len(existing)
        outcome.items_added = inserted
        if needs_ids:
            self._attach(store, rows, ids, outcome)

    def _new_item(
        self, row: ItemRow, parent_id: int | None = None, turn: int | None = None
    ) -> NewItem:
        status = "gold" if row.gold is not None else "decomposed" if row.children else "queued"
        return NewItem(
            project_id=self.project.id,
            kind=row.kind,
            content_json=row.content_json,
            content_hash=row.content_hash,
            metadata_json=orjson.dumps(row.metadata).decode() if row.metadata else "{}",
            external_id=row.external_id,
            parent_id=parent_id,
            turn_index=turn,
            status=status,
            priority=row.priority,
            is_gold=row.gold is not None,
            import_batch_id=self.batch_id,
            route_rule=match_route(self.routes, row.metadata) if self.routes else None,
        )

    def _attach(
        self, store: ItemStore, rows: list[ItemRow], ids: dict[str, int], outcome: WriteCounts
    ) -> None:
        version = self.project.schema.version
        prelabels: list[dict[str, object]] = []
        gold: list[dict[str, object]] = []
        children: list[NewItem] = []
        for row in rows:
            item_id = ids.get(row.content_hash)
            if item_id is None:
                continue  # inserted concurrently by someone else: theirs, not ours
            prelabels.extend(
                {
                    "item_id": item_id,
                    "model": prelabel.model,
                    "annotation": prelabel.annotation,
                    "confidence": prelabel.confidence,
                    "schema_version": version,
                }
                for prelabel in row.prelabels
            )
            if row.gold is not None:
                gold.append(
                    {
                        "item_id": item_id,
                        "answer": row.gold,
                        "reason": row.gold_reason,
                        "schema_version": version,
                    }
                )
            for turn, (content, digest) in enumerate(row.children):
                child = ItemRow(
                    kind="turn",
                    content=content,
                    content_json=orjson.dumps(content).decode(),
                    content_hash=digest,
                    metadata=row.metadata,
                    external_id=row.external_id,
                    priority=row.priority,
                    prelabels=[],
                    gold=None,
                    gold_reason=None,
                    children=[],
                )
                children.append(self._new_item(child, item_id, turn))
        store.add_prelabels(prelabels)
        store.add_gold_answers(gold)
        added, _ = store.insert(children)
        outcome.prelabels_added = len(prelabels)
        outcome.gold_added = len(gold)
        outcome.child_items_added = added
