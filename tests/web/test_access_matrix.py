"""Who may call what: every route of the API against every kind of caller.

`RULES` says, for each route, which callers are allowed; `CALLS` builds a
minimal valid request for it. The first test fails when the app has a route
that `RULES` does not list, so a new endpoint cannot ship without a rule.

Adding a route = one `RULES` entry + one `CALLS` entry (+ a `DENIED` entry if
a refused caller gets something other than the usual 401 / 403 / 404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from annotary.core.items import content_hash
from annotary.services.identity.accounts import reset_password
from annotary.services.identity.calibration import (
    NewCalibrationItem,
    NewRound,
    create_round,
    list_rounds,
)
from annotary.services.identity.calibration_work import next_calibration_item
from annotary.services.identity.members import accept_terms, add_member
from annotary.services.queue.serving import next_task
from annotary.storage.db import write_transaction
from annotary.storage.models import Item, Project
from annotary.web.app import api_routes
from tests.web.world import ADMIN_PASSWORD, ROLES, World, project_yaml

Route = tuple[str, str]
V1 = "/api/v1"
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
ADMIN = {"admin"}
MEMBERS = {"manager", "reviewer", "expert", "annotator"}
MANAGERS = {"admin", "manager"}
WORKERS = {"annotator", "reviewer", "expert"}
SENIORS = {"admin", "manager", "reviewer", "expert"}
EXPERTS = {"admin", "manager", "expert"}

RULES: dict[Route, set[str]] = {
    ("POST", f"{V1}/auth/login"): EVERYONE,
    ("POST", f"{V1}/auth/logout"): SIGNED_IN,
    ("GET", f"{V1}/me"): SIGNED_IN,
    ("GET", f"{V1}/me/tokens"): SIGNED_IN,
    ("POST", f"{V1}/me/tokens"): SIGNED_IN,
    ("DELETE", f"{V1}/me/tokens/{{token_id}}"): SIGNED_IN,
    ("GET", f"{V1}/users"): ADMIN,
    ("POST", f"{V1}/users"): ADMIN,
    ("GET", f"{V1}/projects"): SIGNED_IN,
    ("POST", f"{V1}/projects"): ADMIN,
    ("GET", f"{V1}/projects/{{name}}"): ADMIN | MEMBERS,
    ("PUT", f"{V1}/projects/{{name}}"): MANAGERS,
    # The schema and guidelines of every revision: what members see of the current one.
    ("GET", f"{V1}/projects/{{name}}/diff"): ADMIN | MEMBERS,
    ("POST", f"{V1}/projects/{{name}}/rework"): MANAGERS,
    ("POST", f"{V1}/projects/{{name}}/rework/cancel"): MANAGERS,
    ("GET", f"{V1}/projects/{{name}}/status"): {"admin", "manager", "reviewer", "expert"},
    # Not annotators: the report names peers' gold accuracy and agreement.
    ("GET", f"{V1}/projects/{{name}}/qa"): SENIORS,
    ("GET", f"{V1}/projects/{{name}}/members"): MANAGERS,
    ("POST", f"{V1}/projects/{{name}}/members"): MANAGERS,
    ("POST", f"{V1}/projects/{{name}}/members/{{username}}/resume"): MANAGERS,
    # Accepting terms is personal: an admin who is not a member has none to accept.
    ("POST", f"{V1}/projects/{{name}}/terms/accept"): MEMBERS,
    ("POST", f"{V1}/projects/{{name}}/import"): MANAGERS,
    # The queue serves annotation work to members in a working role only.
    ("POST", f"{V1}/projects/{{name}}/tasks/next"): WORKERS,
    ("POST", f"{V1}/tasks/{{lease_id}}/submit"): WORKERS,
    ("POST", f"{V1}/tasks/{{lease_id}}/skip"): WORKERS,
    ("GET", f"{V1}/projects/{{name}}/adjudication/next"): SENIORS,
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/adjudicate"): SENIORS,
    ("GET", f"{V1}/projects/{{name}}/escalations/next"): EXPERTS,
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/resolve"): EXPERTS,
    ("GET", f"{V1}/projects/{{name}}/review/next"): SENIORS,
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/review"): SENIORS,
    # People (SPEC 4). Skills route work in every project: global admins only.
    ("PATCH", f"{V1}/users/{{username}}"): ADMIN,
    ("POST", f"{V1}/users/{{username}}/deactivate"): ADMIN,
    ("POST", f"{V1}/users/{{username}}/reactivate"): ADMIN,
    ("POST", f"{V1}/users/{{username}}/password"): ADMIN,
    ("POST", f"{V1}/me/password"): SIGNED_IN,
    ("GET", f"{V1}/me/attributes"): SIGNED_IN,
    ("PUT", f"{V1}/me/attributes"): SIGNED_IN,
    ("DELETE", f"{V1}/me/attributes"): SIGNED_IN,
    ("DELETE", f"{V1}/projects/{{name}}/members/{{username}}"): MANAGERS,
    # Attributes reach managers only as counts with small groups withheld.
    ("GET", f"{V1}/projects/{{name}}/pool"): MANAGERS,
    # One's own figures: members only (an admin who is not a member has none).
    ("GET", f"{V1}/projects/{{name}}/me/stats"): MEMBERS,
    ("POST", f"{V1}/projects/{{name}}/calibration"): MANAGERS,
    ("GET", f"{V1}/projects/{{name}}/calibration"): ADMIN | MEMBERS,
    # A round's participants: by default every annotator, reviewer and expert.
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/next"): WORKERS,
    ("POST", f"{V1}/projects/{{name}}/calibration/{{round}}/answer"): WORKERS,
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/feedback"): WORKERS,
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/results"): MANAGERS,
}


@dataclass
class Call:
    """A minimal valid request: path parameters (besides `name`), body, query."""

    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: list[tuple[str, str]] | None = None
    content: bytes | None = None


def _own_token(world: World, role: str) -> Call:
    owner = role if role in world.actors else "admin"
    return Call(path={"token_id": world.token_for(owner, "to revoke")[1]})


def _leased_task(world: World, role: str) -> int:
    """A live lease: the caller's own when they may work, else a worker's (not theirs)."""
    worker = role if role in WORKERS else "annotator"
    actor = world.actors[worker]
    accept_terms(world.db, actor, world.project)
    task = next_task(world.db, actor, world.project)
    assert task is not None, "the matrix project ran out of items"
    return task.lease_id


def _item_in(world: World, status: str) -> int:
    """A fresh item of the project waiting in `status` (a senior queue)."""
    with write_transaction(world.db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == world.project))
        text = f"{status} case {uuid.uuid4().hex}"
        item = Item(
            project_id=project_id,
            kind="text",
            content={"text": text},
            content_hash=content_hash("text", {"text": text}),
            meta={},
            status=status,
        )
        session.add(item)
        session.flush()
        return item.id


def _work(path_key: str, body: dict[str, Any]) -> Callable[[World, str], Call]:
    return lambda w, r: Call(path={path_key: _leased_task(w, r)}, json=body)


def _decide(status: str, body: dict[str, Any]) -> Callable[[World, str], Call]:
    return lambda w, r: Call(path={"item_id": _item_in(w, status)}, json=body)


def _next_task_call(world: World, role: str) -> Call:
    if role in WORKERS:
        accept_terms(world.db, world.actors[role], world.project)
    return Call()


DECISION = {"payload": {"sentiment": "positive"}, "reason": "clear case"}
ROUND = "matrix-round"
EXPERT_ITEM = {"content": {"text": "A chair."}, "answer": {"sentiment": "positive"}, "reason": "ok"}


def _own_password(world: World, role: str) -> Call:
    """The caller's user gets a known password first (world users have none)."""
    if role in world.actors:
        reset_password(world.db, world.actors[role].username, "old-password")
    return Call(json={"old_password": "old-password", "new_password": "new-password"})


def _spare_member(world: World, role: str) -> Call:
    """`spare` is a member again before each call (allowed callers remove them)."""
    add_member(world.db, world.actors["admin"], world.project, "spare", "annotator")
    return Call(path={"username": "spare"})


def _round(world: World) -> str:
    """The matrix round (two given items, every worker takes part), made once."""
    if not list_rounds(world.db, world.project):
        new = NewRound(ROUND, items=(NewCalibrationItem(**EXPERT_ITEM),) * 2)
        create_round(world.db, world.project, new)
    return ROUND


def _calibration_answer(world: World, role: str) -> Call:
    worker = role if role in WORKERS else "annotator"
    task = next_calibration_item(world.db, world.actors[worker], world.project, _round(world))
    assert task is not None
    body = {"item_id": task.item_id, "annotation": {"sentiment": "positive"}}
    return Call(path={"round": ROUND}, json=body)


CALLS: dict[Route, Callable[[World, str], Call]] = {
    ("POST", f"{V1}/auth/login"): lambda w, r: Call(
        json={"username": "admin", "password": ADMIN_PASSWORD}
    ),
    ("POST", f"{V1}/auth/logout"): lambda w, r: Call(),
    ("GET", f"{V1}/me"): lambda w, r: Call(),
    ("GET", f"{V1}/me/tokens"): lambda w, r: Call(),
    ("POST", f"{V1}/me/tokens"): lambda w, r: Call(json={"name": f"new-{r}"}),
    ("DELETE", f"{V1}/me/tokens/{{token_id}}"): _own_token,
    ("GET", f"{V1}/users"): lambda w, r: Call(),
    ("POST", f"{V1}/users"): lambda w, r: Call(json={"username": f"new-{r}"}),
    ("GET", f"{V1}/projects"): lambda w, r: Call(),
    ("POST", f"{V1}/projects"): lambda w, r: Call(json={"yaml": project_yaml(f"new-{r}")}),
    ("GET", f"{V1}/projects/{{name}}"): lambda w, r: Call(),
    ("PUT", f"{V1}/projects/{{name}}"): lambda w, r: Call(
        json={"yaml": project_yaml().replace("overlap: 2", "overlap: 3")}
    ),
    ("GET", f"{V1}/projects/{{name}}/diff"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/rework"): lambda w, r: Call(
        json={"fields": ["sentiment"], "dry_run": True}
    ),
    ("POST", f"{V1}/projects/{{name}}/rework/cancel"): lambda w, r: Call(),
    ("GET", f"{V1}/projects/{{name}}/status"): lambda w, r: Call(),
    ("GET", f"{V1}/projects/{{name}}/qa"): lambda w, r: Call(params=[("window_days", "3")]),
    ("GET", f"{V1}/projects/{{name}}/members"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/members"): lambda w, r: Call(
        json={"username": "spare", "role": "annotator"}
    ),
    ("POST", f"{V1}/projects/{{name}}/members/{{username}}/resume"): lambda w, r: Call(
        path={"username": "annotator"}
    ),
    ("POST", f"{V1}/projects/{{name}}/terms/accept"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/import"): lambda w, r: Call(
        params=[("filename", "more.jsonl")], content=f'{{"text": "from {r}"}}\n'.encode()
    ),
    ("POST", f"{V1}/projects/{{name}}/tasks/next"): _next_task_call,
    ("POST", f"{V1}/tasks/{{lease_id}}/submit"): _work(
        "lease_id", {"annotation": {"sentiment": "negative"}}
    ),
    ("POST", f"{V1}/tasks/{{lease_id}}/skip"): _work("lease_id", {"reason": "not sure"}),
    ("GET", f"{V1}/projects/{{name}}/adjudication/next"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/adjudicate"): _decide(
        "adjudication", DECISION
    ),
    ("GET", f"{V1}/projects/{{name}}/escalations/next"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/resolve"): _decide(
        "escalated", {**DECISION, "action": "finalize"}
    ),
    ("GET", f"{V1}/projects/{{name}}/review/next"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/items/{{item_id}}/review"): _decide(
        "review", {**DECISION, "verdict": "override"}
    ),
    ("PATCH", f"{V1}/users/{{username}}"): lambda w, r: Call(
        path={"username": "spare"}, json={"skills": ["legal"], "languages": ["en"]}
    ),
    ("POST", f"{V1}/users/{{username}}/deactivate"): lambda w, r: Call(path={"username": "spare"}),
    ("POST", f"{V1}/users/{{username}}/reactivate"): lambda w, r: Call(path={"username": "spare"}),
    ("POST", f"{V1}/users/{{username}}/password"): lambda w, r: Call(
        path={"username": "spare"}, json={"password": "a-new-password"}
    ),
    ("POST", f"{V1}/me/password"): _own_password,
    ("GET", f"{V1}/me/attributes"): lambda w, r: Call(),
    ("PUT", f"{V1}/me/attributes"): lambda w, r: Call(json={"attributes": {"gender": "woman"}}),
    ("DELETE", f"{V1}/me/attributes"): lambda w, r: Call(),
    ("DELETE", f"{V1}/projects/{{name}}/members/{{username}}"): _spare_member,
    ("GET", f"{V1}/projects/{{name}}/pool"): lambda w, r: Call(),
    ("GET", f"{V1}/projects/{{name}}/me/stats"): lambda w, r: Call(),
    ("POST", f"{V1}/projects/{{name}}/calibration"): lambda w, r: Call(
        json={"name": f"round-{r}", "items": [EXPERT_ITEM]}
    ),
    ("GET", f"{V1}/projects/{{name}}/calibration"): lambda w, r: Call(),
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/next"): lambda w, r: Call(
        path={"round": _round(w)}
    ),
    ("POST", f"{V1}/projects/{{name}}/calibration/{{round}}/answer"): _calibration_answer,
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/feedback"): lambda w, r: Call(
        path={"round": _round(w)}
    ),
    ("GET", f"{V1}/projects/{{name}}/calibration/{{round}}/results"): lambda w, r: Call(
        path={"round": _round(w)}
    ),
}

# Someone else's lease looks like no lease at all: 404, not 403.
_NOT_YOUR_TASK = {"admin": 404, "manager": 404, "outsider": 404}
DENIED: dict[Route, dict[str, int]] = {
    ("POST", f"{V1}/tasks/{{lease_id}}/submit"): _NOT_YOUR_TASK,
    ("POST", f"{V1}/tasks/{{lease_id}}/skip"): _NOT_YOUR_TASK,
}
"""Statuses for refused callers where the default (see `denied_status`) does not hold."""


def denied_status(route: Route, role: str) -> int:
    """What a refused caller gets: 401 if anonymous, 404 outside a project, else 403."""
    if role in DENIED.get(route, {}):
        return DENIED[route][role]
    if role == "anonymous":
        return 401
    if role == "outsider" and "{name}" in route[1]:
        return 404  # a project's name does not leak to non-members
    return 403


def test_rules_cover_every_route(world: World) -> None:
    routes = {route for route in api_routes(world.app) if route[1].startswith(V1)}
    assert routes - set(RULES) == set(), "routes without an access rule"
    assert set(RULES) - routes == set(), "rules for routes that do not exist"
    assert set(CALLS) == set(RULES), "every rule needs a request builder"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_access(world: World, route: Route) -> None:
    method, template = route
    failures = []
    for role in ROLES:
        call = CALLS[route](world, role)
        path = template.format(name=world.project, **call.path)
        response = world.client.request(
            method,
            path,
            headers=world.headers(role),
            json=call.json,
            params=call.params,
            content=call.content,
        )
        allowed = role in RULES[route]
        expected = "2xx" if allowed else str(denied_status(route, role))
        ok = response.is_success if allowed else response.status_code == int(expected)
        if not ok:
            failures.append(
                f"{role}: expected {expected}, got {response.status_code} {response.text}"
            )
        elif not allowed:
            assert set(response.json()["error"]) == {"code", "message", "details", "request_id"}
    assert failures == []


def test_unknown_project_and_foreign_project_look_the_same(world: World) -> None:
    foreign = world.client.get(f"{V1}/projects/{world.project}", headers=world.headers("outsider"))
    missing = world.client.get(f"{V1}/projects/no-such", headers=world.headers("outsider"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "E401"
    assert "no-such" in missing.json()["error"]["message"]
