"""The writes behind submit and skip (SPEC 5), as prebuilt Core statements.

A submit reads the lease, its item (with its gold answer, if it is gold) and
the holder's seat without locks, does everything that needs no lock
(validation, gold scoring), counts the submit on the membership, and then
turns the lease in: one statement on PostgreSQL deletes the lease, inserts
the annotation and counts it on the item, which locks the item row until
commit. Whoever brings the item to its overlap therefore sees every other
annotation of it.

A gold and a normal submit run the same statements (the gold answer comes
with the lease, and every submit updates the membership's counters once), so
their timing does not tell them apart (SPEC 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, delete, insert, literal, select, update
from sqlalchemy.engine import Connection

from annotary.storage.models import GoldAnswer
from annotary.storage.queue_store import (
    SEAT_COLUMNS,
    TIME,
    Seat,
    annotations_table,
    items,
    leases,
    memberships,
    project_secrets,
    projects,
    skips,
    table_of,
)

gold_answers = table_of(GoldAnswer)


@dataclass(frozen=True)
class HeldLease:
    """A lease being submitted or skipped, its item, and the holder's seat (None
    when they are no longer a member of the project)."""

    lease_id: int
    created_at: datetime
    item_id: int
    item_content: dict[str, Any]
    item_metadata: dict[str, Any]
    gold_answer: dict[str, Any] | None
    """The item's gold answer; None for an item that is not gold."""
    seat: Seat | None
    item_status: str
    """As read, unlocked: `rework` marks a rework task (see `services.queue.rework_tasks`)."""

    @property
    def is_gold(self) -> bool:
        return self.gold_answer is not None


@dataclass(frozen=True)
class TurnIn:
    """An item's state right after a lease on it was turned in."""

    status: str
    annotation_count: int
    route_rule: int | None
    annotation_id: int | None


_HELD_LEASE = (
    select(
        leases.c.id,
        leases.c.created_at,
        items.c.id,
        items.c.content,
        items.c.metadata,
        gold_answers.c.answer,
        items.c.status,
        memberships.c.id.is_not(None),
        *SEAT_COLUMNS,
    )
    .join_from(leases, items, items.c.id == leases.c.item_id)
    .outerjoin(gold_answers, gold_answers.c.item_id == items.c.id)
    .join(projects, projects.c.id == leases.c.project_id)
    .join(project_secrets, project_secrets.c.project_id == projects.c.id)
    .outerjoin(
        memberships,
        and_(
            memberships.c.project_id == leases.c.project_id,
            memberships.c.user_id == leases.c.user_id,
        ),
    )
    .where(leases.c.id == bindparam("lease"), leases.c.user_id == bindparam("user"))
)


def held_lease(conn: Connection, user_id: int, lease_id: int) -> HeldLease | None:
    """The user's lease, its item (with its gold answer, if gold) and the user's
    seat in the project (None when they are no longer a member). Nothing is
    locked: `turn_in_lease` finds out whether the lease is still there."""
    row = conn.execute(_HELD_LEASE, {"lease": lease_id, "user": user_id}).first()
    if row is None:
        return None
    seat = Seat(*row[8:]) if row[7] else None
    gold = dict(row[5]) if row[5] is not None else None
    return HeldLease(row[0], row[1], row[2], row[3], row[4], gold, seat, row[6])


_ANNOTATION_VALUES = (
    "user_id",
    "project_id",
    "payload",
    "schema_version",
    "guideline_version",
    "time_spent_ms",
    "flags",
    "gold_correct",
    "created_at",
)
"""Columns of a new annotation besides `item_id`, bound as `a_<column>`."""
_ANNOTATION_PARAMS = [
    bindparam(f"a_{name}", type_=annotations_table.c[name].type) for name in _ANNOTATION_VALUES
]
_COUNTS = (items.c.status, items.c.annotation_count, items.c.route_rule)


def _count_turn_in(item_id: Any) -> Any:
    return (
        update(items)
        .where(items.c.id == item_id)
        .values(
            lease_count=items.c.lease_count - 1,
            annotation_count=items.c.annotation_count + bindparam("added", type_=Integer),
        )
        .returning(*_COUNTS)
    )


@lru_cache(maxsize=4)
def _turn_in_statement(with_annotation: bool) -> Select[Any]:
    """PostgreSQL: delete the lease, insert the annotation and count it on the item
    in one statement (the item row stays locked until commit)."""
    gone = (
        delete(leases)
        .where(leases.c.id == bindparam("lease"))
        .returning(leases.c.item_id)
        .cte("gone")
    )
    counted = _count_turn_in(gone.c.item_id).cte("counted")
    if not with_annotation:
        return select(*counted.c, literal(None))
    added = (
        insert(annotations_table)
        .from_select(["item_id", *_ANNOTATION_VALUES], select(gone.c.item_id, *_ANNOTATION_PARAMS))
        .returning(annotations_table.c.id)
        .cte("added")
    )
    return select(*counted.c, select(added.c.id).scalar_subquery())


_DROP_LEASE = delete(leases).where(leases.c.id == bindparam("lease")).returning(leases.c.item_id)
_COUNT_TURN_IN = _count_turn_in(bindparam("item"))
_ADD_ANNOTATION = (
    insert(annotations_table)
    .values(
        item_id=bindparam("item"), **dict(zip(_ANNOTATION_VALUES, _ANNOTATION_PARAMS, strict=True))
    )
    .returning(annotations_table.c.id)
)


def turn_in_lease(
    conn: Connection, held: HeldLease, annotation: dict[str, Any] | None
) -> TurnIn | None:
    """Remove the lease and store `annotation` (column values) in its place; the
    item's counts after it, its row locked from here to commit. None when the
    lease is gone (expired and reclaimed, or turned in by a concurrent request)."""
    params: dict[str, Any] = {"lease": held.lease_id, "added": int(annotation is not None)}
    if annotation is not None:
        params.update({f"a_{name}": annotation[name] for name in _ANNOTATION_VALUES})
    if conn.dialect.name == "postgresql":
        row = conn.execute(_turn_in_statement(annotation is not None), params).first()
        return TurnIn(*row) if row is not None else None
    item_id = conn.execute(_DROP_LEASE, params).scalar()
    if item_id is None:
        return None
    params["item"] = item_id
    annotation_id = None
    if annotation is not None:
        annotation_id = conn.execute(_ADD_ANNOTATION, params).scalar_one()
    status, count, rule = conn.execute(_COUNT_TURN_IN, params).one()
    return TurnIn(status, count, rule, annotation_id)


_SET_STATE = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(status=bindparam("new_status"), route_rule=bindparam("new_route_rule"))
)


def set_item_state(conn: Connection, item_id: int, status: str, route_rule: int | None) -> None:
    """Move an item (locked by `turn_in_lease`) to `status` under `route_rule`."""
    params = {"item": item_id, "new_status": status, "new_route_rule": route_rule}
    conn.execute(_SET_STATE, params)


_ANSWERS = (
    select(annotations_table.c.user_id, annotations_table.c.payload)
    .where(annotations_table.c.item_id == bindparam("item"))
    .order_by(annotations_table.c.id)
)


def answers_of(conn: Connection, item_id: int) -> list[tuple[int, dict[str, Any]]]:
    """`(user_id, payload)` of the item's annotations, oldest first."""
    return [(user, payload) for user, payload in conn.execute(_ANSWERS, {"item": item_id})]


_COUNTERS = ("gold_answered", "gold_correct", "qualification_answered", "qualification_correct")
_COUNT_SUBMIT = (
    update(memberships)
    .where(memberships.c.id == bindparam("membership"))
    .values(
        {
            memberships.c.annotations_submitted: memberships.c.annotations_submitted
            + bindparam("annotations", type_=Integer),
            memberships.c.last_submit_at: bindparam("at", type_=TIME),
            **{
                memberships.c[name]: memberships.c[name] + bindparam(name, type_=Integer)
                for name in _COUNTERS
            },
        }
    )
    .returning(*(memberships.c[name] for name in _COUNTERS))
)


@dataclass(frozen=True)
class GoldCounts:
    """A member's gold answers so far: `(answered, correct)` of ordinary gold checks
    and of the qualification."""

    gold_answered: int
    gold_correct: int
    qualification_answered: int
    qualification_correct: int


def count_submit(
    conn: Connection,
    membership_id: int,
    now: datetime,
    *,
    annotated: bool,
    gold_correct: bool | None,
    qualifying: bool,
) -> GoldCounts:
    """Count a submit on the member, in one statement whatever the item: the
    annotation (when `annotated`), the time, and a scored gold answer (when
    `gold_correct` is not None; as a qualification answer when `qualifying`).
    The member's gold counts after it, counted atomically under concurrent submits."""
    scored = gold_correct is not None
    right = int(bool(gold_correct))
    params = {
        "membership": membership_id,
        "annotations": int(annotated),
        "at": now,
        "gold_answered": int(scored and not qualifying),
        "gold_correct": right if not qualifying else 0,
        "qualification_answered": int(scored and qualifying),
        "qualification_correct": right if qualifying else 0,
    }
    return GoldCounts(*(int(n) for n in conn.execute(_COUNT_SUBMIT, params).one()))


def mark_member(conn: Connection, membership_id: int, **values: Any) -> None:
    """Set membership columns (qualified_at, qualification_failed_at)."""
    conn.execute(update(memberships).where(memberships.c.id == membership_id).values(**values))


def pause_member(conn: Connection, membership_id: int, reason: str, now: datetime) -> None:
    """Pause a member with a reason, unless they already are."""
    conn.execute(
        update(memberships)
        .where(memberships.c.id == membership_id, memberships.c.paused_at.is_(None))
        .values(paused_at=now, pause_reason=reason)
    )


def add_skip(conn: Connection, item_id: int, user_id: int, reason: str) -> None:
    """Record that the user gave the item back; it is not served to them again."""
    conn.execute(insert(skips).values(item_id=item_id, user_id=user_id, reason=reason))
