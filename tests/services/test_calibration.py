"""Calibration rounds (SPEC 4): a fixed set everyone annotates, compared with the
expert answers and shown back with the reasons; never part of QA or consensus."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotary.errors import Conflict, Forbidden, Invalid
from annotary.services.identity.access import Actor
from annotary.services.identity.calibration import (
    NewCalibrationItem,
    NewRound,
    create_round,
    list_rounds,
    round_results,
)
from annotary.services.identity.calibration_work import (
    answer_calibration_item,
    my_feedback,
    next_calibration_item,
)
from annotary.services.identity.members import accept_terms
from annotary.services.qa.report import qa_report
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, Item, Membership
from tests.services.queue_world import FixedDraw, World, build_world

GOLD_REASON = "Sarcasm: the praise is ironic."
ROWS = [
    {"id": "t1", "text": "Fine."},
    {"id": "t2", "text": "Great, thanks."},
    {"id": "g1", "text": "Oh great, it broke again.", "gold": {"sentiment": "negative"}},
    {
        "id": "g2",
        "text": "Works as described.",
        "gold": {"sentiment": "positive"},
        "gold_reason": "Plain praise.",
    },
]
ROWS[2]["gold_reason"] = GOLD_REASON
GIVEN = NewCalibrationItem({"text": "It is a chair."}, {"sentiment": "neutral"}, "No opinion.")


def _gold_id(db: Database, external_id: str) -> int:
    with read_session(db.sessions) as session:
        return int(session.scalar(select(Item.id).where(Item.external_id == external_id)) or 0)


def _world(db: Database, tmp_path: Path, workflow: str = "  overlap: 2") -> World:
    return build_world(db, tmp_path, workflow=workflow, rows=ROWS)


def test_a_round_is_answered_item_by_item_with_the_expert_answer_and_reason(
    db: Database, tmp_path: Path
) -> None:
    world = _world(db, tmp_path)
    boss, ann1 = world.actors["boss"], world.actors["ann1"]
    new = NewRound("week-1", gold_items=("g1", str(_gold_id(db, "g2"))), items=(GIVEN,))

    info = create_round(db, "queue", new, boss)

    assert (info.items, info.participants, info.shuffle) == (3, 6, False)  # 4 ann, rev, exp
    task = next_calibration_item(db, ann1, "queue", "week-1")
    assert task is not None and (task.number, task.total) == (1, 3)
    assert task.content == {"text": "Oh great, it broke again."}
    assert next_calibration_item(db, ann1, "queue", "week-1") == task  # until answered
    feedback = answer_calibration_item(
        db, ann1, "queue", "week-1", task.item_id, {"sentiment": "positive"}, 4_000
    )
    assert feedback.expert_answer == {"sentiment": "negative"}
    assert feedback.reason == GOLD_REASON
    assert (feedback.matches, feedback.correct, feedback.remaining) == (
        {"sentiment": False},
        False,
        2,
    )
    with pytest.raises(Conflict) as again:
        answer_calibration_item(
            db, ann1, "queue", "week-1", task.item_id, {"sentiment": "negative"}
        )
    assert again.value.code == "E823"
    second = next_calibration_item(db, ann1, "queue", "week-1")
    assert second is not None and second.number == 2
    with pytest.raises(Invalid) as invalid:
        answer_calibration_item(db, ann1, "queue", "week-1", second.item_id, {"sentiment": "meh"})
    assert invalid.value.code == "E201" and invalid.value.details[0].path == "annotation.sentiment"
    for _ in range(2):
        due = next_calibration_item(db, ann1, "queue", "week-1")
        assert due is not None
        answer = {"sentiment": "positive" if due.number == 2 else "neutral"}
        done = answer_calibration_item(db, ann1, "queue", "week-1", due.item_id, answer)
        assert done.correct is True
    assert next_calibration_item(db, ann1, "queue", "week-1") is None
    assert [f.correct for f in my_feedback(db, ann1, "queue", "week-1")] == [False, True, True]
    assert [f.reason for f in my_feedback(db, ann1, "queue", "week-1")][2] == "No opinion."

    results = round_results(db, "queue", "week-1", boss)
    mine = next(p for p in results.participants if p.username == "ann1")
    assert (mine.answered, mine.correct, mine.fields) == (3, 2, {"sentiment": 2 / 3})
    assert [i.answered for i in results.per_item] == [1, 1, 1]
    assert results.per_item[0].gold_item_id == _gold_id(db, "g1")
    assert len(results.participants) == 6


def test_calibration_answers_never_reach_the_queue_qa_or_gold_counts(
    db: Database, tmp_path: Path
) -> None:
    world = _world(db, tmp_path)
    ann1 = world.actors["ann1"]
    create_round(db, "queue", NewRound("r", gold_items=("g1",), items=(GIVEN,)))
    while (task := next_calibration_item(db, ann1, "queue", "r")) is not None:
        answer_calibration_item(db, ann1, "queue", "r", task.item_id, {"sentiment": "negative"})
    with read_session(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == 0
        assert session.scalar(select(func.sum(Item.annotation_count))) == 0
        gold = session.execute(
            select(Membership.gold_answered, Membership.qualification_answered).where(
                Membership.user_id == ann1.user_id
            )
        ).one()
    assert tuple(gold) == (0, 0)
    report = qa_report(db, "queue")
    assert (report.annotations, report.gold.answers) == (0, 0)


def test_a_gold_item_in_a_round_is_no_longer_served_to_its_participants(
    db: Database, tmp_path: Path
) -> None:
    world = _world(db, tmp_path, workflow="  overlap: 1\n  gold_rate: 0.5")
    ann1, ann2 = world.actors["ann1"], world.actors["ann2"]
    gold = FixedDraw(0.1)  # the queue decides to serve gold
    for actor in (ann1, ann2):
        accept_terms(db, actor, "queue")
    held = next_task(db, ann1, "queue", gold)
    assert held is not None and held.item_id in {_gold_id(db, "g1"), _gold_id(db, "g2")}
    external = "g1" if held.item_id == _gold_id(db, "g1") else "g2"
    other = "g2" if external == "g1" else "g1"

    create_round(db, "queue", NewRound("r", gold_items=(external,), participants=("ann1",)))

    with read_session(db.sessions) as session:
        item = session.get(Item, held.item_id)
        assert item is not None and item.lease_count == 0  # ann1's lease on it went back
    assert _served(db, ann1, gold) == {_gold_id(db, other), _gold_id(db, "t1"), _gold_id(db, "t2")}
    # For those outside the round it is still hidden gold.
    assert _served(db, ann2, gold) == {_gold_id(db, "g1"), _gold_id(db, "g2")}


def _served(db: Database, actor: Actor, draw: FixedDraw) -> set[int]:
    """Every item the queue serves the actor until nothing is left (each answered)."""
    served = set()
    while (task := next_task(db, actor, "queue", draw)) is not None:
        served.add(task.item_id)
        submit_annotation(db, actor, task.lease_id, {"sentiment": "neutral"})
    return served


def test_invalid_rounds_list_every_problem_and_store_nothing(db: Database, tmp_path: Path) -> None:
    world = _world(db, tmp_path)
    boss = world.actors["boss"]
    bad = NewRound(
        "week-2",
        gold_items=("g1", "nope"),
        items=(
            NewCalibrationItem({"body": "x"}, {"sentiment": "positive"}, "why"),
            NewCalibrationItem({"text": "y"}, {"sentiment": "meh"}, " "),
        ),
        participants=("ann1", "stranger"),
    )
    with pytest.raises(Invalid) as raised:
        create_round(db, "queue", bad, boss)
    assert raised.value.code == "E821"
    paths = {d.path for d in raised.value.details}
    assert paths == {
        "gold_items[1]",
        "items[0].content.text",
        "items[1].answer.sentiment",
        "items[1].reason",
        "participants[1]",
    }
    assert list_rounds(db, "queue", boss) == []
    with pytest.raises(Invalid) as named:
        create_round(db, "queue", NewRound("Week 2", items=(GIVEN,)), boss)
    assert [d.path for d in named.value.details] == ["name"]
    create_round(db, "queue", NewRound("week-2", items=(GIVEN,)), boss)
    with pytest.raises(Conflict) as taken:
        create_round(db, "queue", NewRound("week-2", items=(GIVEN,)), boss)
    assert taken.value.code == "E824"


def test_who_sees_and_does_what(db: Database, tmp_path: Path) -> None:
    world = _world(db, tmp_path)
    boss, ann1, ann2 = world.actors["boss"], world.actors["ann1"], world.actors["ann2"]
    with pytest.raises(Forbidden):
        create_round(db, "queue", NewRound("r", items=(GIVEN,)), ann1)
    create_round(db, "queue", NewRound("r", items=(GIVEN,), participants=("ann1",)), boss)
    create_round(db, "queue", NewRound("all", items=(GIVEN,)), boss)
    task = next_calibration_item(db, ann1, "queue", "r")
    assert task is not None
    answer_calibration_item(db, ann1, "queue", "r", task.item_id, {"sentiment": "neutral"})

    with pytest.raises(Forbidden) as outside:
        next_calibration_item(db, ann2, "queue", "r")
    assert outside.value.code == "E822"
    with pytest.raises(Forbidden):
        next_calibration_item(db, boss, "queue", "r")  # managers are no participants by default
    with pytest.raises(Forbidden):
        round_results(db, "queue", "r", ann1)
    managed = {r.name: r for r in list_rounds(db, "queue", boss)}
    assert (managed["r"].answers, managed["r"].your_answers) == (1, None)
    own = list_rounds(db, "queue", ann1)
    assert {(r.name, r.answers, r.your_answers) for r in own} == {("r", None, 1), ("all", None, 0)}
    assert [r.name for r in list_rounds(db, "queue", ann2)] == ["all"]


def test_shuffled_rounds_keep_each_participants_order(db: Database, tmp_path: Path) -> None:
    world = _world(db, tmp_path)
    items = tuple(
        NewCalibrationItem({"text": f"case {i}"}, {"sentiment": "neutral"}, "flat")
        for i in range(6)
    )
    create_round(db, "queue", NewRound("mix", items=items, shuffle=True))
    for name in ("ann1", "ann2"):
        actor = world.actors[name]
        seen = []
        while (task := next_calibration_item(db, actor, "queue", "mix")) is not None:
            assert next_calibration_item(db, actor, "queue", "mix") == task
            seen.append(task.content["text"])
            answer_calibration_item(
                db, actor, "queue", "mix", task.item_id, {"sentiment": "neutral"}
            )
        assert sorted(seen) == [f"case {i}" for i in range(6)]
