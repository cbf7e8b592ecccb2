from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from annotary.errors import Forbidden, Invalid, NotFound
from annotary.services.queue.serving import next_task, skip_task, submit_annotation
from annotary.storage.db import read_session, write_transaction
from annotary.storage.models import Annotation, FinalLabel, Item, Lease, Membership, utcnow
from tests.services.queue_world import FixedDraw, World, build_world

NO_GOLD = FixedDraw(0.99)


def served(world: World, user: str) -> int:
    task = next_task(world.db, world.actors[user], world.project, NO_GOLD)
    assert task is not None
    return task.item_id


def test_next_task_is_idempotent_until_submitted(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    first = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    again = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert first is not None and again is not None
    assert (again.lease_id, again.item_id) == (first.lease_id, first.item_id)
    assert first.content == {"text": "item 0"}
    submit_annotation(db, world.actors["ann1"], first.lease_id, {"sentiment": "positive"})
    after = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert after is not None and after.item_id != first.item_id


def test_overlap_limits_annotators_per_item(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    items = [served(world, name) for name in ("ann1", "ann2", "ann3", "ann4")]
    assert items[0] == items[1] == items[2]
    assert items[3] != items[0]
    with read_session(db.sessions) as session:
        counts = session.execute(select(Item.lease_count).where(Item.id == items[0])).scalar()
    assert counts == 3


def test_never_the_same_item_twice_and_skips_stick(db, tmp_path: Path) -> None:
    world = build_world(
        db,
        tmp_path,
        workflow="  overlap: 2",
        rows=[
            {"text": "a"},
            {"text": "b"},
            {"text": "c"},
        ],
    )
    ann1 = world.actors["ann1"]
    task = next_task(db, ann1, "queue", NO_GOLD)
    assert task is not None
    skip_task(db, ann1, task.lease_id, "not English")
    seen = {task.item_id}
    while (task := next_task(db, ann1, "queue", NO_GOLD)) is not None:
        assert task.item_id not in seen
        seen.add(task.item_id)
        submit_annotation(db, ann1, task.lease_id, {"sentiment": "neutral"})
    assert len(seen) == 3
    with pytest.raises(Invalid):
        skip_task(db, ann1, 999, "  ")


def test_expired_lease_frees_the_slot(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, workflow="  overlap: 1", rows=[{"text": "only"}])
    first = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert first is not None
    assert next_task(db, world.actors["ann2"], "queue", NO_GOLD) is None
    with write_transaction(db.sessions) as session:
        session.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
    second = next_task(db, world.actors["ann2"], "queue", NO_GOLD)
    assert second is not None and second.item_id == first.item_id
    with pytest.raises(NotFound) as raised:
        submit_annotation(db, world.actors["ann1"], first.lease_id, {"sentiment": "positive"})
    assert raised.value.code == "E801"


def test_invalid_submission_lists_fields_and_stores_nothing(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    task = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert task is not None
    with pytest.raises(Invalid) as raised:
        submit_annotation(db, world.actors["ann1"], task.lease_id, {"sentiment": "angry", "x": 1})
    paths = sorted(d.path for d in raised.value.details)
    assert paths == ["annotation.sentiment", "annotation.x"]
    with read_session(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == 0
        assert session.scalar(select(func.count()).select_from(Lease)) == 1


def test_agreement_finalizes_and_disagreement_goes_to_adjudication(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, rows=[{"text": "agree"}, {"text": "disagree"}])
    answers = {
        "agree": ["positive", "positive", "negative"],
        "disagree": ["positive", "neutral", "negative"],
    }
    for index, name in enumerate(("ann1", "ann2", "ann3")):
        for _ in range(2):
            task = next_task(db, world.actors[name], "queue", NO_GOLD)
            assert task is not None
            label = answers[task.content["text"]][index]
            submit_annotation(db, world.actors[name], task.lease_id, {"sentiment": label})
    with read_session(db.sessions) as session:
        status = dict(session.execute(select(Item.content["text"].as_string(), Item.status)).all())
        final = session.scalars(select(FinalLabel)).one()
    assert status == {"agree": "finalized", "disagree": "adjudication"}
    assert final.payload == {"sentiment": "positive"}
    assert final.method == "majority"
    assert final.agreement == pytest.approx(2 / 3)


def test_gold_is_scored_and_low_accuracy_pauses(db, tmp_path: Path) -> None:
    rows = [{"text": f"gold {i}", "gold": {"sentiment": "positive"}} for i in range(4)]
    rows += [{"text": f"real {i}"} for i in range(4)]
    world = build_world(
        db,
        tmp_path,
        workflow="  overlap: 1\n  gold_rate: 0.5\n  min_gold_accuracy: 0.6\n  min_gold_count: 2",
        rows=rows,
    )
    ann1 = world.actors["ann1"]
    for _ in range(2):
        task = next_task(db, ann1, "queue", FixedDraw(0.1))
        assert task is not None and task.content["text"].startswith("gold")
        assert "gold" not in task.to_dict()["item"]["content"]
        submit_annotation(db, ann1, task.lease_id, {"sentiment": "negative"})
    with read_session(db.sessions) as session:
        membership = session.scalars(
            select(Membership).where(Membership.user_id == ann1.user_id)
        ).one()
        correct = session.scalars(select(Annotation.gold_correct)).all()
    assert (membership.gold_answered, membership.gold_correct) == (2, 0)
    assert correct == [False, False]
    assert membership.paused_at is not None
    with pytest.raises(Forbidden) as raised:
        next_task(db, ann1, "queue", NO_GOLD)
    assert raised.value.code == "E804"
    regular = next_task(db, world.actors["ann2"], "queue", NO_GOLD)
    assert regular is not None and regular.content["text"].startswith("real")


def qualification_world(
    db, tmp_path: Path, *, gold: int, overlap: int, min_items: int, pass_mark: float
) -> World:
    """`gold` gold items (answer: neutral) and one real item, behind a qualification."""
    rows = [{"text": f"gold {i}", "gold": {"sentiment": "neutral"}} for i in range(gold)]
    rows += [{"text": "real"}]
    qualification = f"{{min_items: {min_items}, pass_mark: {pass_mark}}}"
    workflow = f"  overlap: {overlap}\n  qualification: {qualification}"
    return build_world(db, tmp_path, rows=rows, workflow=workflow)


def test_qualification_gate(db, tmp_path: Path) -> None:
    world = qualification_world(db, tmp_path, gold=3, overlap=1, min_items=2, pass_mark=1.0)
    for name, label, passes in (("ann1", "neutral", True), ("ann2", "positive", False)):
        actor = world.actors[name]
        for _ in range(2):
            task = next_task(db, actor, "queue", NO_GOLD)
            assert task is not None and task.content["text"].startswith("gold")
            submit_annotation(db, actor, task.lease_id, {"sentiment": label})
        if passes:
            task = next_task(db, actor, "queue", NO_GOLD)
            assert task is not None and task.content["text"] == "real"
        else:
            with pytest.raises(Forbidden) as raised:
                next_task(db, actor, "queue", NO_GOLD)
            assert raised.value.code == "E806"


def test_terms_gate_and_non_workers(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, workflow="  confidentiality_terms: Keep it secret.")
    with pytest.raises(Forbidden) as raised:
        next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert raised.value.code == "E805"
    with write_transaction(db.sessions) as session:
        session.execute(update(Membership).values(terms_accepted_at=utcnow()))
    assert next_task(db, world.actors["ann1"], "queue", NO_GOLD) is not None
    with pytest.raises(Forbidden):
        next_task(db, world.actors["boss"], "queue", NO_GOLD)


def test_routing_by_metadata_tier_and_skills(db, tmp_path: Path) -> None:
    workflow = (
        "  overlap: 1\n  routing:\n"
        "    - {metadata: {domain: medical}, tier: expert}\n"
        "    - {metadata: {domain: legal}, skills: [law]}\n"
    )
    rows = [
        {"text": "med", "metadata": {"domain": "medical"}},
        {"text": "law", "metadata": {"domain": "legal"}},
        {"text": "plain"},
    ]
    world = build_world(db, tmp_path, workflow=workflow, rows=rows, skills={"ann2": ("law",)})

    def texts(user: str) -> set[str]:
        got = set()
        while (task := next_task(db, world.actors[user], "queue", NO_GOLD)) is not None:
            got.add(task.content["text"])
            skip_task(db, world.actors[user], task.lease_id, "just looking")
        return got

    assert texts("ann1") == {"plain"}
    assert texts("ann2") == {"plain", "law"}
    assert texts("exp") == {"plain", "med"}


def test_gold_with_only_free_text_is_stored_unscored(db, tmp_path: Path) -> None:
    from annotary.core.ingest.mapping import ImportOptions
    from annotary.core.project import parse_project
    from annotary.services.identity.access import Actor
    from annotary.services.identity.users import NewUser, add_user
    from annotary.services.imports import import_items
    from annotary.services.projects import create_project

    project = parse_project(
        """
name: rewrite
objective: {use_case: instruction_tuning}
schema:
  fields:
    - {name: answer, kind: text}
guidelines: Write the answer.
workflow: {overlap: 1, gold_rate: 0.5}
""",
        "rewrite.yaml",
    )
    create_project(db, project)
    user_id = add_user(db, NewUser("writer", None, project="rewrite"))
    source = tmp_path / "gold.jsonl"
    source.write_text('{"text": "say hi", "gold": {"answer": "Hi!"}}\n')
    import_items(db, "rewrite", source, ImportOptions())
    writer = Actor(user_id, "writer")

    task = next_task(db, writer, "rewrite", FixedDraw(0.1))
    assert task is not None and task.content == {"text": "say hi"}
    submit_annotation(db, writer, task.lease_id, {"answer": "Hello there"})

    with read_session(db.sessions) as session:
        stored = session.scalars(select(Annotation.gold_correct)).one()
        membership = session.scalars(select(Membership)).one()
    assert stored is None
    assert (membership.gold_answered, membership.gold_correct) == (0, 0)


def test_tasks_carry_their_prelabels_oldest_first(db, tmp_path: Path) -> None:
    guesses = [
        {"model": "small", "annotation": {"sentiment": "neutral"}, "confidence": 0.25},
        {"model": "large", "annotation": {"sentiment": "positive"}},
    ]
    world = build_world(
        db,
        tmp_path,
        workflow="  overlap: 2",
        rows=[{"text": "labelled", "prelabels": guesses}, {"text": "bare"}],
    )
    first = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert first is not None and first.content == {"text": "labelled"}
    expected = [
        {"model": "small", "annotation": {"sentiment": "neutral"}, "confidence": 0.25},
        {"model": "large", "annotation": {"sentiment": "positive"}, "confidence": None},
    ]
    assert first.prelabels == expected
    again = next_task(db, world.actors["ann1"], "queue", NO_GOLD)  # re-served lease
    assert again is not None and again.prelabels == expected
    submit_annotation(db, world.actors["ann1"], first.lease_id, {"sentiment": "positive"})
    bare = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert bare is not None and bare.content == {"text": "bare"} and bare.prelabels == []


def test_qualification_decided_early_when_its_gold_runs_out(db, tmp_path: Path) -> None:
    """min_items 5 but only 2 gold items: the answers given decide, and the
    decision is recorded on the membership (a manager sees it and can resume)."""
    world = qualification_world(db, tmp_path, gold=2, overlap=2, min_items=5, pass_mark=0.5)
    for name, label in (("ann1", "neutral"), ("ann2", "positive")):
        for _ in range(2):
            task = next_task(db, world.actors[name], "queue", NO_GOLD)
            assert task is not None and task.content["text"].startswith("gold")
            submit_annotation(db, world.actors[name], task.lease_id, {"sentiment": label})
    passed = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert passed is not None and passed.content == {"text": "real"}
    for _ in range(2):  # refused, and the failure is kept: the second refusal reads it
        with pytest.raises(Forbidden) as raised:
            next_task(db, world.actors["ann2"], "queue", NO_GOLD)
        assert raised.value.code == "E806" and "did not pass" in raised.value.message
    with read_session(db.sessions) as session:
        marks = dict(
            session.execute(
                select(Membership.user_id, Membership.qualification_failed_at.is_not(None))
            ).all()
        )
        qualified = dict(
            session.execute(select(Membership.user_id, Membership.qualified_at.is_not(None))).all()
        )
    assert marks[world.actors["ann2"].user_id] is True
    assert qualified[world.actors["ann1"].user_id] is True
    assert marks[world.actors["ann1"].user_id] is False
