"""A project whose items were annotated under schema v1 and are then re-queued
for rework under v2 (`mixed` added to `sentiment`), for the queue's rework tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import ProjectDefinition, parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.project_versions import update_project
from annotary.services.projects import create_project
from annotary.services.queue.serving import Task, next_task, submit_annotation
from annotary.services.rework import requeue_for_rework
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, FinalLabel, Item, Rework, ReworkAnnotation
from tests.services.helpers import write_jsonl
from tests.services.versions_world import FIELDS, ITEMS, NO_GOLD, PROJECT, project_text

WITH_MIXED = FIELDS.replace("positive, neutral, negative", "positive, neutral, negative, mixed")
REGULAR = ["p1", "t1", "t2", "t3"]
"""The regular items, in serving (and rework) order."""


def definition(fields: str = FIELDS, overlap: int = 1, workflow: str = "") -> ProjectDefinition:
    text = project_text(fields=fields, overlap=overlap)
    text = text.replace(f"  overlap: {overlap}\n", f"  overlap: {overlap}\n{workflow}")
    return parse_project(text, "project.yaml")


@dataclass
class World:
    db: Database
    actors: dict[str, Actor]
    overlap: int
    workflow: str

    def task(self, user: str) -> Task | None:
        return next_task(self.db, self.actors[user], PROJECT, NO_GOLD)

    def rework_task(self, user: str) -> Task:
        task = self.task(user)
        assert task is not None and task.rework is not None, task
        return task

    def submit(self, user: str, task: Task, answer: dict[str, Any] | None, **kw: Any) -> Any:
        return submit_annotation(self.db, self.actors[user], task.lease_id, answer, **kw)

    def requeue(self, fields: str = WITH_MIXED) -> int:
        """Move to v2 (`fields`) and send the older annotations back; the items sent."""
        update_project(self.db, definition(fields, self.overlap, self.workflow), confirm=True)
        return requeue_for_rework(self.db, PROJECT).items


def build(
    db: Database,
    tmp_path: Path,
    answers: dict[str, list[dict[str, Any]]],
    *,
    overlap: int = 1,
    workflow: str = "",
    items: list[dict[str, Any]] | None = None,
) -> World:
    """The project (schema v1), its items, a manager and annotators ann1..ann3; each
    user in `answers` submits their answers in serving order."""
    create_project(db, definition(overlap=overlap, workflow=workflow))
    rows = items if items is not None else ITEMS
    import_items(db, PROJECT, write_jsonl(tmp_path / "items.jsonl", rows), ImportOptions())
    actors = {}
    for name, role in (
        ("boss", "manager"),
        ("ann1", "annotator"),
        ("ann2", "annotator"),
        ("ann3", "annotator"),
    ):
        user_id = add_user(db, NewUser(name, None, project=PROJECT, role=role))
        actors[name] = Actor(user_id, name, False, "test")
    world = World(db, actors, overlap, workflow)
    for user, given in answers.items():
        for answer in given:
            task = world.task(user)
            assert task is not None
            world.submit(user, task, answer)
    return world


def by_external_id(db: Database) -> dict[str, dict[str, Any]]:
    """Per regular item: its status, counts, final label and annotations."""
    out: dict[str, dict[str, Any]] = {}
    with read_session(db.sessions) as session:
        for item in session.scalars(select(Item).where(Item.is_gold.is_(False))):
            final = session.scalars(select(FinalLabel).where(FinalLabel.item_id == item.id)).first()
            annotations = session.scalars(
                select(Annotation).where(Annotation.item_id == item.id).order_by(Annotation.id)
            ).all()
            out[item.external_id or ""] = {
                "id": item.id,
                "status": item.status,
                "annotation_count": item.annotation_count,
                "lease_count": item.lease_count,
                "final": None
                if final is None
                else {"payload": final.payload, "method": final.method, "fields": final.fields},
                "final_id": final.id if final else None,
                "annotations": [
                    (a.id, a.payload, a.schema_version, a.guideline_version) for a in annotations
                ],
            }
    return out


def rework_statuses(db: Database) -> tuple[list[str], list[str]]:
    """The statuses of every rework, and of every rework row."""
    with read_session(db.sessions) as session:
        reworks = session.scalars(select(Rework.status).order_by(Rework.id)).all()
        rows = session.scalars(select(ReworkAnnotation.status).order_by(ReworkAnnotation.id)).all()
    return list(reworks), list(rows)
