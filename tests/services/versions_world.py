"""A project with real annotations, gold answers, pre-labels and final labels,
and project files that change it, for the version tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import ProjectDefinition, parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database
from tests.services.helpers import write_jsonl
from tests.services.queue_world import FixedDraw

NO_GOLD = FixedDraw(0.99)
PROJECT = "versions"
FIELDS = """\
    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}
    - {name: stars, kind: rating, min: 1, max: 7, required: false}
    - {name: note, kind: text, required: false}
"""
TEMPLATE = """
name: versions
title: {title}
objective: {{use_case: classification}}
schema:
  fields:
{fields}guidelines: |
{guidelines}
workflow:
  overlap: {overlap}
"""
GUIDELINES = "  Pick the sentiment.\n  Rate the stars."


def project_text(
    fields: str = FIELDS,
    guidelines: str = GUIDELINES,
    overlap: int = 1,
    title: str = "Versions",
    kind: str | None = None,
) -> str:
    text = TEMPLATE.format(fields=fields, guidelines=guidelines, overlap=overlap, title=title)
    return text.replace("title:", f"item_kind: {kind}\ntitle:", 1) if kind else text


def definition(**changes: object) -> ProjectDefinition:
    return parse_project(project_text(**changes), "project.yaml")  # type: ignore[arg-type]


@dataclass
class World:
    db: Database
    actors: dict[str, Actor]


ITEMS = [
    {"id": "g1", "text": "Gold one.", "gold": {"sentiment": "neutral", "stars": 4}},
    {"id": "p1", "text": "Pre-labelled.", "prelabel": {"sentiment": "neutral", "stars": 6}},
    {"id": "t1", "text": "First."},
    {"id": "t2", "text": "Second."},
    {"id": "t3", "text": "Third."},
]
ANSWERS = [
    {"sentiment": "neutral", "stars": 6},
    {"sentiment": "positive", "stars": 2},
    {"sentiment": "neutral"},
    {"sentiment": "negative", "stars": 7},
]
"""What the annotators submit, in serving order (p1, t1, t2, t3)."""


def build(db: Database, tmp_path: Path, overlap: int = 1) -> World:
    """The project (overlap 1: every submitted item is finalized at once), its
    items, a manager and two annotators, and one annotation per regular item."""
    create_project(db, definition(overlap=overlap))
    import_items(db, PROJECT, write_jsonl(tmp_path / "items.jsonl", ITEMS), ImportOptions())
    actors = {}
    for name, role in (("boss", "manager"), ("ann1", "annotator"), ("ann2", "annotator")):
        user_id = add_user(db, NewUser(name, None, project=PROJECT, role=role))
        actors[name] = Actor(user_id, name, False, "test")
    for answer in ANSWERS:
        task = next_task(db, actors["ann1"], PROJECT, NO_GOLD)
        assert task is not None
        submit_annotation(db, actors["ann1"], task.lease_id, answer)
    return World(db, actors)
