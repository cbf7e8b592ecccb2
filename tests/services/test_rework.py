"""Re-queueing items annotated under an older version, for the changed fields only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from annotary.errors import Forbidden, Invalid
from annotary.services.project_versions import update_project
from annotary.services.queue.serving import next_task
from annotary.services.rework import cancel_rework, requeue_for_rework
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    AuditEvent,
    FinalLabel,
    Item,
    Rework,
    ReworkAnnotation,
    User,
)
from tests.services.versions_world import (
    ANSWERS,
    FIELDS,
    NO_GOLD,
    PROJECT,
    build,
    definition,
)

WITH_MIXED = FIELDS.replace("positive, neutral, negative", "positive, neutral, negative, mixed")
NARROWER = FIELDS.replace("max: 7", "max: 5")
WITH_WHY = FIELDS + "    - {name: why, kind: text, when: {field: sentiment, equals: negative}}\n"


def statuses(db: Database) -> dict[str | None, str]:
    with read_session(db.sessions) as session:
        return dict(session.execute(select(Item.external_id, Item.status)).tuples().all())


def test_changed_labels_send_every_answered_item_back(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    update_project(db, definition(fields=WITH_MIXED))
    preview = requeue_for_rework(db, PROJECT, dry_run=True)
    assert (preview.items, preview.annotations, preview.applied) == (4, 4, False)
    assert preview.by_field == {"sentiment": 4}
    assert preview.by_version == {"schema v1 / guidelines v1": 4}
    assert statuses(db)["t1"] == "finalized"  # the dry run changed nothing

    plan = requeue_for_rework(db, PROJECT, actor=world.actors["boss"])
    assert plan.applied and plan.items == 4
    assert {e.external_id for e in plan.examples} == {"p1", "t1", "t2", "t3"}
    assert statuses(db) == {
        "g1": "gold",
        "p1": "rework",
        "t1": "rework",
        "t2": "rework",
        "t3": "rework",
    }
    with read_session(db.sessions) as session:
        reworks = session.scalars(select(Rework).order_by(Rework.item_id)).all()
        assert [(r.fields, r.schema_version, r.previous_status, r.status) for r in reworks] == [
            (["sentiment"], 2, "finalized", "open")
        ] * 4
        assert reworks[0].previous_final is not None
        assert reworks[0].previous_final["payload"] == ANSWERS[0]
        assert reworks[0].previous_final["method"] == "majority"
        redo = session.scalars(select(ReworkAnnotation).order_by(ReworkAnnotation.id)).all()
        assert [r.previous_payload for r in redo] == ANSWERS
        assert {(r.status, r.previous_schema_version) for r in redo} == {("open", 1)}
        # Final labels stay until the rework completes.
        assert len(session.scalars(select(FinalLabel)).all()) == 4
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project.rework")
        ).one()
        assert event.details["items"] == 4 and event.actor_id == world.actors["boss"].user_id
    # Items in rework are not served as new work.
    assert next_task(db, world.actors["ann2"], PROJECT, NO_GOLD) is None
    # Asking again finds them in rework already.
    again = requeue_for_rework(db, PROJECT, dry_run=True)
    assert again.items == 0 and again.skipped == {"in rework already": 4}


def test_only_annotations_touching_the_changed_fields(db: Database, tmp_path: Path) -> None:
    build(db, tmp_path)
    update_project(db, definition(fields=NARROWER), confirm=True)
    plan = requeue_for_rework(db, PROJECT, dry_run=True)
    # t2 gave no stars: nothing of it changed.
    assert {e.external_id for e in plan.examples} == {"p1", "t1", "t3"}
    assert plan.by_field == {"stars": 3}


def test_an_added_field_is_asked_where_it_applies(db: Database, tmp_path: Path) -> None:
    build(db, tmp_path)
    update_project(db, definition(fields=WITH_WHY), confirm=True)
    plan = requeue_for_rework(db, PROJECT, dry_run=True)
    # `why` applies only to negative annotations (t3).
    assert [(e.external_id, e.fields) for e in plan.examples] == [("t3", ["why"])]


def test_named_fields_after_a_guidelines_change(db: Database, tmp_path: Path) -> None:
    build(db, tmp_path)
    update_project(db, definition(guidelines="  Stars: 4 means good."))
    assert requeue_for_rework(db, PROJECT, dry_run=True).items == 0  # no field changed
    plan = requeue_for_rework(db, PROJECT, fields=["stars"], dry_run=True)
    assert plan.items == 4 and plan.by_field == {"stars": 4}
    assert plan.requested == ["stars"]
    with pytest.raises(Invalid) as raised:
        requeue_for_rework(db, PROJECT, fields=["stras"])
    assert raised.value.code == "E425" and "sentiment" in raised.value.details[0].reason


def test_authors_who_left_are_not_waited_for(db: Database, tmp_path: Path) -> None:
    build(db, tmp_path)
    update_project(db, definition(fields=WITH_MIXED))
    with write_transaction(db.sessions) as session:
        user = session.scalars(select(User).where(User.username == "ann1")).one()
        user.is_active = False
    plan = requeue_for_rework(db, PROJECT)
    assert (plan.items, plan.annotations, plan.dropped) == (0, 0, 4)
    assert plan.skipped == {"no active author": 4}
    assert statuses(db)["t1"] == "finalized"


def test_leased_items_wait_for_a_later_run(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, overlap=2)
    update_project(db, definition(fields=WITH_MIXED, overlap=2))
    task = next_task(db, world.actors["ann2"], PROJECT, NO_GOLD)
    assert task is not None
    plan = requeue_for_rework(db, PROJECT)
    assert plan.items == 3 and plan.skipped == {"leased now (run again later)": 1}
    with read_session(db.sessions) as session:
        leased = session.get(Item, task.item_id)
        assert leased is not None and leased.status == "queued"


def test_cancel_puts_items_back(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    update_project(db, definition(fields=WITH_MIXED))
    requeue_for_rework(db, PROJECT)
    with pytest.raises(Forbidden):
        cancel_rework(db, PROJECT, actor=world.actors["ann1"])
    assert cancel_rework(db, PROJECT, actor=world.actors["boss"]) == 4
    assert set(statuses(db).values()) == {"gold", "finalized"}
    with read_session(db.sessions) as session:
        assert {r.status for r in session.scalars(select(Rework))} == {"cancelled"}
        assert {r.status for r in session.scalars(select(ReworkAnnotation))} == {"dropped"}
    assert cancel_rework(db, PROJECT) == 0


def test_only_managers_requeue(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    with pytest.raises(Forbidden):
        requeue_for_rework(db, PROJECT, actor=world.actors["ann1"], dry_run=True)
