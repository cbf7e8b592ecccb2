"""Writing an import's rows in short transactions, with its batch row as a log.

Rows are written in chunks, each with what belongs to its items (pre-labels,
gold answers, turn items), and committed with the batch row's counts and
heartbeat: an item is never stored without what belongs to it, the counts
always match what is stored, and between two transactions the queue's writers
get the database.

On PostgreSQL, where an import holds no other writer back, each transaction is
one chunk of `batch_size` rows. On SQLite one writer works at a time: chunks
are sized to take about CHUNK_TARGET, and a transaction takes more chunks while
no other writer waits for the writer lock, up to `batch_size` rows or
MAX_HOLD seconds; when one does, it commits after the chunk at hand. The
write-ahead log is copied into the database file between transactions, outside
the lock.

A batch row left `running` by a process that died is marked `interrupted` by
the next import into the project (`import_log`): its items stay (they are
complete) and a re-run of the file skips them as duplicates.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from annotary.core.ingest.mapping import ImportOptions, ItemRow
from annotary.core.project import ProjectRef
from annotary.core.queue import match_route
from annotary.services.audit import record_event
from annotary.services.import_log import close_abandoned_imports, this_runner
from annotary.services.queue.workflow import routes_of
from annotary.storage.db import (
    Database,
    bulk_write_connection,
    bulk_write_transaction,
    checkpoint_wal,
    write_connection,
    write_transaction,
    writers_waiting,
)
from annotary.storage.import_store import (
    DONE,
    INTERRUPTED,
    ImportCounts,
    finish_import_batch,
    record_import_progress,
    start_import_batch,
)
from annotary.storage.item_store import ItemStore, NewItem, is_deadlock, stored_time
from annotary.storage.models import utcnow

CHUNK_TARGET = 0.002
"""Seconds a chunk of rows should take to write (SQLite): how long a waiting
writer waits at most before the import commits, besides the commit itself."""
MAX_HOLD = 0.25
"""Seconds a transaction may hold SQLite's writer lock when nobody waits."""
MIN_CHUNK = 20
HEARTBEAT_SECONDS = 10.0
"""A running import commits (rows or only its heartbeat) at least this often."""
_DEADLOCK_RETRIES = 5


@dataclass
class WriteCounts:
    """What the writer has stored so far."""

    items_added: int = 0
    child_items_added: int = 0
    duplicates: int = 0
    prelabels_added: int = 0
    gold_added: int = 0


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
        """What is committed."""
        self.batch_id: int | None = None
        self.last_commit = time.monotonic()
        self.sqlite = db.dialect == "sqlite"
        self.chunk_rows = min(batch_size, 200) if self.sqlite else batch_size
        self._stack = ExitStack()
        self._conn: Connection | None = None
        self._open: ExitStack | None = None
        """The open transaction (SQLite) with its writer lock."""
        self._opened_at = 0.0
        self._uncommitted = WriteCounts()
        self._uncommitted_rows = 0
        self._now = ""
        """The time stored on the rows being written (see `stored_time`)."""

    def __enter__(self) -> BatchWriter:
        self._conn = self._stack.enter_context(bulk_write_connection(self.db.engine))
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.roll_back()
            if self.sqlite and self._conn is not None:
                checkpoint_wal(self._conn)  # leave the log short for the next writer
        finally:
            self._conn = None
            self._stack.close()

    def start(self, source: str, options: dict[str, object], source_label: str) -> int:
        """Record the import as running (after closing the project's dead imports)."""
        with write_transaction(self.db.sessions) as session:
            close_abandoned_imports(session, self.project.id, source_label)
            self.batch_id = start_import_batch(
                session.connection(), self.project.id, source, options, this_runner(), utcnow()
            )
        self.last_commit = time.monotonic()
        return self.batch_id

    def add(self, row: ItemRow) -> None:
        """Queue a row for the next chunk (a second row of the same content is a duplicate)."""
        if row.content_hash in self.pending:
            self._uncommitted.duplicates += 1
        else:
            self.pending[row.content_hash] = row

    def due(self) -> bool:
        """Whether the pending rows (or the heartbeat) should be written now."""
        return (
            len(self.pending) >= self.chunk_rows
            or time.monotonic() - self.last_commit >= HEARTBEAT_SECONDS
        )

    def write(self, progress: ImportCounts, *, last: bool = False) -> bool:
        """Write the pending rows; commit them with `progress` when the time has
        come (always when `last`). Returns whether it committed."""
        if not self.sqlite:
            self._write_and_commit(progress)
            return True
        conn = self._connection()
        rows = list(self.pending.values())
        self.pending = {}
        if self._open is None:
            self._open = ExitStack()
            self._open.enter_context(bulk_write_transaction(conn))
            self._opened_at = time.perf_counter()
        started = time.perf_counter()
        outcome = WriteCounts()
        self._now = stored_time(utcnow(), self.db.dialect)
        self._write(conn, rows, [self._new_item(row) for row in rows], outcome)
        self._add_up(self._uncommitted, outcome)
        self._uncommitted_rows += len(rows)
        self._size_chunks(len(rows), time.perf_counter() - started)
        if not (
            last
            or self._uncommitted_rows >= self.batch_size
            or time.perf_counter() - self._opened_at >= MAX_HOLD
            or time.monotonic() - self.last_commit >= HEARTBEAT_SECONDS
            or writers_waiting(conn)
        ):
            return False
        record_import_progress(conn, self._batch(), self._progress(progress), utcnow())
        open_transaction, self._open = self._open, None
        open_transaction.close()  # commit, then let the next writer in
        self._committed()
        checkpoint_wal(conn)
        return True

    def roll_back(self) -> None:
        """Drop what is written but not committed (SQLite's open transaction)."""
        open_transaction, self._open = self._open, None
        if open_transaction is not None:
            open_transaction.__exit__(RuntimeError, RuntimeError("rolled back"), None)
        self._uncommitted = WriteCounts()
        self._uncommitted_rows = 0

    def _write_and_commit(self, progress: ImportCounts) -> None:
        """One transaction for the pending rows (PostgreSQL), run again after a deadlock."""
        conn = self._connection()
        rows = list(self.pending.values())
        self.pending = {}
        self._now = stored_time(utcnow(), self.db.dialect)
        items = [self._new_item(row) for row in rows]
        in_batch = self._uncommitted.duplicates
        for attempt in range(_DEADLOCK_RETRIES):
            outcome = WriteCounts(duplicates=in_batch)
            self._uncommitted = WriteCounts()
            try:
                with bulk_write_transaction(conn):
                    self._write(conn, rows, items, outcome)
                    self._uncommitted = outcome
                    record_import_progress(conn, self._batch(), self._progress(progress), utcnow())
            except DBAPIError as error:
                if not is_deadlock(error) or attempt == _DEADLOCK_RETRIES - 1:
                    raise
                continue
            break
        self._committed()

    def _committed(self) -> None:
        self._add_up(self.counts, self._uncommitted)
        self._uncommitted = WriteCounts()
        self._uncommitted_rows = 0
        self.last_commit = time.monotonic()

    @staticmethod
    def _add_up(total: WriteCounts, more: WriteCounts) -> None:
        total.items_added += more.items_added
        total.child_items_added += more.child_items_added
        total.duplicates += more.duplicates
        total.prelabels_added += more.prelabels_added
        total.gold_added += more.gold_added

    def _size_chunks(self, rows: int, took: float) -> None:
        """Size the next chunk to take about CHUNK_TARGET."""
        if rows < self.chunk_rows:
            return  # a short chunk (a heartbeat, the last one) says little
        factor = min(2.0, max(0.5, CHUNK_TARGET / max(took, 1e-4)))
        wanted = int(self.chunk_rows * factor)
        self.chunk_rows = max(MIN_CHUNK, min(self.batch_size, wanted))

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
        self.roll_back()
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

    def _progress(self, progress: ImportCounts) -> ImportCounts:
        """The counts to store with the commit at hand."""
        return ImportCounts(
            progress.rows_read,
            self.counts.items_added + self._uncommitted.items_added,
            self.counts.duplicates + self._uncommitted.duplicates,
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
        outcome.duplicates += len(rows) - inserted + len(existing)
        outcome.items_added += inserted
        if needs_ids:
            self._attach(store, rows, ids, outcome)

    def _new_item(
        self, row: ItemRow, parent_id: int | None = None, turn: int | None = None
    ) -> NewItem:
        gold = row.gold is not None
        metadata = row.metadata
        # Positional: one is made per row, and keywords cost a third more.
        return NewItem(
            self.project.id,
            row.kind,
            row.content_json,
            row.content_hash,
            orjson.dumps(metadata).decode() if metadata else "{}",
            row.external_id,
            parent_id,
            turn,
            "gold" if gold else "decomposed" if row.children else "queued",
            row.priority,
            gold,
            self.batch_id,
            match_route(self.routes, metadata) if self.routes else None,
            self._now,
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
        outcome.prelabels_added += len(prelabels)
        outcome.gold_added += len(gold)
        outcome.child_items_added += added
