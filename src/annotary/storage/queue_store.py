"""The atomic claims behind the queue (SPEC 5), as prebuilt Core statements
(the gold claim is `gold_store`, the submit side `submit_store`).

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

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
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
    Item,
    JsonType,
    Lease,
    Membership,
    Prelabel,
    Project,
    ProjectSecret,
    Rework,
    ReworkAnnotation,
    Skip,
)


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model."""
    return cast(Table, model.__table__)


items, leases, annotations_table = table_of(Item), table_of(Lease), table_of(Annotation)
projects, memberships, skips = table_of(Project), table_of(Membership), table_of(Skip)
prelabels, project_secrets = table_of(Prelabel), table_of(ProjectSecret)
reworks, rework_annotations = table_of(Rework), table_of(ReworkAnnotation)
TIME = DateTime(timezone=True)


@dataclass(frozen=True)
class Seat:
    """A member's place in a project: the project and membership columns the queue needs."""

    project_id: int
    project_name: str
    definition: dict[str, Any]
    secret: str = field(repr=False)
    """The project's secret key, hex (see `core.queue.item_reference`)."""
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


SEAT_COLUMNS = (
    projects.c.id,
    projects.c.name,
    projects.c.definition,
    project_secrets.c.secret,
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
# The member's oldest open rework row in the project (SPEC 8): one probe of
# `ix_rework_annotations_user_id_status`, which finds nothing for nearly everyone.
_OPEN_REWORK = (
    select(rework_annotations.c.id)
    .join_from(rework_annotations, reworks, reworks.c.id == rework_annotations.c.rework_id)
    .where(
        rework_annotations.c.user_id == memberships.c.user_id,
        rework_annotations.c.status == literal_column("'open'"),
        reworks.c.project_id == projects.c.id,
        reworks.c.status == literal_column("'open'"),
    )
    .order_by(rework_annotations.c.id)
    .limit(1)
    .scalar_subquery()
)
# The membership row is locked (PostgreSQL) so that one user's concurrent
# `next task` calls serialize: the second sees the lease the first made.
_SEAT_BY_NAME = (
    select(*SEAT_COLUMNS, _LIVE_LEASE, _OPEN_REWORK)
    .join_from(projects, memberships, memberships.c.project_id == projects.c.id)
    .join(project_secrets, project_secrets.c.project_id == projects.c.id)
    .where(memberships.c.user_id == bindparam("user"), projects.c.name == bindparam("name"))
    .with_for_update(of=memberships)
)


@dataclass(frozen=True)
class SeatAt:
    """A member's locked seat, their live lease and their oldest open rework row."""

    seat: Seat
    live_lease: int | None
    rework_row: int | None


def seat_by_name(conn: Connection, user_id: int, project_name: str, now: datetime) -> SeatAt | None:
    """The user's locked seat in the named project, their live lease id and their
    oldest open rework row (`rework_annotations.id`), if any."""
    params = {"user": user_id, "name": project_name, "at": now}
    row = conn.execute(_SEAT_BY_NAME, params).first()
    if row is None:
        return None
    return SeatAt(Seat(*row[:-2]), row[-2], row[-1])


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


def not_seen_by_user() -> list[ColumnElement[bool]]:
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


def route_condition(routes: RouteFilter) -> ColumnElement[bool]:
    """Items whose routing rule `routes` allows (see `core.queue.RouteFilter`)."""
    allowed = [items.c.route_rule.in_(sorted(routes.rules))] if routes.rules else []
    if routes.base:
        allowed.append(items.c.route_rule.is_(None))
    return or_(*allowed) if allowed else items.c.id.is_(None)


LEASE_COLUMNS = (items.c.kind, items.c.content, items.c.metadata)


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
            route_condition(routes),
            *not_seen_by_user(),
        )
        .order_by(items.c.priority.desc(), items.c.id)
        .limit(1)
        # NO KEY UPDATE: the key never changes, and the weaker lock does not
        # hold up foreign-key checks of rows that point at the item.
        .with_for_update(skip_locked=True, key_share=True)
    )
    if not single_statement:
        return candidate
    chosen = candidate.cte("chosen")
    counted = (
        update(items)
        .where(items.c.id == chosen.c.id)
        .values(lease_count=items.c.lease_count + 1)
        .returning(items.c.id, *LEASE_COLUMNS)
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
        *(counted.c[c.name] for c in LEASE_COLUMNS),
        prelabels_json(counted.c.id),
    ).join_from(counted, made, made.c.item_id == counted.c.id)


def prelabels_json(item_id: Any) -> Any:
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


_COUNT_LEASE = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(lease_count=items.c.lease_count + 1)
    .returning(*LEASE_COLUMNS)
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
    select(leases.c.id, leases.c.expires_at, items.c.id, *LEASE_COLUMNS, items.c.status)
    .join_from(leases, items, items.c.id == leases.c.item_id)
    .where(leases.c.id == bindparam("id"))
)


def leased_item(conn: Connection, lease_id: int) -> tuple[LeasedItem, str]:
    """A live lease and its item, to serve it again, with the item's status."""
    row = conn.execute(_LEASED_ITEM, {"id": lease_id}).one()
    return LeasedItem(*row[:-1]), row[-1]


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
