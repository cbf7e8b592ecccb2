"""Telling a running import from a dead one, and closing the dead ones.

Every import records its process (`host:pid`) on its row in `import_batches`
and refreshes a heartbeat with every transaction. An import left `running` by
a process that is gone (killed, the machine rebooted) is marked `interrupted`
by the next import into the project, with an audit event; the items it
committed stay, complete, and a re-run of its file skips them.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from annotary.services.audit import record_event
from annotary.storage.import_store import (
    INTERRUPTED,
    RunningImport,
    finish_import_batch,
    running_imports,
)
from annotary.storage.models import utcnow

STALE_AFTER = timedelta(minutes=2)
"""A running import whose heartbeat is older than this is taken for dead."""


def this_runner() -> str:
    """`host:pid` of this process, as recorded on the imports it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_abandoned(running: RunningImport, now: datetime) -> bool:
    """Whether a `running` import's process is gone: on this host its process no
    longer exists; anywhere, its heartbeat is older than STALE_AFTER."""
    beat = running.heartbeat_at
    if beat is None or _as_utc(beat) < now - STALE_AFTER:
        return True
    host, _, pid = (running.runner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_exists(int(pid))
    return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def close_abandoned_imports(session: Session, project_id: int, source: str) -> list[int]:
    """Mark the project's running imports whose process is gone `interrupted`,
    each with an audit event, in the caller's transaction; returns their ids."""
    now = utcnow()
    closed = []
    conn = session.connection()
    for running in running_imports(conn, project_id):
        if is_abandoned(running, now):
            finish_import_batch(conn, running.id, running.counts, INTERRUPTED, now)
            record_event(
                session,
                "items.import_interrupted",
                project_id=project_id,
                target=f"import:{running.id}",
                details={"source": running.source, "runner": running.runner},
                source=source,
            )
            closed.append(running.id)
    return closed
