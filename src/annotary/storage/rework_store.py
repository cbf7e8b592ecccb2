"""Reads and writes of rework: the annotations made under older versions, the
rework records, and the item statuses they hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Integer, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from annotary.storage.models import (
    Annotation,
    FinalLabel,
    Item,
    Membership,
    Rework,
    ReworkAnnotation,
    User,
    utcnow,
)
from annotary.storage.queue_store import items, leases, rework_annotations, reworks
from annotary.storage.rework_queue_store import lock_items

REWORKABLE: Final = ("queued", "adjudication", "review", "finalized")
"""Item statuses rework may take an item from (gold, escalated and decomposed
items stay where they are)."""
REWORK: Final = "rework"
"""The status of an item while its rework is open."""
WORKER_ROLES: Final = ("annotator", "reviewer", "expert")
CHUNK: Final = 5_000


@dataclass(frozen=True)
class Candidate:
    """An annotation made under an older version, with its item and author."""

    annotation_id: int
    item_id: int
    external_id: str | None
    item_status: str
    leased: bool
    user_id: int
    username: str
    author_active: bool
    """The author is an active user who still works on the project."""
    payload: dict[str, Any]
    schema_version: int
    guideline_version: int
    item: dict[str, Any] | None


def older_annotations(
    session: Session,
    project_id: int,
    *,
    schema_version: int,
    guideline_version: int | None,
    with_items: bool,
) -> Iterator[list[Candidate]]:
    """Annotations of the project made under a schema version below `schema_version`
    (or, given `guideline_version`, also under a guideline version below it), on
    regular items, in chunks, by item."""
    older = Annotation.schema_version < schema_version
    if guideline_version is not None:
        older = or_(older, Annotation.guideline_version < guideline_version)
    columns: list[Any] = [
        Annotation.id,
        Annotation.item_id,
        Item.external_id,
        Item.status,
        Item.lease_count > 0,
        Annotation.user_id,
        User.username,
        and_(User.is_active, Membership.role.in_(WORKER_ROLES)),
        Annotation.payload,
        Annotation.schema_version,
        Annotation.guideline_version,
    ]
    if with_items:
        columns.append(Item.content)
    query = (
        select(*columns)
        .join(Item, Item.id == Annotation.item_id)
        .join(User, User.id == Annotation.user_id)
        .outerjoin(
            Membership,
            and_(Membership.project_id == project_id, Membership.user_id == Annotation.user_id),
        )
        .where(Annotation.project_id == project_id, older, Item.is_gold.is_(False))
        .order_by(Annotation.item_id, Annotation.id)
    )
    result = session.execute(query.execution_options(yield_per=CHUNK))
    for rows in result.partitions():
        yield [
            Candidate(
                annotation_id=row[0],
                item_id=row[1],
                external_id=row[2],
                item_status=row[3],
                leased=bool(row[4]),
                user_id=row[5],
                username=row[6],
                author_active=bool(row[7]),
                payload=row[8],
                schema_version=row[9],
                guideline_version=row[10],
                item=row[11] if with_items else None,
            )
            for row in rows
        ]


def final_labels_of(session: Session, item_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The final labels of the items (those that have one), as stored."""
    ids = sorted(set(item_ids))
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        for label in session.scalars(
            select(FinalLabel).where(FinalLabel.item_id.in_(ids[start : start + CHUNK]))
        ):
            out[label.item_id] = {
                "payload": label.payload,
                "method": label.method,
                "confidence": label.confidence,
                "agreement": label.agreement,
                "decided_by": label.decided_by,
                "reason": label.reason,
                "fields": label.fields,
            }
    return out


def take_items(session: Session, items: dict[int, str]) -> set[int]:
    """Move items (id -> the status they were read in) to `rework`; the ids moved.
    An item whose status changed since it was read is left alone."""
    taken: set[int] = set()
    by_status: dict[str, list[int]] = {}
    for item_id, status in items.items():
        by_status.setdefault(status, []).append(item_id)
    for status, ids in by_status.items():
        for start in range(0, len(ids), CHUNK):
            moved = session.execute(
                update(Item)
                .where(
                    Item.id.in_(ids[start : start + CHUNK]),
                    Item.status == status,
                    Item.lease_count == 0,
                )
                .values(status=REWORK)
                .returning(Item.id)
            )
            taken.update(moved.scalars())
    return taken


def add_rework(
    session: Session,
    *,
    project_id: int,
    item_id: int,
    fields: list[str],
    schema_version: int,
    guideline_version: int,
    previous_status: str,
    previous_final: dict[str, Any] | None,
    requested_by: int | None,
    annotations: list[tuple[Candidate, list[str]]],
) -> None:
    """Record one item's rework and the annotations whose authors redo fields
    (authors no longer active are recorded as `dropped`)."""
    rework = Rework(
        project_id=project_id,
        item_id=item_id,
        fields=fields,
        schema_version=schema_version,
        guideline_version=guideline_version,
        previous_status=previous_status,
        previous_final=previous_final,
        status="open",
        requested_by=requested_by,
    )
    session.add(rework)
    session.flush()
    session.add_all(
        ReworkAnnotation(
            rework_id=rework.id,
            annotation_id=candidate.annotation_id,
            user_id=candidate.user_id,
            fields=redo,
            previous_payload=candidate.payload,
            previous_schema_version=candidate.schema_version,
            previous_guideline_version=candidate.guideline_version,
            status="open" if candidate.author_active else "dropped",
        )
        for candidate, redo in annotations
    )


def cancel_open_reworks(session: Session, project_id: int) -> int:
    """Close every open rework of the project: the leases on their items are given
    back, the items go back to the status they had (final labels untouched) and
    open rows are dropped. The number of reworks cancelled.

    The queue's lock order holds (a lease, then its item, then the rework): the
    leases go first, so a submit already turning one in finishes before the
    items are locked; once they are, no rework can complete, and the leases
    made meanwhile go too.
    """
    conn, now = session.connection(), utcnow()
    item_ids = sorted(
        conn.execute(
            select(reworks.c.item_id).where(
                reworks.c.project_id == project_id, reworks.c.status == "open"
            )
        ).scalars()
    )
    cancelled: list[tuple[int, int, str]] = []
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start : start + CHUNK]
        freed = _drop_leases(conn, chunk)
        lock_items(conn, chunk)
        freed.update(_drop_leases(conn, chunk))
        if freed:
            conn.execute(_FREE_SLOTS, [{"item": i, "freed": n} for i, n in sorted(freed.items())])
        cancelled.extend(
            conn.execute(
                update(reworks)
                .where(reworks.c.item_id.in_(chunk), reworks.c.status == "open")
                .values(status="cancelled", completed_at=now)
                .returning(reworks.c.id, reworks.c.item_id, reworks.c.previous_status)
            ).tuples()
        )
    by_status: dict[str, list[int]] = {}
    for _, item_id, previous in cancelled:
        by_status.setdefault(previous, []).append(item_id)
    for previous, ids in by_status.items():
        for start in range(0, len(ids), CHUNK):
            conn.execute(
                update(items)
                .where(items.c.id.in_(ids[start : start + CHUNK]), items.c.status == REWORK)
                .values(status=previous)
            )
    rework_ids = sorted(r for r, _, _ in cancelled)
    for start in range(0, len(rework_ids), CHUNK):
        conn.execute(
            update(rework_annotations)
            .where(
                rework_annotations.c.rework_id.in_(rework_ids[start : start + CHUNK]),
                rework_annotations.c.status == "open",
            )
            .values(status="dropped", done_at=now)
        )
    return len(cancelled)


_FREE_SLOTS = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(lease_count=items.c.lease_count - bindparam("freed", type_=Integer))
)


def _drop_leases(conn: Connection, item_ids: list[int]) -> Counter[int]:
    """Delete every lease on the items; how many per item."""
    gone = conn.execute(
        delete(leases).where(leases.c.item_id.in_(item_ids)).returning(leases.c.item_id)
    )
    return Counter(gone.scalars())


def last_rework_of(session: Session, item_id: int) -> dict[str, Any] | None:
    """The item's latest completed rework: its fields, the versions it was redone
    under and the final label it had before (what a senior deciding the item
    after it is shown)."""
    rework = session.scalar(
        select(Rework)
        .where(Rework.item_id == item_id, Rework.status == "done")
        .order_by(Rework.id.desc())
        .limit(1)
    )
    if rework is None:
        return None
    return {
        "fields": rework.fields,
        "schema_version": rework.schema_version,
        "guideline_version": rework.guideline_version,
        "previous_status": rework.previous_status,
        "previous_final": rework.previous_final,
        "completed_at": rework.completed_at.isoformat() if rework.completed_at else None,
    }


def count_open_reworks(session: Session, project_id: int) -> int:
    """Items of the project in rework now."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Rework)
            .where(Rework.project_id == project_id, Rework.status == "open")
        )
        or 0
    )
