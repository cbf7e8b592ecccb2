"""Over HTTP: what an annotator receives says nothing about gold (SPEC 5), and
escalation routing rules hold on the escalation queue (403 E809 otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from annotary.config import Settings
from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.queue.serving import next_task
from annotary.storage.db import Database
from annotary.web.app import create_app
from tests.services.helpers import write_jsonl
from tests.services.queue_world import FixedDraw

V1 = "/api/v1"
PROJECT = """
name: hidden
objective: {use_case: moderation}
schema:
  fields:
    - {name: sentiment, kind: label, labels: [positive, negative]}
guidelines: Pick one.
workflow:
  overlap: 3
  gold_rate: 0.5
  min_gold_accuracy: 0.5
  min_gold_count: 20
  review_sampling_rate: 0.1
  routing:
    - {flag: sensitive, tier: expert, skills: [trust_and_safety]}
"""
ROWS: list[Any] = [{"text": f"gold {i}", "gold": {"sentiment": "positive"}} for i in range(4)]
ROWS += [{"text": f"real {i}"} for i in range(4)]
PEOPLE = {
    "ann1": ("annotator", ()),
    "ann2": ("annotator", ()),
    "exp": ("expert", ()),
    "tns": ("expert", ("trust_and_safety",)),
    "boss": ("manager", ()),
}


@dataclass
class Hidden:
    db: Database
    client: TestClient
    actors: dict[str, Actor]
    tokens: dict[str, str]

    def post(self, user: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.client.post(f"{V1}{path}", json=body, headers=headers)

    def get(self, user: str, path: str) -> Any:
        return self.client.get(
            f"{V1}{path}", headers={"Authorization": f"Bearer {self.tokens[user]}"}
        )

    def lease(self, user: str, gold: bool) -> dict[str, Any]:
        """A gold (or normal) task for `user`, then served to them again over HTTP."""
        draw = FixedDraw(0.01 if gold else 0.99)
        task = next_task(self.db, self.actors[user], "hidden", draw)
        assert task is not None and task.content["text"].startswith("gold" if gold else "real")
        response = self.post(user, "/projects/hidden/tasks/next")
        assert response.status_code == 200
        served: dict[str, Any] = response.json()
        assert served["lease_id"] == task.lease_id
        return served


@pytest.fixture
def hidden(db_url: str, tmp_path: Path) -> Iterator[Hidden]:
    app = create_app(Settings(database_url=db_url))
    db: Database = app.state.db
    create_project(db, parse_project(PROJECT, "project.yaml"))
    import_items(db, "hidden", write_jsonl(tmp_path / "items.jsonl", ROWS), ImportOptions())
    actors, tokens = {}, {}
    for name, (role, skills) in PEOPLE.items():
        user_id = add_user(db, NewUser(name, None, project="hidden", role=role, skills=skills))
        actors[name] = Actor(user_id, name)
        tokens[name] = create_token(db, actors[name], "test")[0]
    with TestClient(app) as client:
        yield Hidden(db, client, actors, tokens)
    db.dispose()


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value, recursively."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_task_submit_and_skip_look_the_same_for_gold_and_normal(hidden: Hidden) -> None:
    gold, normal = hidden.lease("ann1", gold=True), hidden.lease("ann2", gold=False)
    assert shape(gold) == shape(normal)
    assert "id" not in gold["item"] and len(gold["item"]["ref"]) == 24

    answers = []
    for user, task in (("ann1", gold), ("ann2", normal)):
        response = hidden.post(
            user, f"/tasks/{task['lease_id']}/submit", {"annotation": {"sentiment": "negative"}}
        )
        assert response.status_code == 200
        answers.append(response.json())
    assert [set(a) for a in answers] == [{"annotation_id"}, {"annotation_id"}]
    assert all(isinstance(a["annotation_id"], int) for a in answers)

    flagged = []
    for user, is_gold in (("ann1", True), ("ann2", False)):
        task = hidden.lease(user, gold=is_gold)
        response = hidden.post(user, f"/tasks/{task['lease_id']}/submit", {"flags": ["sensitive"]})
        flagged.append((response.status_code, response.json()))
    assert flagged[0] == flagged[1] == (200, {"annotation_id": None})

    skipped = []
    for user, is_gold in (("ann1", True), ("ann2", False)):
        task = hidden.lease(user, gold=is_gold)
        response = hidden.post(user, f"/tasks/{task['lease_id']}/skip", {"reason": "later"})
        headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
        skipped.append((response.status_code, response.content, headers))
    assert skipped[0] == skipped[1]
    assert skipped[0][0] == 204


def test_the_project_view_of_annotators_holds_nothing_about_gold(hidden: Hidden) -> None:
    for user in ("ann1", "exp"):
        view = hidden.get(user, "/projects/hidden")
        assert view.status_code == 200
        text = view.text.lower()
        assert "gold" not in text and "review_sampling" not in text, user
        assert view.json()["workflow"]["overlap"] == 3
    managed = hidden.get("boss", "/projects/hidden").json()["workflow"]
    assert managed["gold_rate"] == 0.5 and managed["review_sampling_rate"] == 0.1


def test_an_escalation_rule_holds_on_the_escalation_queue(hidden: Hidden) -> None:
    task = hidden.lease("ann1", gold=False)
    response = hidden.post("ann1", f"/tasks/{task['lease_id']}/submit", {"flags": ["sensitive"]})
    assert response.status_code == 200
    assert hidden.get("exp", "/projects/hidden/escalations/next").status_code == 204
    case = hidden.get("tns", "/projects/hidden/escalations/next")
    assert case.status_code == 200
    item_id = case.json()["item"]["id"]
    requeue = {"action": "requeue", "reason": "fine"}
    refused = hidden.post("exp", f"/projects/hidden/items/{item_id}/resolve", requeue)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "E809"
    assert (
        hidden.post("boss", f"/projects/hidden/items/{item_id}/resolve", requeue).status_code == 204
    )
