"""A small world for API tests: one project, one user per role, a token each.

Built through the services (real database from the `db_url` fixture), so the
API under test sees exactly what production code would have written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from annotary.config import Settings
from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database
from annotary.web.app import create_app
from tests.services.helpers import write_jsonl

PROJECT = "matrix"
PROJECT_YAML = """
name: {name}
title: Access matrix
item_kind: text
objective:
  use_case: classification
schema:
  fields:
    - name: sentiment
      kind: label
      labels: [positive, negative]
guidelines: |
  Pick the sentiment of the text.
workflow:
  overlap: 2
  confidentiality_terms: Keep every item confidential.
"""
ROLES = ("admin", "manager", "reviewer", "expert", "annotator", "outsider", "anonymous")
"""Who calls: a global admin, one member per project role, a non-member, nobody."""
MEMBER_ROLES = ("manager", "reviewer", "expert", "annotator")
ADMIN_PASSWORD = "admin-password"
GOLD_REASON = "secret gold reason that only managers may ever see"
ITEMS: list[Any] = [
    {"id": "t1", "text": "I love it."},
    {"id": "t2", "text": "Terrible service."},
    {"id": "t3", "text": "Quite good, actually."},
    {"id": "t4", "text": "Never again."},
    {
        "id": "g1",
        "text": "Best purchase ever.",
        "gold": {"sentiment": "positive"},
        "gold_reason": GOLD_REASON,
    },
]


def project_yaml(name: str = PROJECT) -> str:
    return PROJECT_YAML.format(name=name)


@dataclass
class World:
    """The app, its database and who is who in it."""

    app: FastAPI
    db: Database
    client: TestClient
    actors: dict[str, Actor] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    project: str = PROJECT

    def headers(self, role: str) -> dict[str, str]:
        """Bearer auth for `role` (none for `anonymous`)."""
        token = self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def add_user(self, username: str, role: str | None = None, *, admin: bool = False) -> Actor:
        """A user (no password) who is `role` in the project, or no member when None."""
        user_id = add_user(
            self.db,
            NewUser(
                username,
                None,
                is_admin=admin,
                project=self.project if role else None,
                role=role or "annotator",
            ),
        )
        return Actor(user_id, username, admin, "test")

    def token_for(self, role: str, name: str = "test") -> tuple[str, int]:
        """A new token of `role`'s user: (token, id)."""
        token, info = create_token(self.db, self.actors[role], name)
        return token, info.id


def build_world(db_url: str, tmp_path: Path) -> World:
    """Project `matrix` with items (one gold), one user per role and their tokens."""
    app = create_app(Settings(database_url=db_url))
    db: Database = app.state.db
    create_project(db, parse_project(project_yaml(), "project.yaml"))
    import_items(db, PROJECT, write_jsonl(tmp_path / "items.jsonl", ITEMS), ImportOptions())
    world = World(app, db, TestClient(app))
    admin_id = add_user(db, NewUser("admin", ADMIN_PASSWORD, is_admin=True))
    world.actors["admin"] = Actor(admin_id, "admin", True, "test")
    for role in MEMBER_ROLES:
        world.actors[role] = world.add_user(role, role)
    world.actors["outsider"] = world.add_user("outsider")
    world.add_user("spare")
    for role in world.actors:
        world.tokens[role] = world.token_for(role)[0]
    return world
