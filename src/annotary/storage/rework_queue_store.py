"""The queue's side of rework (SPEC 8), as Core statements on the caller's write
transaction: the rework rows an annotator is served, the lease on an item in
`rework`, the annotation redone in place, and what completing a rework reads
and writes.

Locking follows the queue's order (a lease, then its item, then the rework
rows): whatever closes a rework row locks the item afterwards and only then
looks whether any row of the rework is still open, so of two annotators who
finish one item's rework at the same time exactly one sees it complete.
(The selection and cancellation of reworks are `rework_store`.)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from annotary.storage.models import FinalLabel
from annotary.storage.queue_store import (
    LEASE_COLUMNS,
    TIME,
    LeasedItem,
    Seat,
    annotations_table,
    items,
    leases,
    project_secrets,
    projects,
    rework_annotations,
    reworks,
    skips,
    table_of,
)

REWORK: Final = "rework"
OPEN, DONE, DROPPED = "open", "done", "dropped"
final_labels = table_of(FinalLabel)
_OPEN = literal_column("'open'", String)


@dataclass(frozen=True)
class ReworkRow:
    """One annotator's open part of a rework: which annotation, which fields."""

    row_id: int
    rework_id: int
    item_id: int
    route_rule: int | None
    annotation_id: int
    fields: list[str]
    previous_payload: dict[str, Any]
    """The annotation as it was when the rework began (what the task shows)."""
    payload: dict[str, Any]
    """The annotation as stored now (what the answer is merged into)."""
    time_spent_ms: int | None
    flags: list[str]


_ROW = (
    select(
        rework_annotations.c.id,
        reworks.c.id,
        reworks.c.item_id,
        items.c.route_rule,
        annotations_table.c.id,
        rework_annotations.c.fields,
        rework_annotations.c.previous_payload,
        annotations_table.c.payload,
        annotations_table.c.time_spent_ms,
        annotations_table.c.flags,
    )
    .join_from(rework_annotations, reworks, reworks.c.id == rework_annotations.c.rework_id)
    .join(items, items.c.id == reworks.c.item_id)
    .join(annotations_table, annotations_table.c.id == rework_annotations.c.annotation_id)
    .where(
        rework_annotations.c.status == _OPEN,
        reworks.c.status == _OPEN,
        items.c.status == REWORK,
    )
)
_ROW_BY_ID = _ROW.where(rework_annotations.c.id == bindparam("row"))
_ROW_ON_ITEM = _ROW.where(
    reworks.c.item_id == bindparam("item"), rework_annotations.c.user_id == bindparam("user")
)


def open_rework_row(conn: Connection, row_id: int) -> ReworkRow | None:
    """The open rework row `row_id`, if its rework is open and its item in rework."""
    row = conn.execute(_ROW_BY_ID, {"row": row_id}).first()
    return ReworkRow(*row) if row is not None else None


def open_rework_row_on(conn: Connection, item_id: int, user_id: int) -> ReworkRow | None:
    """The user's open rework row on the item, if the item is in an open rework."""
    row = conn.execute(_ROW_ON_ITEM, {"item": item_id, "user": user_id}).first()
    return ReworkRow(*row) if row is not None else None


_STALE_LEASE = (
    delete(leases)
    .where(leases.c.item_id == bindparam("item"), leases.c.user_id == bindparam("user"))
    .returning(leases.c.id)
)
_COUNT_REWORK_LEASE = (
    update(items)
    .where(items.c.id == bindparam("item"), items.c.status == REWORK)
    .values(lease_count=items.c.lease_count + 1 - bindparam("stale", type_=Integer))
    .returning(*LEASE_COLUMNS)
)
_MAKE_LEASE = insert(leases).returning(leases.c.id)


def lease_rework_item(
    conn: Connection, seat: Seat, item_id: int, now: datetime, expires_at: datetime
) -> LeasedItem | None:
    """Lease an item in rework to the member (counted in its `lease_count`, swept
    like any lease); None if the item is no longer in rework. An expired lease of
    theirs on it that no sweep has removed yet makes way for the new one."""
    params = {"item": item_id, "user": seat.user_id}
    stale = len(conn.execute(_STALE_LEASE, params).all())
    found = conn.execute(_COUNT_REWORK_LEASE, {**params, "stale": stale}).first()
    if found is None:
        return None
    lease_id = conn.execute(
        _MAKE_LEASE,
        {
            "project_id": seat.project_id,
            "item_id": item_id,
            "user_id": seat.user_id,
            "expires_at": expires_at,
            "created_at": now,
        },
    ).scalar_one()
    kind, content, metadata = found
    return LeasedItem(lease_id, expires_at, item_id, kind, content, metadata)


_REDO_ANNOTATION = (
    update(annotations_table)
    .where(annotations_table.c.id == bindparam("annotation"))
    .values(
        payload=bindparam("new_payload", type_=annotations_table.c.payload.type),
        schema_version=bindparam("new_schema_version", type_=Integer),
        guideline_version=bindparam("new_guideline_version", type_=Integer),
        time_spent_ms=bindparam("new_time_spent_ms", type_=Integer),
        flags=bindparam("new_flags", type_=annotations_table.c.flags.type),
    )
)


def redo_annotation(
    conn: Connection,
    annotation_id: int,
    *,
    payload: dict[str, Any],
    schema_version: int,
    guideline_version: int,
    time_spent_ms: int | None,
    flags: list[str],
) -> None:
    """Store a redone annotation in place of the old one (its id, author and
    creation time stay)."""
    conn.execute(
        _REDO_ANNOTATION,
        {
            "annotation": annotation_id,
            "new_payload": payload,
            "new_schema_version": schema_version,
            "new_guideline_version": guideline_version,
            "new_time_spent_ms": time_spent_ms,
            "new_flags": flags,
        },
    )


_CLOSE_ROW = (
    update(rework_annotations)
    .where(rework_annotations.c.id == bindparam("row"), rework_annotations.c.status == _OPEN)
    .values(status=bindparam("new_status"), done_at=bindparam("at", type_=TIME))
    .returning(rework_annotations.c.id)
)


def close_rework_row(conn: Connection, row_id: int, status: str, now: datetime) -> bool:
    """Mark an open rework row `done` or `dropped`; False if it was not open."""
    params = {"row": row_id, "new_status": status, "at": now}
    return conn.execute(_CLOSE_ROW, params).first() is not None


def drop_rework_rows(
    conn: Connection, user_ids: Collection[int], now: datetime, project_id: int | None = None
) -> dict[int, int]:
    """Drop the users' open rows of open reworks (in one project, when given):
    rework id -> item id of every rework that lost one."""
    if not user_ids:
        return {}
    of_reworks = select(reworks.c.id).where(reworks.c.status == _OPEN)
    if project_id is not None:
        of_reworks = of_reworks.where(reworks.c.project_id == project_id)
    dropped = conn.execute(
        update(rework_annotations)
        .where(
            rework_annotations.c.user_id.in_(sorted(user_ids)),
            rework_annotations.c.status == _OPEN,
            rework_annotations.c.rework_id.in_(of_reworks),
        )
        .values(status=DROPPED, done_at=now)
        .returning(rework_annotations.c.rework_id)
    ).scalars()
    ids = sorted(set(dropped))
    if not ids:
        return {}
    found = conn.execute(select(reworks.c.id, reworks.c.item_id).where(reworks.c.id.in_(ids)))
    return dict(found.tuples().all())


def lock_items(conn: Connection, item_ids: Collection[int]) -> None:
    """Lock item rows in id order (PostgreSQL; SQLite's write transaction holds them all)."""
    if item_ids:
        conn.execute(
            select(items.c.id)
            .where(items.c.id.in_(sorted(item_ids)))
            .order_by(items.c.id)
            .with_for_update(key_share=True)
        ).all()


@dataclass(frozen=True)
class ReworkState:
    """An open rework as its completion needs it: the rework, its item, its project
    and its rows (read with the item locked)."""

    rework_id: int
    project_id: int
    item_id: int
    fields: list[str]
    previous_status: str
    previous_final: dict[str, Any] | None
    route_rule: int | None
    annotation_count: int
    content: dict[str, Any]
    definition: dict[str, Any]
    secret: str
    schema_version: int
    open_rows: int
    done: list[tuple[int, dict[str, Any]]]
    """`(user_id, payload)` of the annotations redone, oldest first."""


_REWORK = (
    select(
        reworks.c.id,
        reworks.c.project_id,
        reworks.c.item_id,
        reworks.c.fields,
        reworks.c.previous_status,
        reworks.c.previous_final,
        items.c.route_rule,
        items.c.annotation_count,
        items.c.content,
        projects.c.definition,
        project_secrets.c.secret,
        projects.c.schema_version,
    )
    .join_from(reworks, items, items.c.id == reworks.c.item_id)
    .join(projects, projects.c.id == reworks.c.project_id)
    .join(project_secrets, project_secrets.c.project_id == projects.c.id)
    .where(reworks.c.id == bindparam("rework"), reworks.c.status == _OPEN)
)
_ROWS = (
    select(rework_annotations.c.status, annotations_table.c.user_id, annotations_table.c.payload)
    .join_from(
        rework_annotations,
        annotations_table,
        annotations_table.c.id == rework_annotations.c.annotation_id,
    )
    .where(rework_annotations.c.rework_id == bindparam("rework"))
    .order_by(annotations_table.c.id)
)


def open_rework_state(conn: Connection, rework_id: int) -> ReworkState | None:
    """The open rework with its rows; None if it is no longer open."""
    found = conn.execute(_REWORK, {"rework": rework_id}).first()
    if found is None:
        return None
    rows = conn.execute(_ROWS, {"rework": rework_id}).all()
    return ReworkState(
        rework_id=found[0],
        project_id=found[1],
        item_id=found[2],
        fields=found[3],
        previous_status=found[4],
        previous_final=found[5],
        route_rule=found[6],
        annotation_count=found[7],
        content=found[8],
        definition=found[9],
        secret=found[10],
        schema_version=found[11],
        open_rows=sum(status == OPEN for status, _, _ in rows),
        done=[(user, payload) for status, user, payload in rows if status == DONE],
    )


_FINISH = (
    update(reworks)
    .where(reworks.c.id == bindparam("rework"), reworks.c.status == _OPEN)
    .values(status=DONE, completed_at=bindparam("at", type_=TIME))
    .returning(reworks.c.id)
)


def finish_rework(conn: Connection, rework_id: int, now: datetime) -> bool:
    """Mark an open rework `done`; False if it was not open any more."""
    return conn.execute(_FINISH, {"rework": rework_id, "at": now}).first() is not None


_FINAL = select(final_labels.c.payload, final_labels.c.fields).where(
    final_labels.c.item_id == bindparam("item")
)


def final_label_of(conn: Connection, item_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The item's final label as `(payload, per-field record)`, if it has one."""
    row = conn.execute(_FINAL, {"item": item_id}).first()
    return (row[0], row[1] or {}) if row is not None else None


def replace_final_label(conn: Connection, item_id: int, label: dict[str, Any] | None) -> None:
    """Remove the item's final label and store `label` (column values) instead, if given."""
    conn.execute(delete(final_labels).where(final_labels.c.item_id == item_id))
    if label is not None:
        conn.execute(insert(final_labels), {**label, "item_id": item_id})


def add_skip_once(conn: Connection, item_id: int, user_id: int, reason: str) -> None:
    """Record a skip with its reason, unless the user has one on the item already."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(skips).on_conflict_do_nothing(index_elements=["item_id", "user_id"])
    conn.execute(statement, {"item_id": item_id, "user_id": user_id, "reason": reason})
