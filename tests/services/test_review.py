from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from annotary.errors import Conflict, Forbidden, Invalid
from annotary.services.queue.review import adjudicate, next_case, resolve_escalation, review_item
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import read_session
from annotary.storage.models import FinalLabel, Item, ItemFlag
from tests.services.queue_world import FixedDraw, World, build_world

NO_GOLD = FixedDraw(0.99)


def annotate_all(world: World, labels: dict[str, str]) -> None:
    for name, label in labels.items():
        task = next_task(world.db, world.actors[name], "queue", NO_GOLD)
        assert task is not None
        submit_annotation(world.db, world.actors[name], task.lease_id, {"sentiment": label})


def test_adjudication_shows_all_annotations_to_reviewers_only(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, rows=[{"text": "split"}])
    annotate_all(world, {"ann1": "positive", "ann2": "neutral", "ann3": "negative"})
    with pytest.raises(Forbidden):
        next_case(db, world.actors["ann1"], "queue", "adjudication")
    case = next_case(db, world.actors["rev"], "queue", "adjudication")
    assert case is not None
    assert [a["annotator"] for a in case.annotations] == ["ann1", "ann2", "ann3"]
    assert case.agreement == pytest.approx(1 / 3)
    with pytest.raises(Invalid):
        adjudicate(db, world.actors["rev"], "queue", case.item_id, {"sentiment": "meh"}, "x")
    adjudicate(db, world.actors["rev"], "queue", case.item_id, {"sentiment": "neutral"}, "mixed")
    with pytest.raises(Conflict):
        adjudicate(db, world.actors["rev"], "queue", case.item_id, {"sentiment": "neutral"}, "x")
    with read_session(db.sessions) as session:
        final = session.scalars(select(FinalLabel)).one()
        item = session.get(Item, case.item_id)
    assert (final.method, final.reason, final.payload) == (
        "adjudication",
        "mixed",
        {"sentiment": "neutral"},
    )
    assert item is not None and item.status == "finalized"
    assert next_case(db, world.actors["rev"], "queue", "adjudication") is None


def test_flag_escalates_to_experts(db, tmp_path: Path) -> None:
    world = build_world(db, tmp_path, rows=[{"text": "disturbing"}])
    task = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert task is not None
    with pytest.raises(Invalid):
        submit_annotation(db, world.actors["ann1"], task.lease_id, None, flags=("spam",))
    result = submit_annotation(
        db, world.actors["ann1"], task.lease_id, None, flags=("sensitive",), note="graphic"
    )
    assert result.annotation_id is None
    with read_session(db.sessions) as session:
        assert session.scalar(select(Item.status)) == "escalated"
    assert next_task(db, world.actors["ann2"], "queue", NO_GOLD) is None
    with pytest.raises(Forbidden):
        next_case(db, world.actors["rev"], "queue", "escalated")
    case = next_case(db, world.actors["exp"], "queue", "escalated")
    assert case is not None and case.flags[0]["flag"] == "sensitive"
    resolve_escalation(db, world.actors["exp"], "queue", case.item_id, "requeue", None, "fine")
    with read_session(db.sessions) as session:
        flag = session.scalars(select(ItemFlag)).one()
    assert flag.resolved_at is not None
    assert next_task(db, world.actors["ann2"], "queue", NO_GOLD) is not None


def test_review_sampling_and_override(db, tmp_path: Path) -> None:
    world = build_world(
        db, tmp_path, workflow="  overlap: 1\n  review_sampling_rate: 1.0", rows=[{"text": "x"}]
    )
    annotate_all(world, {"ann1": "positive"})
    case = next_case(db, world.actors["rev"], "queue", "review")
    assert case is not None and case.final is not None
    assert case.final["payload"] == {"sentiment": "positive"}
    assert case.final["fields"]["sentiment"]["method"] == "majority"
    review_item(
        db,
        world.actors["rev"],
        "queue",
        case.item_id,
        "override",
        {"sentiment": "negative"},
        "sarcasm",
    )
    with read_session(db.sessions) as session:
        final = session.scalars(select(FinalLabel)).one()
    assert (final.method, final.payload) == ("review", {"sentiment": "negative"})
    # The machine's per-field record described the overridden label, not this one.
    assert final.fields == {}


def test_weighted_aggregation_follows_gold_accuracy(db, tmp_path: Path) -> None:
    from sqlalchemy import update

    from annotary.storage.db import write_transaction
    from annotary.storage.models import Membership

    world = build_world(
        db,
        tmp_path,
        workflow="  overlap: 3\n  aggregation: weighted\n  agreement_threshold: 0.3",
        rows=[{"text": "contested"}],
    )
    # ann1 has a strong gold record; ann2 and ann3 are at chance.
    with write_transaction(db.sessions) as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == world.actors["ann1"].user_id)
            .values(gold_answered=20, gold_correct=19)
        )
        for name in ("ann2", "ann3"):
            session.execute(
                update(Membership)
                .where(Membership.user_id == world.actors[name].user_id)
                .values(gold_answered=20, gold_correct=10)
            )
    annotate_all(world, {"ann1": "negative", "ann2": "positive", "ann3": "positive"})
    with read_session(db.sessions) as session:
        final = session.scalars(select(FinalLabel)).one()
    assert final.method == "weighted"
    assert final.payload == {"sentiment": "negative"}  # one reliable vote beats two at chance
    assert final.agreement == pytest.approx(1 / 3)
    assert final.confidence == pytest.approx(1.0)
