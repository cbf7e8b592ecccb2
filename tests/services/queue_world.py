"""A small project with members and items for queue tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
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
from annotary.storage.db import Database, read_session
from annotary.storage.models import User

PROJECT = """
name: queue
objective: {{use_case: classification}}
schema:
  fields:
    - {{name: sentiment, kind: label, labels: [positive, neutral, negative]}}
    - {{name: note, kind: text, required: false}}
guidelines: Pick the sentiment.
workflow:
{workflow}
"""


class FixedDraw(random.Random):
    """A random source whose uniform draw is fixed, to steer the gold decision."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@dataclass
class World:
    db: Database
    actors: dict[str, Actor]
    project: str = "queue"


def build_world(
    db: Database,
    tmp_path: Path,
    workflow: str = "  overlap: 3",
    rows: list[dict[str, Any]] | None = None,
    members: dict[str, str] | None = None,
    skills: dict[str, tuple[str, ...]] | None = None,
) -> World:
    create_project(db, parse_project(PROJECT.format(workflow=workflow), "queue.yaml"))
    members = members or {
        "ann1": "annotator",
        "ann2": "annotator",
        "ann3": "annotator",
        "ann4": "annotator",
        "rev": "reviewer",
        "exp": "expert",
        "boss": "manager",
    }
    for name, role in members.items():
        add_user(
            db,
            NewUser(
                name,
                "password-123",
                project="queue",
                role=role,
                skills=(skills or {}).get(name, ()),
            ),
        )
    rows = rows if rows is not None else [{"text": f"item {i}"} for i in range(10)]
    source = tmp_path / "items.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    import_items(db, "queue", source, ImportOptions())
    with read_session(db.sessions) as session:
        users = session.scalars(select(User)).all()
    return World(db, {u.username: Actor(u.id, u.username, u.is_admin) for u in users})
