"""The atomic claims behind the queue (SPEC 5), as prebuilt Core statements.

Every function runs on the connection of the caller's write transaction. On
PostgreSQL a claim locks the chosen item row with `FOR UPDATE SKIP LOCKED`, so
concurrent requests pass over each other's candidates instead of waiting, and
the `annotation_count + lease_count < overlap` test is re-checked on the locked
row version (READ COMMITTED re-evaluates the WHERE clause of a locked row). On
SQLite the whole transaction holds the database write lock from BEGIN
IMMEDIATE, so claims are serialized. (SQLAlchemy renders no `FOR UPDATE` for
SQLite, so the statements are the same on both.)

The statements are built once, not per request: next task and submit are the
hottest paths of the server, and building ORM queries cost more CPU than the
database spent answering them.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from annotary.core.queue import RouteFilter
from annotary.storage.models import (
    Annotation,
    Base,
    GoldAnswer,
    Item,
    JsonType,
    Lease,
    Membership,
    Prelabel,
    Project,
    Skip,
)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model."""
    return cast(Table, model.__table__)


items, leases, annotations_table = table_of(Item), table_of(Lease), table_of(Annotation)
projects, memberships, skips = table_of(Project), table_of(Membership), table_of(Skip)
prelabels = table_of(Prelabel)
TIME = DateTime(timezone=True)


@dataclass(frozen=True)
class Seat:
    """A member's place in a project: the project and membership columns the queue needs."""

    project_id: int
    project_name: str
    definition: dict[str, Any]
    schema_version: int
    guideline_version: int
    membership_id: int
    user_id: int
    role: str
    terms_accepted: bool
    paused: bool
    pause_reason: str | None
    qualified: bool
    qualification_failed: bool
    qualification_answered: int
    qualification_correct: int


@dataclass(frozen=True)
class LeasedItem:
    """A lease just made or re-served, with the item it is on."""

    lease_id: int
    expires_at: datetime
    item_id: int
    kind: str
    content: dict[str, Any]
    metadata: dict[str, Any]
    prelabels: list[dict[str, Any]] | None = None
    """Fetched with the claim where one statement does it (PostgreSQL), else None."""


@dataclass(frozen=True)
class HeldLease:
    """A lease being submitted or skipped, its item, and the holder's seat (None
    when they are no longer a member of the project)."""

    lease_id: int
    created_at: datetime
    item_id: int
    item_content: dict[str, Any]
    is_gold: bool
    seat: Seat | None


@dataclass(frozen=True)
class TurnIn:
    """An item's state right after a lease on it was turned in."""

    status: str
    annotation_count: int
    route_rule: int | None
    annotation_id: int | None


_SEAT_COLUMNS = (
    projects.c.id,
    projects.c.name,
    projects.c.definition,
    projects.c.schema_version,
    projects.c.guideline_version,
    memberships.c.id,
    memberships.c.user_id,
    memberships.c.role,
    memberships.c.terms_accepted_at.is_not(None),
    memberships.c.paused_at.is_not(None),
    memberships.c.pause_reason,
    memberships.c.qualified_at.is_not(None),
    memberships.c.qualification_failed_at.is_not(None),
    memberships.c.qualification_answered,
    memberships.c.qualification_correct,
)
_LIVE_LEASE = (
    select(leases.c.id)
    .where(
        leases.c.project_id == projects.c.id,
        leases.c.user_id == memberships.c.user_id,
        leases.c.expires_at >= bindparam("at", type_=TIME),
    )
    .order_by(leases.c.id)
    .limit(1)
    .scalar_subquery()
)
# The membership row is locked (PostgreSQL) so that one user's concurrent
# `next task` calls serialize: the second sees the lease the first made.
_SEAT_BY_NAME = (
    select(*_SEAT_COLUMNS, _LIVE_LEASE)
    .join_from(projects, memberships, memberships.c.project_id == projects.c.id)
    .where(memberships.c.user_id == bindparam("user"), projects.c.name == bindparam("name"))
    .with_for_update(of=memberships)
)


def seat_by_name(
    conn: Connection, user_id: int, project_name: str, now: datetime
) -> tuple[Seat, int | None] | None:
    """The user's locked seat in the named project and their live lease id, if any."""
    params = {"user": user_id, "name": project_name, "at": now}
    row = conn.execute(_SEAT_BY_NAME, params).first()
    if row is None:
        return None
    return Seat(*row[:-1]), row[-1]


_EXPIRED = (
    delete(leases)
    .where(leases.c.project_id == bindparam("project"), leases.c.expires_at < bindparam("at"))
    .returning(leases.c.item_id)
)
_FREE_SLOTS = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(lease_count=items.c.lease_count - bindparam("freed", type_=Integer))
)


def reclaim_expired(conn: Connection, project_id: int, now: datetime) -> int:
    """Delete expired leases of the project and free their slots; how many."""
    freed = conn.execute(_EXPIRED, {"project": project_id, "at": now}).scalars().all()
    counts = Counter(freed)
    if counts:
        conn.execute(_FREE_SLOTS, [{"item": i, "freed": n} for i, n in counts.items()])
    return len(freed)


def _not_seen_by_user() -> list[ColumnElement[bool]]:
    """Conditions: the user (`:user_id`) has no annotation, skip or lease on the item.

    Each test is a probe of the (item_id, user_id) unique index for the one
    candidate row at hand. `OFFSET 0` keeps PostgreSQL from turning the NOT
    EXISTS into an anti-join, whose plan depends on table statistics: on a
    young `annotations` table it would re-read all of the user's annotations
    for every candidate, which grows with their history (seen: 30 ms after
    1,000 annotations, 6 ms once autovacuum had analyzed the table).
    """
    return [
        ~select(literal(1))
        .where(table.c.item_id == items.c.id, table.c.user_id == bindparam("user"))
        .offset(0)
        .exists()
        for table in (annotations_table, skips, leases)
    ]


def _route_condition(routes: RouteFilter) -> ColumnElement[bool]:
    allowed = [items.c.route_rule.in_(sorted(routes.rules))] if routes.rules else []
    if routes.base:
        allowed.append(items.c.route_rule.is_(None))
    return or_(*allowed) if allowed else items.c.id.is_(None)


_LEASE_COLUMNS = (items.c.kind, items.c.content, items.c.metadata)


@lru_cache(maxsize=256)
def _claim_statement(routes: RouteFilter, single_statement: bool) -> Select[Any]:
    """The claim of the best item `routes` allow; with `single_statement` (PostgreSQL)
    the same query also counts the lease on the item and inserts it."""
    candidate = (
        select(items.c.id)
        .where(
            items.c.project_id == bindparam("project"),
            items.c.status == "queued",
            items.c.annotation_count + items.c.lease_count < bindparam("overlap", type_=Integer),
            _route_condition(routes),
            *_not_seen_by_user(),
        )
        .order_by(items.c.priority.desc(), items.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if not single_statement:
        return candidate
    chosen = candidate.cte("chosen")
    counted = (
        update(items)
        .where(items.c.id == chosen.c.id)
        .values(lease_count=items.c.lease_count + 1)
        .returning(items.c.id, *_LEASE_COLUMNS)
        .cte("counted")
    )
    made = (
        insert(leases)
        .from_select(
            ["project_id", "item_id", "user_id", "expires_at", "created_at"],
            select(
                bindparam("project"),
                chosen.c.id,
                bindparam("user"),
                bindparam("until", type_=TIME),
                bindparam("at", type_=TIME),
            ),
        )
        .returning(leases.c.id, leases.c.item_id, leases.c.expires_at)
        .cte("made")
    )
    return select(
        made.c.id,
        made.c.expires_at,
        counted.c.id,
        *(counted.c[c.name] for c in _LEASE_COLUMNS),
        _prelabels_json(counted.c.id),
    ).join_from(counted, made, made.c.item_id == counted.c.id)


def _prelabels_json(item_id: Any) -> Any:
    """PostgreSQL: the item's pre-labels as one JSON array, oldest first."""
    entry = func.jsonb_build_object(
        "model",
        prelabels.c.model,
        "annotation",
        prelabels.c.annotation,
        "confidence",
        prelabels.c.confidence,
    )
    return (
        select(
            func.coalesce(
                func.jsonb_agg(aggregate_order_by(entry, prelabels.c.id)),
                literal_column("'[]'::jsonb"),
            )
        )
        .where(prelabels.c.item_id == item_id)
        .scalar_subquery()
        .cast(JsonType)
    )


def claim_regular(
    conn: Connection,
    seat: Seat,
    overlap: int,
    routes: RouteFilter,
    now: datetime,
    expires_at: datetime,
) -> LeasedItem | None:
    """Lease the highest-priority item that still needs annotations and that this
    user may take; None when there is none."""
    params = {
        "project": seat.project_id,
        "user": seat.user_id,
        "overlap": overlap,
        "at": now,
        "until": expires_at,
    }
    if conn.dialect.name == "postgresql":
        row = conn.execute(_claim_statement(routes, True), params).first()
        return LeasedItem(*row) if row is not None else None
    item_id = conn.execute(_claim_statement(routes, False), params).scalar()
    if item_id is None:
        return None
    return lease_item(conn, seat, item_id, now, expires_at)


_GOLD_BOUNDS = select(func.min(items.c.id), func.max(items.c.id)).where(
    items.c.project_id == bindparam("project"), items.c.status == "gold"
)


@lru_cache(maxsize=8)
def _gold_statement(qualification_only: bool, from_pivot: bool) -> Select[Any]:
    conditions = [
        items.c.project_id == bindparam("project"),
        items.c.status == "gold",
        *_not_seen_by_user(),
        items.c.id >= bindparam("pivot") if from_pivot else items.c.id < bindparam("pivot"),
    ]
    if qualification_only:
        gold = table_of(GoldAnswer)
        conditions.append(exists().where(gold.c.item_id == items.c.id, gold.c.qualification))
    return select(items.c.id).where(and_(*conditions)).order_by(items.c.id).limit(1)


def claim_gold(
    conn: Connection,
    project_id: int,
    user_id: int,
    rng: random.Random,
    qualification: bool = False,
) -> int | None:
    """A gold item the user has not seen, starting at a random point so annotators
    meet gold items in different orders (qualification items first when asked)."""
    low, high = conn.execute(_GOLD_BOUNDS, {"project": project_id}).one()
    if low is None:
        return None
    params = {"project": project_id, "user": user_id, "pivot": rng.randint(low, high)}
    for qualification_only in (True, False) if qualification else (False,):
        for from_pivot in (True, False):
            found = conn.execute(_gold_statement(qualification_only, from_pivot), params).scalar()
            if found is not None:
                return int(found)
    return None


_COUNT_LEASE = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(lease_count=items.c.lease_count + 1)
    .returning(*_LEASE_COLUMNS)
)
_MAKE_LEASE = (
    insert(leases)
    .values(
        project_id=bindparam("project"),
        item_id=bindparam("item"),
        user_id=bindparam("user"),
        expires_at=bindparam("until", type_=TIME),
        created_at=bindparam("at", type_=TIME),
    )
    .returning(leases.c.id)
)


def lease_item(
    conn: Connection, seat: Seat, item_id: int, now: datetime, expires_at: datetime
) -> LeasedItem:
    """Record the claim of `item_id` and count it against the item's overlap."""
    params = {
        "project": seat.project_id,
        "item": item_id,
        "user": seat.user_id,
        "at": now,
        "until": expires_at,
    }
    kind, content, metadata = conn.execute(_COUNT_LEASE, params).one()
    lease_id = conn.execute(_MAKE_LEASE, params).scalar_one()
    return LeasedItem(lease_id, expires_at, item_id, kind, content, metadata)


_LEASED_ITEM = (
    select(leases.c.id, leases.c.expires_at, items.c.id, *_LEASE_COLUMNS)
    .join_from(leases, items, items.c.id == leases.c.item_id)
    .where(leases.c.id == bindparam("id"))
)


def leased_item(conn: Connection, lease_id: int) -> LeasedItem:
    """A live lease and its item, to serve it again."""
    return LeasedItem(*conn.execute(_LEASED_ITEM, {"id": lease_id}).one())


_PRELABELS = (
    select(prelabels.c.model, prelabels.c.annotation, prelabels.c.confidence)
    .where(prelabels.c.item_id == bindparam("item"))
    .order_by(prelabels.c.id)
)


def prelabels_of(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    """The item's model pre-labels, oldest first."""
    return [
        {"model": model, "annotation": annotation, "confidence": confidence}
        for model, annotation, confidence in conn.execute(_PRELABELS, {"item": item_id})
    ]


_HELD_LEASE = (
    select(
        leases.c.id,
        leases.c.created_at,
        items.c.id,
        items.c.content,
        items.c.is_gold,
        memberships.c.id.is_not(None),
        *_SEAT_COLUMNS,
    )
    .join_from(leases, items, items.c.id == leases.c.item_id)
    .join(projects, projects.c.id == leases.c.project_id)
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
    """The user's lease, its item and the user's seat in the project (None when
    they are no longer a member). Nothing is locked: `turn_in_lease` finds out
    whether the lease is still there."""
    row = conn.execute(_HELD_LEASE, {"lease": lease_id, "user": user_id}).first()
    if row is None:
        return None
    seat = Seat(*row[6:]) if row[5] else None
    return HeldLease(row[0], row[1], row[2], row[3], row[4], seat)


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


_GOLD_ANSWER = select(GoldAnswer.answer).where(GoldAnswer.item_id == bindparam("item"))


def gold_answer_of(conn: Connection, item_id: int) -> dict[str, Any]:
    """The stored answer of a gold item (gold items are created with theirs)."""
    return dict(conn.execute(_GOLD_ANSWER, {"item": item_id}).scalar_one())


def _count_gold(prefix: str) -> Any:
    answered, correct = memberships.c[f"{prefix}_answered"], memberships.c[f"{prefix}_correct"]
    return (
        update(memberships)
        .where(memberships.c.id == bindparam("membership"))
        .values({answered: answered + 1, correct: correct + bindparam("right", type_=Integer)})
        .returning(answered, correct)
    )


_COUNT_GOLD = {"gold": _count_gold("gold"), "qualification": _count_gold("qualification")}


def count_gold_answer(
    conn: Connection, membership_id: int, qualifying: bool, correct: bool
) -> tuple[int, int]:
    """Add one scored gold answer to the member's counts (atomically); the new
    `(answered, correct)`."""
    statement = _COUNT_GOLD["qualification" if qualifying else "gold"]
    answered, right = conn.execute(
        statement, {"membership": membership_id, "right": int(correct)}
    ).one()
    return int(answered), int(right)


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
