"""Gold and review-sampled items are indistinguishable to annotators (SPEC 5):
same answers, same work (statements) per request, an opaque item reference,
a review sample keyed by the project's secret."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, update

from annotary.core.queue import sampled_for_review
from annotary.services.queue.serving import Task, next_task, skip_task, submit_annotation
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    Annotation,
    Item,
    ItemFlag,
    Membership,
    Project,
    ProjectSecret,
)
from tests.services.queue_world import FixedDraw, World, build_world

GOLD, NORMAL = FixedDraw(0.01), FixedDraw(0.99)
ROWS = [{"text": f"gold {i}", "gold": {"sentiment": "positive"}} for i in range(6)]
ROWS += [{"text": f"real {i}"} for i in range(6)]


def gold_world(db: Database, tmp_path: Path) -> World:
    """Overlap 3 (a single submit never completes an item), half the draws gold."""
    return build_world(db, tmp_path, workflow="  overlap: 3\n  gold_rate: 0.5", rows=ROWS)


def task_for(world: World, user: str, draw: FixedDraw, gold: bool) -> Task:
    task = next_task(world.db, world.actors[user], world.project, draw)
    assert task is not None and task.content["text"].startswith("gold" if gold else "real")
    return task


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def project_id(db: Database) -> int:
    with read_session(db.sessions) as session:
        return session.scalars(select(Project.id)).one()


def test_submit_answers_are_the_same_for_gold_and_normal_items(db, tmp_path: Path) -> None:
    world = gold_world(db, tmp_path)
    gold = task_for(world, "ann1", GOLD, gold=True)
    normal = task_for(world, "ann2", NORMAL, gold=False)
    answer = {"sentiment": "negative"}  # wrong for the gold item
    from_gold = submit_annotation(db, world.actors["ann1"], gold.lease_id, answer)
    from_normal = submit_annotation(db, world.actors["ann2"], normal.lease_id, answer)
    assert from_gold.annotation_id is not None and from_normal.annotation_id is not None
    assert replace(from_gold, annotation_id=0) == replace(from_normal, annotation_id=0)
    assert vars(from_gold).keys() == {"annotation_id"}

    # Flags alone: recorded on both; the gold item stays gold; the same answer.
    gold = task_for(world, "ann1", GOLD, gold=True)
    normal = task_for(world, "ann2", NORMAL, gold=False)
    flagged = [
        submit_annotation(db, world.actors[user], task.lease_id, None, flags=("sensitive",))
        for user, task in (("ann1", gold), ("ann2", normal))
    ]
    assert flagged[0] == flagged[1] and flagged[0].annotation_id is None
    with read_session(db.sessions) as session:
        flags = session.execute(select(ItemFlag.item_id, ItemFlag.flag)).all()
        statuses = dict(session.execute(select(Item.id, Item.status)).tuples().all())
    assert sorted(flags) == sorted([(gold.item_id, "sensitive"), (normal.item_id, "sensitive")])
    assert statuses[gold.item_id] == "gold"
    assert statuses[normal.item_id] == "escalated"


def test_flags_with_an_answer_on_a_gold_item_are_recorded(db, tmp_path: Path) -> None:
    """Before, `if flags and not held.is_gold` dropped them silently."""
    world = gold_world(db, tmp_path)
    gold = task_for(world, "ann1", GOLD, gold=True)
    result = submit_annotation(
        db,
        world.actors["ann1"],
        gold.lease_id,
        {"sentiment": "positive"},
        flags=("unclear_guideline",),
        note="sarcasm?",
    )
    assert result.annotation_id is not None
    with read_session(db.sessions) as session:
        flag = session.scalars(select(ItemFlag)).one()
        status = session.scalar(select(Item.status).where(Item.id == gold.item_id))
        scored = session.scalar(select(Annotation.gold_correct))
    assert (flag.item_id, flag.flag, flag.note) == (gold.item_id, "unclear_guideline", "sarcasm?")
    assert status == "gold" and scored is True


def test_skips_are_the_same_for_gold_and_normal_items(db, tmp_path: Path) -> None:
    world = gold_world(db, tmp_path)
    gold = task_for(world, "ann1", GOLD, gold=True)
    normal = task_for(world, "ann2", NORMAL, gold=False)
    assert skip_task(db, world.actors["ann1"], gold.lease_id, "no time") is None
    assert skip_task(db, world.actors["ann2"], normal.lease_id, "no time") is None


def test_tasks_show_an_opaque_item_reference(db, tmp_path: Path) -> None:
    world = gold_world(db, tmp_path)
    gold = task_for(world, "ann1", GOLD, gold=True)
    normal = task_for(world, "ann2", NORMAL, gold=False)
    shown = [gold.to_dict(), normal.to_dict()]
    assert shown[0].keys() == shown[1].keys()
    assert (
        shown[0]["item"].keys()
        == shown[1]["item"].keys()
        == {
            "ref",
            "kind",
            "content",
            "metadata",
        }
    )
    refs = {task["item"]["ref"] for task in shown}
    assert len(refs) == 2
    assert not {str(gold.item_id), str(normal.item_id)} & refs
    again = next_task(db, world.actors["ann1"], world.project, GOLD)  # the live lease again
    assert again is not None and again.to_dict()["item"]["ref"] == shown[0]["item"]["ref"]


def test_gold_and_normal_cost_the_same_statements(db, tmp_path: Path) -> None:
    """Next task and submit send as many statements for a gold as for a normal
    item: the gold answer comes with the lease, every submit counts itself on
    the membership once, and the gold claim is one statement like the regular
    one (PostgreSQL; pick + lease on SQLite, like the regular claim)."""
    world = gold_world(db, tmp_path)
    project = project_id(db)
    warm = task_for(world, "ann3", NORMAL, gold=False)  # caches the schema
    submit_annotation(db, world.actors["ann3"], warm.lease_id, {"sentiment": "neutral"})

    sent: dict[str, list[str]] = {}
    tasks: dict[str, Task] = {}
    for kind, user, draw in (("gold", "ann1", GOLD), ("normal", "ann2", NORMAL)):
        db.recent_sweeps.put(project, True)  # the once-a-second sweep is not due
        with counted_statements(db) as statements:
            tasks[kind] = task_for(world, user, draw, gold=kind == "gold")
        sent[f"next {kind}"] = statements
        with counted_statements(db) as statements:
            submit_annotation(
                db, world.actors[user], tasks[kind].lease_id, {"sentiment": "neutral"}
            )
        sent[f"submit {kind}"] = statements
    assert len(sent["next gold"]) == len(sent["next normal"])
    assert len(sent["submit gold"]) == len(sent["submit normal"])
    if db.engine.dialect.name == "postgresql":  # the seat, then one claim
        assert len(sent["next gold"]) == 2

    # Flags alone cost the same too.
    for kind, user, draw in (("gold", "ann1", GOLD), ("normal", "ann2", NORMAL)):
        task = task_for(world, user, draw, gold=kind == "gold")
        with counted_statements(db) as statements:
            submit_annotation(db, world.actors[user], task.lease_id, None, flags=("sensitive",))
        sent[f"flag {kind}"] = statements
    assert len(sent["flag gold"]) == len(sent["flag normal"])


def test_every_submit_is_counted_on_the_membership(db, tmp_path: Path) -> None:
    world = gold_world(db, tmp_path)
    for draw, gold in ((GOLD, True), (NORMAL, False), (GOLD, True)):
        task = task_for(world, "ann1", draw, gold=gold)
        submit_annotation(db, world.actors["ann1"], task.lease_id, {"sentiment": "positive"})
    task = task_for(world, "ann1", NORMAL, gold=False)
    submit_annotation(db, world.actors["ann1"], task.lease_id, None, flags=("needs_expert",))
    with read_session(db.sessions) as session:
        member = session.scalars(
            select(Membership).where(Membership.user_id == world.actors["ann1"].user_id)
        ).one()
        stored = session.scalar(select(func.count()).select_from(Annotation))
        last = session.scalar(select(func.max(Annotation.created_at)))
    assert (member.annotations_submitted, stored) == (3, 3)
    assert (member.gold_answered, member.gold_correct) == (2, 2)
    assert member.last_submit_at is not None and last is not None
    assert member.last_submit_at.replace(tzinfo=None) >= last.replace(tzinfo=None)


def test_review_sample_is_keyed_by_the_project_secret(db, tmp_path: Path) -> None:
    """Which finalized items go to review follows the project's secret, not the ids
    alone: the sample is the keyed hash under the stored secret."""
    rows = [{"text": f"item {i}"} for i in range(40)]
    world = build_world(
        db, tmp_path, workflow="  overlap: 1\n  review_sampling_rate: 0.5", rows=rows
    )
    with write_transaction(db.sessions) as session:  # a known secret, to predict with
        session.execute(update(ProjectSecret).values(secret="ab" * 32))
    while (task := next_task(db, world.actors["ann1"], world.project, NORMAL)) is not None:
        submit_annotation(db, world.actors["ann1"], task.lease_id, {"sentiment": "neutral"})
    with read_session(db.sessions) as session:
        statuses = dict(session.execute(select(Item.id, Item.status)).tuples().all())
    sampled = {i for i, status in statuses.items() if status == "review"}
    assert set(statuses.values()) == {"review", "finalized"}
    assert sampled == {i for i in statuses if sampled_for_review(bytes.fromhex("ab" * 32), i, 0.5)}
    other = {i for i in statuses if sampled_for_review(bytes.fromhex("cd" * 32), i, 0.5)}
    assert sampled != other


def test_projects_get_their_own_random_secret(db, tmp_path: Path) -> None:
    from annotary.services.projects import create_project
    from tests.services.helpers import sentiment_project

    create_project(db, sentiment_project("one"))
    create_project(db, sentiment_project("two"))
    with read_session(db.sessions) as session:
        secrets = session.scalars(select(ProjectSecret.secret)).all()
        project = session.scalars(select(Project).where(Project.name == "one")).one()
        assert "secret" not in project.definition
        assert secrets[0] not in repr(project.secret_row)
    assert len(secrets) == 2 and len(set(secrets)) == 2
    assert all(len(bytes.fromhex(s)) == 32 for s in secrets)
