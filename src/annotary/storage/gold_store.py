"""The gold claim of the queue (SPEC 5), as prebuilt Core statements.

A gold item must cost what a regular item costs to serve, or timing would
tell them apart: on PostgreSQL one statement picks the gold item, counts the
lease on it, inserts the lease and returns the item with its pre-labels, like
the regular claim (`queue_store.claim_regular`); on SQLite one statement picks
it and `queue_store.lease_item` leases it, again like the regular claim.

The pick starts at a random point of the project's gold ids and takes the
first unseen gold item from there, wrapping around, so annotators meet gold
items in different orders. The bounds of that range come from the partial
index `ix_items_gold` (two index probes), inside the same statement.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Connection

from annotary.storage.models import GoldAnswer
from annotary.storage.queue_store import (
    LEASE_COLUMNS,
    TIME,
    LeasedItem,
    Seat,
    items,
    lease_item,
    leases,
    not_seen_by_user,
    prelabels_json,
    table_of,
)

gold_answers = table_of(GoldAnswer)
# Written into the SQL, not bound: a generic plan of a prepared statement can
# use the partial index `ix_items_gold` only when it sees the literal status.
GOLD = literal_column("'gold'", String)


def _gold_end(descending: bool) -> Any:
    """The lowest (highest) gold id of the project: one probe of `ix_items_gold`."""
    end = items.alias("gold_end_desc" if descending else "gold_end")
    query = select(end.c.id).where(end.c.project_id == bindparam("project"), end.c.status == GOLD)
    return query.order_by(end.c.id.desc() if descending else end.c.id).limit(1).scalar_subquery()


def _pivot(postgresql: bool) -> Any:
    """A gold id drawn uniformly between the lowest and highest (`:draw` in [0, 1))."""
    low, high = _gold_end(False), _gold_end(True)
    offset = (high - low + 1) * bindparam("draw", type_=Float)
    # PostgreSQL rounds a cast to integer; SQLite truncates (floor, as offset >= 0).
    return low + cast(func.floor(offset) if postgresql else offset, Integer)


def _first_unseen(pivot: Any, from_pivot: bool, qualification_only: bool) -> Any:
    conditions = [
        items.c.project_id == bindparam("project"),
        items.c.status == GOLD,
        *not_seen_by_user(),
        items.c.id >= pivot if from_pivot else items.c.id < pivot,
    ]
    if qualification_only:
        conditions.append(
            exists().where(gold_answers.c.item_id == items.c.id, gold_answers.c.qualification)
        )
    return select(items.c.id).where(*conditions).order_by(items.c.id).limit(1).scalar_subquery()


@lru_cache(maxsize=8)
def _gold_statement(qualification: bool, postgresql: bool) -> Select[Any]:
    """The pick (the first unseen gold item from the pivot on, then before it;
    qualification items first when `qualification`); on PostgreSQL also the
    lease, as one statement. COALESCE stops at the first pick that finds one."""
    pivot = _pivot(postgresql)
    order = [(True, True), (True, False)] if qualification else []
    order += [(False, True), (False, False)]
    picks = [_first_unseen(pivot, from_pivot, only) for only, from_pivot in order]
    chosen = select(func.coalesce(*picks).label("id"))
    if not postgresql:
        return chosen
    picked = chosen.cte("picked")
    counted = (
        update(items)
        .where(items.c.id == picked.c.id)
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
                counted.c.id,
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


def claim_gold(
    conn: Connection,
    seat: Seat,
    draw: float,
    now: datetime,
    expires_at: datetime,
    *,
    qualification: bool = False,
) -> LeasedItem | None:
    """Lease a gold item the user has not seen, from a random point (`draw`, uniform
    in [0, 1)) of the gold ids on; qualification items first when asked. None
    when the user has seen every gold item."""
    params = {
        "project": seat.project_id,
        "user": seat.user_id,
        "draw": draw,
        "at": now,
        "until": expires_at,
    }
    if conn.dialect.name == "postgresql":
        row = conn.execute(_gold_statement(qualification, True), params).first()
        return LeasedItem(*row) if row is not None else None
    item_id = conn.execute(_gold_statement(qualification, False), params).scalar()
    if item_id is None:
        return None
    return lease_item(conn, seat, item_id, now, expires_at)
