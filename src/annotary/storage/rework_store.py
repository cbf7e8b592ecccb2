"""Reads and writes of rework: the annotations made under older versions, the
rework records, and the item statuses they hold."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, func, or_, select, update
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
    """Close every open rework of the project: items still in `rework` go back to
    the status they had; open annotations are dropped. The number of items."""
    reworks = session.scalars(
        select(Rework).where(Rework.project_id == project_id, Rework.status == "open")
    ).all()
    now = utcnow()
    for rework in reworks:
        session.execute(
            update(Item)
            .where(Item.id == rework.item_id, Item.status == REWORK)
            .values(status=rework.previous_status)
        )
        rework.status, rework.completed_at = "cancelled", now
    ids = [r.id for r in reworks]
    for start in range(0, len(ids), CHUNK):
        session.execute(
            update(ReworkAnnotation)
            .where(
                ReworkAnnotation.rework_id.in_(ids[start : start + CHUNK]),
                ReworkAnnotation.status == "open",
            )
            .values(status="dropped")
        )
    return len(reworks)


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
