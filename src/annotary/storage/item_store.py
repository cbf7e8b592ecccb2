"""Batched item writes for ingest: the hot path of import.

A round trip per row is far too slow for 100k-row files, so rows go in batches:
on SQLite one `executemany` of a prepared INSERT inside the import's write
transaction; on PostgreSQL a COPY into a temporary staging table followed by one
`INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`. JSON arrives here
already serialized (orjson), so no per-row type processing happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from annotary.storage.models import Item

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
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_SQLITE_INSERT = (
    f"INSERT INTO items ({_COLUMN_LIST}, annotation_count, lease_count, created_at) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, 0, 0, strftime('%Y-%m-%d %H:%M:%f', 'now')) "
    "ON CONFLICT (project_id, content_hash) DO NOTHING"
)
_PG_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS import_staging ("
    "project_id bigint, kind text, content jsonb, content_hash text, metadata jsonb, "
    "external_id text, parent_id bigint, turn_index integer, status text, "
    "priority double precision, is_gold boolean, import_batch_id bigint, route_rule integer) "
    "ON COMMIT DROP"
)
_PG_MOVE = (
    f"INSERT INTO items ({_COLUMN_LIST}, annotation_count, lease_count, created_at) "
    f"SELECT {_COLUMN_LIST}, 0, 0, now() FROM import_staging "
    "ON CONFLICT (project_id, content_hash) DO NOTHING RETURNING id, content_hash"
)


class NewItem(NamedTuple):
    """One item row ready to insert; `content_json`/`metadata_json` are JSON text.

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


class ItemStore:
    """Bulk item operations inside one session's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection: Connection = session.connection()
        self.dialect = self.connection.dialect.name
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

    def _insert_postgresql(self, rows: Sequence[NewItem]) -> tuple[int, dict[str, int]]:
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
