"""Many annotators at once against a real server process (SPEC 5 guarantees).

On PostgreSQL the server runs 2 worker processes, on SQLite 1. 50 simulated
annotators work 2,000 items (overlap 3, 10% gold rate, 2 s leases); some
abandon tasks (their leases must expire and free the slot), a few leave for
good. Afterwards the stored rows must satisfy every queue invariant.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
from sqlalchemy import func, select

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, GoldAnswer, Item, Membership, User
from annotary.testing import live_server
from tests.conftest import on_postgresql

ANNOTATORS = 50
ITEMS = 2000
GOLD_ITEMS = 150
OVERLAP = 3
LABELS = ["positive", "neutral", "negative"]
PROJECT = """
name: load
objective: {use_case: classification}
schema:
  fields:
    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}
guidelines: Pick the sentiment.
workflow:
  overlap: 3
  gold_rate: 0.1
  lease_timeout: 2
  agreement_threshold: 0.66
"""


def prepare(db: Database, tmp_path: Path) -> list[str]:
    create_project(db, parse_project(PROJECT, "load.yaml"))
    rng = random.Random(7)
    rows = [{"text": f"item {i}"} for i in range(ITEMS)]
    rows += [
        {"text": f"gold {i}", "gold": {"sentiment": rng.choice(LABELS)}} for i in range(GOLD_ITEMS)
    ]
    source = tmp_path / "load.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    import_items(db, "load", source, ImportOptions())
    tokens = []
    for n in range(ANNOTATORS):
        user_id = add_user(db, NewUser(f"a{n}", None, project="load", role="annotator"))
        token, _ = create_token(db, Actor(user_id, f"a{n}"), "load test")
        tokens.append(token)
    return tokens


class Annotator(threading.Thread):
    """Asks for tasks until the queue stays empty for longer than a lease."""

    def __init__(self, base: str, token: str, seed: int, gold: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.rng = random.Random(seed)
        self.gold = gold
        self.accepted: list[int] = []
        self.errors: list[str] = []
        self.leaves_early = seed % 17 == 0

    def run(self) -> None:
        try:
            self._work()
        except Exception as exc:  # reported by the test, not swallowed
            self.errors.append(repr(exc))
        finally:
            self.client.close()

    def _work(self) -> None:
        idle_since: float | None = None
        while True:
            response = self.client.post("/api/v1/projects/load/tasks/next")
            if response.status_code == 204:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 3.0:  # > lease timeout: truly done
                    return
                time.sleep(0.3)
                continue
            if response.status_code != 200:
                self.errors.append(f"next: {response.status_code} {response.text}")
                return
            idle_since = None
            task = response.json()
            if self.rng.random() < 0.03:  # abandon: the lease must expire
                if self.leaves_early:
                    return
                time.sleep(2.2)
                continue
            text = task["item"]["content"]["text"]
            label = self.gold.get(text, self.rng.choice(LABELS))
            if text in self.gold and self.rng.random() < 0.25:
                label = self.rng.choice(LABELS)
            submitted = self.client.post(
                f"/api/v1/tasks/{task['lease_id']}/submit",
                json={"annotation": {"sentiment": label}, "time_spent_ms": 1000},
            )
            if submitted.status_code == 200:
                self.accepted.append(submitted.json()["annotation_id"])
            elif submitted.status_code != 404:  # 404: our lease expired meanwhile
                self.errors.append(f"submit: {submitted.status_code} {submitted.text}")


def test_fifty_concurrent_annotators(db: Database, db_url: str, tmp_path: Path) -> None:
    tokens = prepare(db, tmp_path)
    with read_session(db.sessions) as session:
        gold = dict(
            session.execute(
                select(
                    Item.content["text"].as_string(), GoldAnswer.answer["sentiment"].as_string()
                ).join(GoldAnswer, GoldAnswer.item_id == Item.id)
            ).all()
        )
    workers = 2 if on_postgresql() else 1
    with live_server(db_url, workers=workers) as server:
        annotators = [Annotator(server.url, t, n, gold) for n, t in enumerate(tokens)]
        for annotator in annotators:
            annotator.start()
        for annotator in annotators:
            annotator.join(timeout=600)
    assert [e for a in annotators for e in a.errors] == []
    accepted = [i for a in annotators for i in a.accepted]

    with read_session(db.sessions) as session:
        per_item = Counter(
            session.scalars(
                select(Annotation.item_id).join(Item).where(Item.is_gold.is_(False))
            ).all()
        )
        pairs = session.execute(select(Annotation.item_id, Annotation.user_id)).all()
        statuses = Counter(
            session.scalars(select(Item.status).where(Item.is_gold.is_(False))).all()
        )
        stored = set(session.scalars(select(Annotation.id)).all())
        recomputed = dict(
            session.execute(
                select(Annotation.user_id, func.count())
                .where(Annotation.gold_correct.is_not(None))
                .group_by(Annotation.user_id)
            ).all()
        )
        memberships = session.execute(
            select(User.id, Membership.gold_answered, Membership.gold_correct).join(
                Membership, Membership.user_id == User.id
            )
        ).all()
        submitted = dict(
            session.execute(select(Membership.user_id, Membership.annotations_submitted)).all()
        )
        annotated = Counter(session.scalars(select(Annotation.user_id)).all())
        correct_by_user = Counter(
            session.scalars(select(Annotation.user_id).where(Annotation.gold_correct)).all()
        )

    assert max(per_item.values()) <= OVERLAP
    assert len(pairs) == len(set(pairs)), "an annotator annotated an item twice"
    assert set(statuses) <= {"finalized", "adjudication"}, statuses
    assert sum(statuses.values()) == ITEMS
    assert sum(per_item.values()) == ITEMS * OVERLAP
    assert set(accepted) == stored and len(accepted) == len(stored)
    for user_id, answered, correct in memberships:
        assert answered == recomputed.get(user_id, 0)
        assert correct == correct_by_user.get(user_id, 0)
    assert sum(a for _, a, _ in memberships) > 0
    assert submitted == {user: annotated.get(user, 0) for user in submitted}
