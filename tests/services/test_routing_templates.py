"""Every routing rule of every shipped template holds (SPEC 1, 4, 5): in the
annotation queue, in the senior queues (adjudication, escalations, review),
and after an expert sends a flagged item back to the queue.

Who may take an item is spelled out here from the rule, independently of
`core.queue`: the rule's tier or above and one of its skills; for the senior
queues also the queue's own tier (adjudication: the project's adjudication
tier; escalations: experts, unless a rule on the flag names its tier; review:
reviewers); managers and admins always.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from sqlalchemy import select, update

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import load_project_file
from annotary.errors import AnnotaryError, Forbidden, Invalid
from annotary.services.identity.access import Actor
from annotary.services.identity.members import accept_terms
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.queue.review import (
    adjudicate,
    next_case,
    resolve_escalation,
    review_item,
)
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.services.scaffold import init_project
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import Item, Lease, Membership, utcnow
from annotary.templates import TEMPLATE_NAMES, template_files
from tests.services.queue_world import FixedDraw

NO_GOLD = FixedDraw(0.99)
RANK = {"annotator": 0, "reviewer": 1, "expert": 2}
ROLES = ("annotator", "reviewer", "expert")
CONTENT_KEYS = ("text", "prompt", "responses", "turns")
SPARE_FLAG = "unclear_guideline"
"""A flag no template routes: a flagged item keeps its metadata routing."""


def _rules(name: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load(template_files(name)["project.yaml"])["workflow"]
    rules: list[dict[str, Any]] = workflow.get("routing", [])
    return rules


TEMPLATE_RULES = [
    pytest.param(name, index, id=f"{name}-rule{index}")
    for name in TEMPLATE_NAMES
    for index, _ in enumerate(_rules(name))
]


def test_every_template_has_routing_rules_and_none_routes_the_spare_flag() -> None:
    for name in TEMPLATE_NAMES:
        rules = _rules(name)
        assert rules, name
        assert all(rule.get("flag") != SPARE_FLAG for rule in rules)


@dataclass
class Setup:
    db: Database
    project: str
    rule: dict[str, Any]
    adjudication_tier: str
    people: dict[str, Actor]
    item_id: int
    home: dict[str, Any] | None
    """The metadata rule the item matches (a flag rule is tried on such an item)."""


def _build(db: Database, tmp_path: Path, name: str, index: int) -> Setup:
    folder = tmp_path / name
    init_project(folder, name)
    definition = load_project_file(folder / "project.yaml")
    create_project(db, definition)
    project = definition.name
    rules = _rules(name)
    rule = rules[index]
    # A flag rule is tried on an item that another rule routes by metadata, if
    # there is one: after a requeue it must go back to that rule.
    metadata_rules = [r for r in rules if r.get("metadata")]
    home = rule if rule.get("metadata") else (metadata_rules[0] if metadata_rules else None)
    # "Skilled" members have the skills of the rule under test and of the home rule.
    skills = tuple(rule.get("skills", ())) + tuple(home.get("skills", ()) if home else ())
    every_skill = tuple(sorted({s for r in rules for s in r.get("skills", ())}))
    people: dict[str, Actor] = {}
    for role in ROLES:
        for skilled in (False, True):
            username = f"{role}_{'skilled' if skilled else 'plain'}"
            owned = skills if skilled else ("unrelated",)
            people[username] = _add(db, username, project, role, owned)
    people["flagger"] = _add(db, "flagger", project, "expert", every_skill)
    people["boss"] = _add(db, "boss", project, "manager", ())
    root_id = add_user(db, NewUser("root", None, is_admin=True))
    people["root"] = Actor(root_id, "root", True)
    with write_transaction(db.sessions) as session:  # past the qualification
        session.execute(update(Membership).values(qualified_at=utcnow()))
    for username, actor in people.items():
        if username != "root":
            accept_terms(db, actor, project)

    metadata = dict(home["metadata"]) if home else {}
    sample = json.loads(template_files(name)["sample.jsonl"].splitlines()[0])
    row = {key: sample[key] for key in CONTENT_KEYS if key in sample}
    row["metadata"] = metadata
    source = tmp_path / "item.jsonl"
    source.write_bytes(orjson.dumps(row) + b"\n")
    import_items(db, project, source, ImportOptions())
    with read_session(db.sessions) as session:
        item_id = session.scalars(select(Item.id)).one()
    tier = definition.workflow.adjudication_tier or "reviewer"
    return Setup(db, project, rule, tier, people, item_id, home)


def _add(db: Database, username: str, project: str, role: str, skills: tuple[str, ...]) -> Actor:
    user_id = add_user(db, NewUser(username, None, project=project, role=role, skills=skills))
    return Actor(user_id, username)


def _fits(rule: dict[str, Any] | None, role: str, skilled: bool, floor: str) -> bool:
    """Whether a member reaches `floor` and, under `rule`, its tier and skills."""
    if role == "manager":
        return True
    needed = RANK[floor]
    if rule is not None:
        needed = max(needed, RANK[rule.get("tier") or "annotator"])
        if rule.get("skills") and not skilled:
            return False
    return RANK[role] >= needed


def _escalation_fits(rule: dict[str, Any] | None, role: str, skilled: bool) -> bool:
    if rule is not None and rule.get("flag"):  # the flag rule names its own tier
        tier = max(rule.get("tier") or "expert", "reviewer", key=RANK.__getitem__)
        return _fits({**rule, "tier": tier}, role, skilled, "reviewer")
    return _fits(rule, role, skilled, "expert")


def _members(setup: Setup) -> list[tuple[str, str, bool]]:
    """(username, role, has the rule's skill) of the people under test."""
    out = [(f"{r}_{kind}", r, kind == "skilled") for r in ROLES for kind in ("plain", "skilled")]
    return [*out, ("boss", "manager", True)]


def _served(setup: Setup, username: str) -> bool:
    """Whether the annotation queue serves the item to `username` (the lease is
    then let go, so the next person can be asked)."""
    task = next_task(setup.db, setup.people[username], setup.project, NO_GOLD)
    if task is None:
        return False
    assert task.item_id == setup.item_id
    with write_transaction(setup.db.sessions) as session:
        session.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    return True


def _takes(setup: Setup, username: str, queue: str) -> bool:
    try:
        case = next_case(setup.db, setup.people[username], setup.project, queue)
    except Forbidden:
        return False
    return case is not None and case.item_id == setup.item_id


def _decide(setup: Setup, username: str, queue: str) -> AnnotaryError:
    """Try to decide the item with a malformed answer: 403 means routed away or
    not allowed, 422 that the answer was the only problem."""
    actor, bad = setup.people[username], {"no_such_field": 1}
    db, project, item = setup.db, setup.project, setup.item_id
    decisions: dict[str, Callable[[], None]] = {
        "adjudication": lambda: adjudicate(db, actor, project, item, bad, "test"),
        "escalated": lambda: resolve_escalation(db, actor, project, item, "finalize", bad, "t"),
        "review": lambda: review_item(db, actor, project, item, "override", bad, "test"),
    }
    with pytest.raises((Forbidden, Invalid)) as raised:
        decisions[queue]()
    if isinstance(raised.value, Forbidden):  # the role never decides here, or not this item
        assert raised.value.code in ("E702", "E809")
    return raised.value


def _set_status(setup: Setup, status: str) -> None:
    with write_transaction(setup.db.sessions) as session:
        session.execute(update(Item).where(Item.id == setup.item_id).values(status=status))


def _check_senior_queue(setup: Setup, queue: str, rule: dict[str, Any] | None) -> None:
    for username, role, skilled in _members(setup):
        if queue == "escalated":
            expected = _escalation_fits(rule, role, skilled)
        else:
            floor = setup.adjudication_tier if queue == "adjudication" else "reviewer"
            expected = _fits(rule, role, skilled, floor)
        assert _takes(setup, username, queue) is expected, (queue, username)
        refused = _decide(setup, username, queue)
        assert isinstance(refused, Invalid) is expected, (queue, username, refused.code)
    assert _takes(setup, "root", queue)
    assert isinstance(_decide(setup, "root", queue), Invalid)


def _check_annotation_queue(setup: Setup, rule: dict[str, Any] | None) -> None:
    for username, role, skilled in _members(setup):
        if role != "manager":
            expected = _fits(rule, role, skilled, "annotator")
            assert _served(setup, username) is expected, username


def _flag(setup: Setup, flag: str) -> None:
    task = next_task(setup.db, setup.people["flagger"], setup.project, NO_GOLD)
    assert task is not None and task.item_id == setup.item_id
    submit_annotation(setup.db, setup.people["flagger"], task.lease_id, None, flags=(flag,))
    with read_session(setup.db.sessions) as session:
        assert session.scalar(select(Item.status).where(Item.id == setup.item_id)) == "escalated"


def _requeue(setup: Setup) -> None:
    resolve_escalation(
        setup.db, setup.people["boss"], setup.project, setup.item_id, "requeue", None, "fine"
    )


@pytest.mark.parametrize(("name", "index"), TEMPLATE_RULES)
def test_template_routing_rule_holds(db: Database, tmp_path: Path, name: str, index: int) -> None:
    setup = _build(db, tmp_path, name, index)
    rule = setup.rule
    if rule.get("metadata"):
        # The annotation queue, then each senior queue, keep the rule.
        _check_annotation_queue(setup, rule)
        for queue in ("adjudication", "review"):
            _set_status(setup, queue)
            _check_senior_queue(setup, queue, rule)
        _set_status(setup, "queued")
        _flag(setup, SPARE_FLAG)  # no rule on this flag: experts, under the item's rule
        _check_senior_queue(setup, "escalated", rule)
        _requeue(setup)
        _check_annotation_queue(setup, rule)
    else:
        _flag(setup, rule["flag"])
        _check_senior_queue(setup, "escalated", rule)
        _requeue(setup)  # back under the item's metadata rule, if any
        _check_annotation_queue(setup, setup.home)
