"""Reads and writes behind the people use cases: accounts, memberships, the
sessions and tokens a user holds, and the leases they give back.

Every function runs in the caller's transaction (an ORM session). Releasing
leases follows the queue's own rule (`queue_store.reclaim_expired`): a lease
row deleted here frees its slot on the item in the same transaction, and item
rows are updated in id order so that two releases never wait on each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from annotary.storage.models import (
    ApiToken,
    Membership,
    User,
    WebSession,
)
from annotary.storage.queue_store import items, leases, skips


def _locking(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def user_by_name(session: Session, username: str, *, lock: bool = False) -> User | None:
    """The user called `username`; `lock` takes its row lock (PostgreSQL).

    The lock is `FOR NO KEY UPDATE`: rows that point at the user (a lease or an
    annotation being inserted) only need a key-share lock and do not wait on it.
    """
    query = select(User).where(User.username == username)
    if lock and _locking(session):
        query = query.with_for_update(key_share=True)
    return session.scalar(query)


def active_admin_ids(session: Session) -> list[int]:
    """Ids of the active global admins, their rows locked (PostgreSQL) so that two
    admins deactivating each other at once cannot both pass the last-admin check.

    Take this lock before any other user row lock: every deactivation does, so
    two of them queue here instead of deadlocking.
    """
    query = select(User.id).where(User.is_admin.is_(True), User.is_active.is_(True))
    if _locking(session):
        query = query.order_by(User.id).with_for_update(key_share=True)
    return list(session.scalars(query))


def lock_memberships_of(session: Session, user_id: int) -> None:
    """Lock the user's membership rows (PostgreSQL): the queue locks the same row
    while it serves them, so a request already being served finishes first."""
    if _locking(session):
        session.execute(
            select(Membership.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.id)
            .with_for_update()
        ).all()


def membership_of(
    session: Session, project_id: int, user_id: int, *, lock: bool = False
) -> Membership | None:
    """The user's membership in the project, if any (locked on request, PostgreSQL)."""
    query = select(Membership).where(
        Membership.project_id == project_id, Membership.user_id == user_id
    )
    if lock and _locking(session):
        query = query.with_for_update()
    return session.scalar(query)


def delete_membership(session: Session, membership: Membership) -> None:
    """Remove a membership (annotations, which belong to the user, stay)."""
    session.execute(delete(Membership).where(Membership.id == membership.id))


def end_web_sessions(session: Session, user_id: int, keep_hash: str | None = None) -> int:
    """Delete the user's browser sessions (all but the one whose hash is `keep_hash`)."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_hash is not None:
        query = query.where(WebSession.session_hash != keep_hash)
    return len(session.execute(query.returning(WebSession.id)).all())


def revoke_api_tokens(session: Session, user_id: int, now: datetime) -> list[str]:
    """Revoke every live API token of the user; the SHA-256 of each one revoked."""
    revoked = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.token_hash)
    )
    return list(revoked.scalars())


_FREE_SLOTS = (
    update(items)
    .where(items.c.id == bindparam("item"))
    .values(lease_count=items.c.lease_count - bindparam("freed", type_=Integer))
)


def release_leases(
    session: Session,
    user_ids: Collection[int],
    *,
    project_id: int | None = None,
    item_ids: Collection[int] | None = None,
) -> int:
    """Give back the users' leases (in one project, or on some items, when given):
    the lease rows go and their items' slots are freed for others. How many."""
    if not user_ids or (item_ids is not None and not item_ids):
        return 0
    query = delete(leases).where(leases.c.user_id.in_(sorted(user_ids)))
    if project_id is not None:
        query = query.where(leases.c.project_id == project_id)
    if item_ids is not None:
        query = query.where(leases.c.item_id.in_(sorted(item_ids)))
    conn = session.connection()
    freed = Counter(conn.execute(query.returning(leases.c.item_id)).scalars())
    if freed:
        conn.execute(_FREE_SLOTS, [{"item": i, "freed": n} for i, n in sorted(freed.items())])
    return sum(freed.values())


def mark_items_seen(
    session: Session, user_ids: Sequence[int], item_ids: Sequence[int], reason: str
) -> None:
    """Record that the users have seen these items outside the queue (a skip row),
    so the queue never serves them to these users."""
    rows = [
        {"item_id": item, "user_id": user, "reason": reason}
        for user in user_ids
        for item in item_ids
    ]
    if not rows:
        return
    dialect: Any = postgresql if _locking(session) else sqlite
    statement = dialect.insert(skips).on_conflict_do_nothing(index_elements=["item_id", "user_id"])
    session.connection().execute(statement, rows)


def worker_attributes(session: Session, project_id: int, roles: Collection[str]) -> list[Any]:
    """The self-reported attributes of the project's active members in `roles`, one each."""
    return list(
        session.scalars(
            select(User.attributes)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.project_id == project_id,
                Membership.role.in_(sorted(roles)),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )
