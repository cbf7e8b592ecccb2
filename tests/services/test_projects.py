from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotary.errors import Conflict, NotFound
from annotary.services.audit import event_hash
from annotary.services.projects import create_project, get_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import AuditEvent, GuidelineVersion, SchemaVersion
from tests.services.helpers import sentiment_project


def test_create_project_stores_versions_and_audit(db: Database) -> None:
    ref = create_project(db, sentiment_project())
    assert ref.name == "reviews"
    with read_session(db.sessions) as session:
        loaded = get_project(session, "reviews")
        assert loaded.schema == sentiment_project().schema_
        assert loaded.guideline_version == 1
        assert session.scalar(select(func.count()).select_from(SchemaVersion)) == 1
        text = session.scalar(select(GuidelineVersion.text))
        assert text is not None and "Pick the sentiment" in text
        event = session.scalars(select(AuditEvent)).one()
        assert event.action == "project.create"
        assert event.project_id == ref.id


def test_duplicate_project_name_is_a_conflict_and_changes_nothing(db: Database) -> None:
    create_project(db, sentiment_project())
    with pytest.raises(Conflict) as raised:
        create_project(db, sentiment_project())
    assert raised.value.code == "E402"
    with read_session(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(SchemaVersion)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_unknown_project_lists_known_names(db: Database) -> None:
    create_project(db, sentiment_project("alpha"))
    with read_session(db.sessions) as session, pytest.raises(NotFound) as raised:
        get_project(session, "beta")
    assert raised.value.code == "E401"
    assert "alpha" in raised.value.message


def test_audit_events_are_hash_chained(db: Database) -> None:
    create_project(db, sentiment_project("one"))
    create_project(db, sentiment_project("two"))
    with read_session(db.sessions) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash is None
    assert events[1].prev_hash == events[0].hash
    for event in events:
        recomputed = event_hash(
            event.prev_hash,
            event.at,
            event.actor_id,
            event.action,
            event.project_id,
            event.target,
            event.details,
            event.source,
        )
        assert recomputed == event.hash
