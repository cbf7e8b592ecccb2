"""Counters of failed logins, one row per account or client address.

Each function runs in the caller's transaction. `count_failure` is one upsert,
so two server processes counting a failure for the same key at once both count
(the row lock of `ON CONFLICT DO UPDATE` orders them on PostgreSQL; SQLite
writers are serialized anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from annotary.storage.models import LoginThrottle


def locks_in_force(session: Session, keys: Iterable[str], now: datetime) -> dict[str, datetime]:
    """`{key: locked_until}` for those of `keys` that are locked at `now`."""
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(list(keys)), LoginThrottle.locked_until > now
        )
    ).all()
    return {key: until for key, until in rows if until is not None}


def count_failure(
    session: Session, key: str, now: datetime, window_start: datetime
) -> tuple[int, datetime | None]:
    """Count one failure for `key`: `(failures in the window, locked_until)`.

    A row whose window began before `window_start` starts a new window at 1.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stale = LoginThrottle.window_started_at < window_start
    statement = (
        insert(LoginThrottle)
        .values(key=key, failures=1, window_started_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
            },
        )
        .returning(LoginThrottle.failures, LoginThrottle.locked_until)
    )
    failures, locked_until = session.execute(statement).one()
    return failures, locked_until


def lock(session: Session, key: str, until: datetime) -> None:
    """Refuse logins for `key` until `until`."""
    session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=until)
    )


def forget(session: Session, key: str) -> None:
    """Drop the counter of `key` (a successful login of the account)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def sweep(session: Session, now: datetime, window_start: datetime) -> None:
    """Delete counters whose window is over and whose lock (if any) has ended."""
    session.execute(
        delete(LoginThrottle).where(
            and_(
                LoginThrottle.window_started_at < window_start,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
            )
        )
    )
