"""Batched item writes for ingest: the hot path of import.

A round trip per row is far too slow for 100k-row files, so rows go in batches,
each inside one short write transaction of the import: on SQLite one
`executemany` of a prepared INSERT; on PostgreSQL a COPY into a temporary
staging table (dropped at commit) followed by one
`INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`. JSON arrives here
already serialized (orjson), so no per-row type processing happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from annotary.storage.models import GoldAnswer, Item, Prelabel

_COLUMNS = (
    "project_id",
    "kind",
    "content",
    "content_hash",
    "metadata",
    "external_id",
    "parent_id",
    "turn_index",
    "status",
    "priority",
    "is_gold",
    "import_batch_id",
    "route_rule",
    "created_at",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_SQLITE_INSERT = (
    f"INSERT INTO items ({_COLUMN_LIST}, annotation_count, lease_count) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, 0, 0) "
    "ON CONFLICT (project_id, content_hash) DO NOTHING"
)
_PG_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS import_staging ("
    "project_id bigint, kind text, content jsonb, content_hash text, metadata jsonb, "
    "external_id text, parent_id bigint, turn_index integer, status text, "
    "priority double precision, is_gold boolean, import_batch_id bigint, route_rule integer, "
    "created_at timestamptz) "
    "ON COMMIT DROP"
)
_PG_MOVE = (
    f"INSERT INTO items ({_COLUMN_LIST}, annotation_count, lease_count) "
    f"SELECT {_COLUMN_LIST}, 0, 0 FROM import_staging "
    "ON CONFLICT (project_id, content_hash) DO NOTHING RETURNING id, content_hash"
)


class NewItem(NamedTuple):
    """One item row ready to insert; `content_json`/`metadata_json` are JSON text,
    `created_at` the time as the database's text form (`stored_time`).

    A NamedTuple, so the row goes to the driver as it is, with no conversion.
    """

    project_id: int
    kind: str
    content_json: str
    content_hash: str
    metadata_json: str
    external_id: str | None
    parent_id: int | None
    turn_index: int | None
    status: str
    priority: float
    is_gold: bool
    import_batch_id: int | None
    route_rule: int | None
    created_at: str


_INSERT_PRELABELS = insert(Prelabel)
_INSERT_GOLD = insert(GoldAnswer)
# PostgreSQL aborts one of two transactions that wait on each other's rows
# (two imports inserting overlapping content in different orders); the batch
# can simply run again.
_DEADLOCK_DETECTED = "40P01"


def stored_time(moment: datetime, dialect: str) -> str:
    """`moment` (UTC) as text the database reads as a timestamp: SQLite keeps the
    text as it is, in SQLAlchemy's form; PostgreSQL parses ISO 8601."""
    if dialect == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.isoformat()


def is_deadlock(error: DBAPIError) -> bool:
    """Whether the database aborted the transaction to break a deadlock."""
    return getattr(error.orig, "sqlstate", None) == _DEADLOCK_DETECTED


class ItemStore:
    """Bulk item operations inside one transaction of `connection`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._staging_ready = False

    def existing_hashes(self, project_id: int, hashes: Sequence[str]) -> set[str]:
        """Which of `hashes` the project already has."""
        if not hashes:
            return set()
        query = select(Item.content_hash).where(
            Item.project_id == project_id,
            Item.content_hash.in_(bindparam("hashes", expanding=True)),
        )
        return set(self.connection.execute(query, {"hashes": list(hashes)}).scalars())

    def insert(self, rows: Sequence[NewItem], want_ids: bool = False) -> tuple[int, dict[str, int]]:
        """Insert rows, skipping hashes the project has; (rows inserted, hash -> id)."""
        if not rows:
            return 0, {}
        if self.dialect == "postgresql":
            return self._insert_postgresql(rows)
        cursor = self.connection.exec_driver_sql(_SQLITE_INSERT, rows)
        inserted = cursor.rowcount
        if not want_ids:
            return inserted, {}
        return inserted, self.ids_for(rows[0].project_id, [r.content_hash for r in rows])

    def ids_for(self, project_id: int, hashes: Iterable[str]) -> dict[str, int]:
        """Map content hashes of the project to item ids."""
        query = select(Item.content_hash, Item.id).where(
            Item.project_id == project_id,
            Item.content_hash.in_(bindparam("hashes", expanding=True)),
        )
        result = self.connection.execute(query, {"hashes": list(hashes)})
        return {row[0]: row[1] for row in result}

    def add_prelabels(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store pre-labels: dicts of item_id, model, annotation, confidence, schema_version."""
        if rows:
            self.connection.execute(_INSERT_PRELABELS, list(rows))

    def add_gold_answers(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store gold answers: dicts of item_id, answer, reason, schema_version."""
        if rows:
            self.connection.execute(_INSERT_GOLD, list(rows))

    def _insert_postgresql(self, rows: Sequence[NewItem]) -> tuple[int, dict[str, int]]:
        dbapi = self.connection.dialect.loaded_dbapi
        try:
            return self._copy_and_move(rows)
        except dbapi.Error as error:
            # Raised by the driver itself: give it SQLAlchemy's class, as any
            # other statement's error has.
            raise DBAPIError.instance(_PG_MOVE, None, error, dbapi.Error) from error

    def _copy_and_move(self, rows: Sequence[NewItem]) -> tuple[int, dict[str, int]]:
        driver = self.connection.connection.driver_connection
        assert driver is not None  # a live psycopg connection inside the transaction
        with driver.cursor() as cursor:
            if not self._staging_ready:
                cursor.execute(_PG_STAGING)
                self._staging_ready = True
            else:
                cursor.execute("TRUNCATE import_staging")
            with cursor.copy(f"COPY import_staging ({_COLUMN_LIST}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_PG_MOVE)
            ids = {content_hash: item_id for item_id, content_hash in cursor.fetchall()}
        return len(ids), ids
