"""The append-only audit log, chained by hashes (SPEC 10).

Each event's hash covers its own fields and the previous event's hash, so
editing or deleting any row breaks every hash after it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from annotary.storage.models import AuditEvent, utcnow

# Any constant works; it names the advisory lock that serializes chain appends.
_CHAIN_LOCK = 7_212_026


def event_hash(
    prev_hash: str | None,
    at: datetime,
    actor_id: int | None,
    action: str,
    project_id: int | None,
    target: str | None,
    details: dict[str, Any],
    source: str | None,
) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON."""
    body = orjson.dumps(
        {
            "prev": prev_hash,
            "at": at.replace(tzinfo=None).isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "project": project_id,
            "target": target,
            "details": details,
            "source": source,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def record_event(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    project_id: int | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    source: str | None = "cli",
) -> AuditEvent:
    """Append one event in the caller's transaction (rolled back with it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    at = utcnow()
    body = details or {}
    event = AuditEvent(
        at=at,
        actor_id=actor_id,
        action=action,
        project_id=project_id,
        target=target,
        details=body,
        source=source,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash, at, actor_id, action, project_id, target, body, source),
    )
    session.add(event)
    session.flush()
    return event
