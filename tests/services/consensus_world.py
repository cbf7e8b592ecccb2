"""A one-item project with any schema and three annotators, for consensus tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session
from annotary.storage.models import FinalLabel, Item
from tests.services.queue_world import FixedDraw

NO_GOLD = FixedDraw(0.99)
ANNOTATORS = ("ann1", "ann2", "ann3")
TEXT = "Maria Lopez joined Acme in Paris. Lopez said hello."


def project(
    db: Database,
    tmp_path: Path,
    fields: str,
    workflow: str = "",
    item: dict[str, Any] | None = None,
    kind: str = "text",
) -> dict[str, Actor]:
    """A project `p` with the given schema fields (YAML), one item and three annotators."""
    text = (
        f"name: p\nitem_kind: {kind}\nobjective: {{use_case: other}}\nschema:\n  fields:\n"
        f"{fields}guidelines: Annotate.\nworkflow:\n  overlap: 3\n{workflow}"
    )
    create_project(db, parse_project(text, "p.yaml", plugins=db.plugins))
    actors = {}
    for name in (*ANNOTATORS, "rev"):
        role = "reviewer" if name == "rev" else "annotator"
        user_id = add_user(db, NewUser(name, None, project="p", role=role))
        actors[name] = Actor(user_id, name)
    source = tmp_path / "items.jsonl"
    source.write_bytes(orjson.dumps(item or {"text": TEXT}) + b"\n")
    import_items(db, "p", source, ImportOptions())
    return actors


def annotate(db: Database, actors: dict[str, Actor], answers: list[dict[str, Any]]) -> str:
    """Each annotator submits their answer; the item's status after the last one."""
    for name, answer in zip(ANNOTATORS, answers, strict=True):
        task = next_task(db, actors[name], "p", NO_GOLD)
        assert task is not None
        submit_annotation(db, actors[name], task.lease_id, answer)
    with read_session(db.sessions) as session:
        return session.scalars(select(Item.status)).one()


def final_label(db: Database) -> FinalLabel:
    with read_session(db.sessions) as session:
        return session.scalars(select(FinalLabel)).one()


def spans(*keys: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": label} for s, e, label in keys]
