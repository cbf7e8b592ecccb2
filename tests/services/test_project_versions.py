"""Project updates make new schema/guideline versions, list what they would
invalidate, and keep every revision diffable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotary.core.ingest.mapping import ImportOptions
from annotary.errors import Conflict, Forbidden, Invalid, NotFound
from annotary.services.imports import import_items
from annotary.services.project_revisions import diff_revisions
from annotary.services.project_versions import (
    plan_update,
    update_project,
    update_project_from_text,
)
from annotary.services.projects import create_project, get_project
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    Annotation,
    AuditEvent,
    GuidelineVersion,
    Item,
    Project,
    ProjectRevision,
    SchemaVersion,
)
from tests.services.helpers import write_jsonl
from tests.services.versions_world import (
    FIELDS,
    NO_GOLD,
    PROJECT,
    build,
    definition,
    project_text,
)

NARROWER = FIELDS.replace("max: 7", "max: 5")
NO_NEUTRAL = FIELDS.replace("positive, neutral, negative", "positive, negative")
WITH_MIXED = FIELDS.replace("positive, neutral, negative", "positive, neutral, negative, mixed")


def counts(db: Database) -> tuple[int, int, int, int]:
    """Schema versions, guideline versions, revisions and update events stored."""
    with read_session(db.sessions) as session:
        return (
            session.scalar(select(func.count()).select_from(SchemaVersion)) or 0,
            session.scalar(select(func.count()).select_from(GuidelineVersion)) or 0,
            session.scalar(select(func.count()).select_from(ProjectRevision)) or 0,
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "project.update")
            )
            or 0,
        )


def test_an_unchanged_file_makes_nothing_new(db: Database, tmp_path: Path) -> None:
    create_project(db, definition())
    plan = update_project(db, definition())
    assert not plan.changed and plan.revision is None
    assert counts(db) == (1, 1, 1, 0)


def test_new_guidelines_make_a_guideline_version_only(db: Database) -> None:
    create_project(db, definition())
    plan = update_project(db, definition(guidelines="  Pick the sentiment.\n  Be quick."))
    assert plan.revision == 2 and plan.new_guidelines and not plan.new_schema
    assert plan.diff.guidelines[:2] == ["--- guidelines v1", "+++ guidelines v2"]
    assert "-Rate the stars." in plan.diff.guidelines
    assert "+Be quick." in plan.diff.guidelines
    assert counts(db) == (1, 2, 2, 1)
    with read_session(db.sessions) as session:
        ref = get_project(session, PROJECT)
        assert (ref.schema.version, ref.guideline_version) == (1, 2)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project.update")
        ).one()
    assert event.details["guideline_version"] == [1, 2]
    assert event.details["schema_version"] is None


def test_settings_change_without_new_versions(db: Database) -> None:
    create_project(db, definition())
    plan = update_project(db, definition(overlap=3, title="Renamed"))
    assert plan.revision == 2 and not plan.new_schema and not plan.new_guidelines
    assert [str(c) for c in plan.diff.settings] == [
        "title: Versions -> Renamed",
        "workflow.overlap: 1 -> 3",
    ]
    with read_session(db.sessions) as session:
        project = session.scalars(select(Project)).one()
        assert project.definition["workflow"]["overlap"] == 3
        assert project.title == "Renamed"
    assert counts(db) == (1, 1, 2, 1)


def test_a_widening_change_applies_and_new_work_uses_it(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, overlap=2)
    plan = update_project(db, definition(fields=WITH_MIXED, overlap=2))
    assert plan.revision == 2 and plan.new_schema and not plan.invalidates
    assert plan.diff.schema is not None
    assert [str(c) for c in plan.diff.schema.changes] == ["sentiment: labels added: mixed"]
    # Every kind of stored value was checked, and all still validate.
    assert [(t.record, t.invalid) for t in plan.invalidated] == [
        ("annotation", 0),
        ("gold answer", 0),
        ("pre-label", 0),
        ("final label", 0),
    ]
    assert plan.invalidated[0].checked == 4
    task = next_task(db, world.actors["ann2"], PROJECT, NO_GOLD)
    assert task is not None and task.schema_version == 2
    submit_annotation(db, world.actors["ann2"], task.lease_id, {"sentiment": "mixed"})
    with read_session(db.sessions) as session:
        versions = session.scalars(select(Annotation.schema_version).order_by(Annotation.id)).all()
    assert versions == [1, 1, 1, 1, 2]


def test_invalidating_change_is_refused_with_counts_and_examples(
    db: Database, tmp_path: Path
) -> None:
    build(db, tmp_path)
    before = counts(db)
    with pytest.raises(Conflict) as raised:
        update_project(db, definition(fields=NARROWER))
    error = raised.value
    assert error.code == "E422"
    # Stars 6 and 7 no longer fit 1-5: two annotations (p1, t3), their two final
    # labels and the pre-label of p1; the gold answer (4) still fits.
    assert "2 of 4 annotations" in error.message
    assert "2 of 4 final labels" in error.message and "1 of 1 pre-labels" in error.message
    assert "gold answer" not in error.message
    summary = [(d.path, d.reason) for d in error.details if d.location == "summary"]
    assert ("stars", "2 annotation(s) no longer validate") in summary
    examples = [d for d in error.details if d.location != "summary"]
    assert {d.path for d in examples} == {"stars"}
    assert any(
        "(p1)" in (d.location or "") and "annotation" in (d.location or "") for d in examples
    )
    assert all("outside the scale [1, 5]" in d.reason for d in examples)
    assert counts(db) == before


def test_confirmed_invalidating_change_applies(db: Database, tmp_path: Path) -> None:
    build(db, tmp_path)
    plan = update_project(db, definition(fields=NO_NEUTRAL), confirm=True)
    assert plan.revision == 2 and plan.invalidates
    tallies = {t.record: t for t in plan.invalidated}
    # neutral: annotations of p1 and t2 (and their final labels), the gold answer, the pre-label
    assert tallies["annotation"].invalid == 2
    assert tallies["gold answer"].invalid == 1
    assert tallies["pre-label"].invalid == 1
    assert tallies["final label"].invalid == 2
    assert {e.external_id for e in tallies["annotation"].examples} == {"p1", "t2"}
    with read_session(db.sessions) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "project.update")
        ).one()
    assert event.details["confirmed"] is True
    assert event.details["invalidated"] == {
        "annotation": 2,
        "gold answer": 1,
        "pre-label": 1,
        "final label": 2,
    }
    assert event.details["schema_changes"] == ["sentiment: labels removed: neutral"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            FIELDS.replace(
                "required: false}\n    - {name: note", "required: true}\n    - {name: note", 1
            ),
            "is required",
        ),
        (
            FIELDS.replace("kind: rating, min: 1, max: 7", "kind: label, labels: [low, high]"),
            "label",
        ),
        (FIELDS + "    - {name: topic, kind: label, labels: [a, b]}\n", "is required"),
        (
            FIELDS.replace("    - {name: note, kind: text, required: false}\n", ""),
            "no longer in the schema",
        ),
    ],
    ids=["became-required", "kind-changed", "required-field-added", "field-removed"],
)
def test_each_kind_of_breaking_change_is_caught(
    db: Database, tmp_path: Path, fields: str, reason: str
) -> None:
    build(db, tmp_path)
    if "note" not in fields:
        # Give one annotation a note, so removing the field invalidates something.
        with read_session(db.sessions) as session:
            ann = session.scalars(select(Annotation).order_by(Annotation.id)).first()
            assert ann is not None
        with write_transaction(db.sessions) as session:
            row = session.get(Annotation, ann.id)
            assert row is not None
            row.payload = {**row.payload, "note": "kept"}
    plan = plan_update(db, definition(fields=fields))
    annotations = plan.invalidated[0]
    assert annotations.invalid >= 1
    assert any(reason in e.reason for e in annotations.examples), annotations.examples


def test_item_kind_is_locked_once_items_exist(db: Database, tmp_path: Path) -> None:
    create_project(db, definition())
    plan = update_project(db, definition(kind="prompt_responses"))
    assert [str(c) for c in plan.diff.settings] == ["item_kind: text -> prompt_responses"]
    update_project(db, definition())
    import_items(db, PROJECT, write_jsonl(tmp_path / "x.jsonl", [{"text": "x"}]), ImportOptions())
    with pytest.raises(Invalid) as raised:
        update_project(db, definition(kind="prompt_responses"))
    assert raised.value.code == "E421"
    assert "already has items" in raised.value.message


def test_the_file_must_name_the_project(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    text = project_text().replace("name: versions", "name: other")
    with pytest.raises(Invalid) as raised:
        update_project_from_text(db, world.actors["boss"], PROJECT, text)
    assert raised.value.code == "E420"


def test_only_managers_update_and_any_member_diffs(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    with pytest.raises(Forbidden):
        update_project_from_text(db, world.actors["ann1"], PROJECT, project_text(overlap=2))
    plan = update_project_from_text(db, world.actors["boss"], PROJECT, project_text(overlap=2))
    assert plan.revision == 2
    diff = diff_revisions(db, PROJECT, actor=world.actors["ann1"])
    assert [str(c) for c in diff.settings] == ["workflow.overlap: 1 -> 2"]


def test_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path)
    before = counts(db)
    plan = update_project_from_text(
        db, world.actors["boss"], PROJECT, project_text(fields=NARROWER), dry_run=True
    )
    assert plan.invalidates and plan.revision is None
    assert counts(db) == before


def test_diff_between_any_two_revisions(db: Database) -> None:
    create_project(db, definition())
    update_project(db, definition(fields=WITH_MIXED))
    update_project(db, definition(fields=WITH_MIXED, guidelines="  New text."), confirm=True)
    update_project(
        db, definition(fields=WITH_MIXED.replace("max: 7", "max: 5"), guidelines="  New text.")
    )
    latest = diff_revisions(db, PROJECT)
    assert (latest.before.revision, latest.after.revision) == (3, 4)
    assert latest.schema is not None and [str(c) for c in latest.schema.changes] == [
        "stars: max 7 -> 5 (narrower)"
    ]
    assert latest.guidelines == []
    whole = diff_revisions(db, PROJECT, before=1, after=4)
    assert (whole.before.schema_version, whole.after.schema_version) == (1, 3)
    assert whole.schema is not None
    assert [c.aspect for c in whole.schema.changes] == ["labels added", "max"]
    assert "+New text." in whole.guidelines
    backwards = diff_revisions(db, PROJECT, before=4, after=1)
    assert backwards.schema is not None
    assert [c.aspect for c in backwards.schema.changes] == ["labels removed", "max"]
    with pytest.raises(NotFound) as raised:
        diff_revisions(db, PROJECT, before=1, after=9)
    assert raised.value.code == "E423" and "revisions 1 to 4" in raised.value.message


def test_lowered_overlap_aggregates_the_items_it_completes(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, overlap=3)
    for answer in ({"sentiment": "neutral", "stars": 6}, {"sentiment": "negative"}):  # p1 agrees
        task = next_task(db, world.actors["ann2"], PROJECT, NO_GOLD)
        assert task is not None
        submit_annotation(db, world.actors["ann2"], task.lease_id, answer)
    preview = plan_update(db, definition(overlap=2))
    assert preview.warnings == [
        "workflow.overlap lowered to 2: 2 queued item(s) already have that many annotations; "
        "the update aggregates them (finalized, or sent to adjudication below the agreement "
        "threshold)"
    ]
    done = update_project(db, definition(overlap=2))
    assert done.settled == 2
    with read_session(db.sessions) as session:
        status = dict(session.execute(select(Item.external_id, Item.status)).tuples().all())
    assert status == {
        "g1": "gold",
        "p1": "finalized",
        "t1": "adjudication",
        "t2": "queued",
        "t3": "queued",
    }
