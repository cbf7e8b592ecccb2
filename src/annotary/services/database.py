"""Opening the database for a use case: reachable, migrated, ready."""

from __future__ import annotations

from annotary.storage.db import Database, current_revision, require_current, upgrade


def open_database(url: str, auto_create: bool = True, pool_size: int = 10) -> Database:
    """Connect to `url`, ready for use (`pool_size`: PostgreSQL connections kept open).

    An empty database is migrated on first use (zero set-up); one at an older
    revision is an error that says to run `annotary db upgrade`.
    """
    db = Database.from_url(url, pool_size)
    try:
        if auto_create and current_revision(db.engine) is None:
            upgrade(db.engine)
        require_current(db.engine)
    except BaseException:
        db.dispose()
        raise
    return db


def upgrade_database(url: str) -> tuple[str | None, str | None]:
    """Migrate to the newest revision; returns (revision before, revision after)."""
    db = Database.from_url(url)
    try:
        before = current_revision(db.engine)
        upgrade(db.engine)
        return before, current_revision(db.engine)
    finally:
        db.dispose()
