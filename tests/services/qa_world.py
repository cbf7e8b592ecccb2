"""A project with annotations for QA report tests, built through the services.

The project, its items (gold answers and metadata included) and its users are
created by the real use cases; annotations are written as ORM rows directly,
which is quicker than serving every task and fine for tests of a read-side
report. Tests keep the generated annotations, so they can recompute every
figure independently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Annotation, Item, Project, User
from tests.services.helpers import write_jsonl

PROJECT = "qa"
PROJECT_YAML = """
name: qa
item_kind: text
objective: {use_case: classification}
schema:
  fields:
    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}
    - {name: topics, kind: labels, labels: [billing, delivery, product], required: false}
    - {name: stars, kind: rating, min: 1, max: 5}
    - {name: entities, kind: spans, labels: [PER, ORG]}
    - {name: comment, kind: text, required: false}
guidelines: Label the sentiment, topics, stars and entities.
workflow: {overlap: 3}
"""
SENTIMENTS = ["positive", "neutral", "negative"]
TOPICS = ["billing", "delivery", "product"]
START = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)


@dataclass
class Ann:
    """One annotation to store."""

    item: str
    """External id of the item."""
    user: str
    payload: dict[str, Any]
    schema_version: int = 1
    guideline_version: int = 1
    created_at: datetime = START
    time_spent_ms: int | None = 20_000


@dataclass
class QaWorld:
    """What was stored: items by external id, users with attributes, annotations."""

    items: list[dict[str, Any]]
    users: dict[str, dict[str, Any]]
    annotations: list[Ann] = field(default_factory=list)


def build(db: Database, tmp_path: Path, world: QaWorld) -> None:
    """Store the project, items, users (with attributes) and annotations."""
    create_project(db, parse_project(PROJECT_YAML, "project.yaml"))
    import_items(
        db, PROJECT, write_jsonl(tmp_path / "qa-items.jsonl", world.items), ImportOptions()
    )
    user_ids = {name: add_user(db, NewUser(name, None, project=PROJECT)) for name in world.users}
    with write_transaction(db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == PROJECT))
        item_ids: dict[str | None, int] = dict(
            session.execute(select(Item.external_id, Item.id).where(Item.project_id == project_id))
            .tuples()
            .all()
        )
        for name, attributes in world.users.items():
            user = session.get(User, user_ids[name])
            assert user is not None
            user.attributes = attributes
        session.add_all(
            Annotation(
                item_id=item_ids[a.item],
                user_id=user_ids[a.user],
                project_id=project_id,
                payload=a.payload,
                schema_version=a.schema_version,
                guideline_version=a.guideline_version,
                time_spent_ms=a.time_spent_ms,
                created_at=a.created_at,
            )
            for a in world.annotations
        )


def sentiment_world(
    seed: int = 0,
    n_items: int = 60,
    annotators: int = 8,
    accuracy: float = 0.8,
    spammer: bool = False,
    coders: tuple[int, int] = (2, 4),
) -> QaWorld:
    """Items labelled by `coders` (2 to 4) of `annotators` (each right with
    `accuracy`), over the first three weeks of 2025, half under schema and
    guidelines v1, half under v2. With `spammer`, one more annotator (`spam`)
    labels 40 items, always `negative`, in 2 seconds each."""
    rng = random.Random(seed)
    names = [f"ann{i}" for i in range(annotators)]
    items = [
        {"id": f"t{i}", "text": f"Review number {i}: " + "words " * 20, "metadata": {}}
        for i in range(n_items)
    ]
    world = QaWorld(items, {name: {} for name in names})
    for i, item in enumerate(items):
        truth = rng.choice(SENTIMENTS)
        item["metadata"] = {"channel": ["email", "chat"][i % 2], "batch": i}
        version = 1 if i < n_items // 2 else 2
        for name in rng.sample(names, rng.randint(*coders)):
            right = rng.random() < accuracy
            label = truth if right else rng.choice([s for s in SENTIMENTS if s != truth])
            topics = sorted(rng.sample(TOPICS, rng.randint(0, 2)))
            stars = {"positive": 5, "neutral": 3, "negative": 1}[label]
            stars = max(1, min(5, stars + rng.choice([-1, 0, 0, 1])))
            world.annotations.append(
                Ann(
                    item["id"],
                    name,
                    {"sentiment": label, "topics": topics, "stars": stars, "entities": []},
                    schema_version=version,
                    guideline_version=version,
                    created_at=START + timedelta(days=i * 20 / n_items, minutes=rng.random()),
                    time_spent_ms=rng.randint(15_000, 60_000),
                )
            )
    if spammer:
        world.users["spam"] = {}
        for k, item in enumerate(items[:40]):
            world.annotations.append(
                Ann(
                    item["id"],
                    "spam",
                    {"sentiment": "negative", "topics": [], "stars": 1, "entities": []},
                    created_at=START + timedelta(minutes=k),
                    time_spent_ms=2_000,
                )
            )
    return world
