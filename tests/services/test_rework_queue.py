"""The queue's part of rework (SPEC 8): rework tasks are served to the annotators
who made the older annotations, for the changed fields only, and completing
them re-settles the item. Through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from annotary.errors import Forbidden, Invalid, NotFound
from annotary.services.identity.accounts import deactivate_user, update_user
from annotary.services.identity.members import remove_member
from annotary.services.queue.review import next_case
from annotary.services.queue.serving import skip_task
from annotary.services.rework import cancel_rework
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import ItemFlag, Lease, Membership, Skip
from tests.services.rework_world import (
    REGULAR,
    build,
    by_external_id,
    rework_statuses,
)
from tests.services.test_gold_hidden import counted_statements
from tests.services.versions_world import ANSWERS, ITEMS

SAME = {"ann1": ANSWERS, "ann2": ANSWERS}
"""Two annotators who gave the same answers: every item finalized at overlap 2."""


def test_rework_tasks_come_first_with_the_fields_and_earlier_values(
    db: Database, tmp_path: Path
) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS})
    assert world.requeue() == 4
    task = world.rework_task("ann1")
    assert task.content["text"] == ITEMS[1]["text"]  # p1, the first of ann1's rows
    shown = task.to_dict()
    assert shown["rework"] == {"fields": ["sentiment"], "previous": {"sentiment": "neutral"}}
    assert (shown["schema_version"], shown["guideline_version"]) == (2, 1)
    assert shown["prelabels"] and shown["item"]["ref"] != str(task.item_id)
    state = by_external_id(db)["p1"]
    assert (state["status"], state["lease_count"]) == ("rework", 1)
    # Asking again gives the same task, still a rework task.
    again = world.task("ann1")
    assert again is not None and again.lease_id == task.lease_id
    assert again.to_dict()["rework"] == shown["rework"]
    # Nobody else is served the item, nor anything else.
    assert world.task("ann2") is None


def test_rework_comes_before_new_items(db: Database, tmp_path: Path) -> None:
    rows = [*ITEMS, {"id": "n1", "text": "New one."}]
    world = build(db, tmp_path, {"ann1": ANSWERS}, items=rows)
    world.requeue()
    for external_id in REGULAR:
        task = world.rework_task("ann1")
        assert task.content["text"] == next(r["text"] for r in rows if r["id"] == external_id)
        world.submit("ann1", task, {"sentiment": "mixed"})
    new = world.task("ann1")
    assert new is not None and new.rework is None and new.content["text"] == "New one."


def test_redone_fields_are_merged_into_the_annotation_and_the_final_label(
    db: Database, tmp_path: Path
) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS})
    before = by_external_id(db)
    world.requeue()
    for _ in REGULAR:
        task = world.rework_task("ann1")
        result = world.submit("ann1", task, {"sentiment": "mixed"}, time_spent_ms=500)
        assert vars(result).keys() == {"annotation_id"}
    after = by_external_id(db)
    for external_id, answer in zip(REGULAR, ANSWERS, strict=True):
        old, new = before[external_id], after[external_id]
        merged = {**answer, "sentiment": "mixed"}
        # The same annotation row, redone under the current versions.
        assert new["annotations"] == [(old["annotations"][0][0], merged, 2, 1)]
        assert (new["status"], new["annotation_count"], new["lease_count"]) == ("finalized", 1, 0)
        assert new["final"]["payload"] == merged
        # The per-field record: new for the redone field, kept for the others.
        assert new["final"]["fields"]["sentiment"]["agreement"] == 1.0
        for name in set(old["final"]["fields"]) - {"sentiment"}:
            assert new["final"]["fields"][name] == old["final"]["fields"][name]
    assert rework_statuses(db) == (["done"] * 4, ["done"] * 4)
    assert world.task("ann1") is None


def test_answers_that_touch_other_fields_are_refused(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS})
    world.requeue()
    task = world.rework_task("ann1")
    with pytest.raises(Invalid) as raised:
        world.submit("ann1", task, {"sentiment": "mixed", "stars": 1})
    assert raised.value.code == "E201"
    assert [(e.path, e.reason) for e in raised.value.details] == [
        ("annotation.stars", "not part of this rework; redo only: sentiment")
    ]
    with pytest.raises(Invalid) as raised:
        world.submit("ann1", task, {"sentiment": "sarcastic"})
    assert [e.path for e in raised.value.details] == ["annotation.sentiment"]
    with pytest.raises(Invalid) as raised:
        world.submit("ann1", task, {})  # leaving the redone field out leaves it empty
    assert [e.path for e in raised.value.details] == ["annotation.sentiment"]
    # Nothing changed: the lease, the row and the annotation are as they were.
    assert by_external_id(db)["p1"]["annotations"][0][1] == ANSWERS[0]
    assert rework_statuses(db)[1][0] == "open"
    world.submit("ann1", task, {"sentiment": "mixed"})
    assert by_external_id(db)["p1"]["annotations"][0][1] == {**ANSWERS[0], "sentiment": "mixed"}


def test_a_skip_or_flags_alone_drop_the_row(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS})
    before = by_external_id(db)
    world.requeue()
    task = world.rework_task("ann1")
    assert skip_task(db, world.actors["ann1"], task.lease_id, "cannot tell") is None
    flagged = world.rework_task("ann1")
    result = world.submit("ann1", flagged, None, flags=("unclear_guideline",), note="mixed?")
    assert result.annotation_id is None
    after = by_external_id(db)
    for external_id in ("p1", "t1"):
        # Back as they were: final label and annotation untouched.
        assert after[external_id]["status"] == "finalized"
        assert after[external_id]["final_id"] == before[external_id]["final_id"]
        assert after[external_id]["annotations"] == before[external_id]["annotations"]
        assert after[external_id]["lease_count"] == 0
    with read_session(db.sessions) as session:
        skip = session.scalars(select(Skip)).one()
        flag = session.scalars(select(ItemFlag)).one()
    assert (skip.item_id, skip.reason) == (after["p1"]["id"], "cannot tell")
    assert (flag.item_id, flag.flag, flag.note) == (
        after["t1"]["id"],
        "unclear_guideline",
        "mixed?",
    )
    assert rework_statuses(db) == (["done", "done", "open", "open"], ["dropped"] * 2 + ["open"] * 2)


def test_flags_with_a_redone_answer_are_recorded(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS[:1]})
    world.requeue()
    task = world.rework_task("ann1")
    world.submit("ann1", task, {"sentiment": "mixed"}, flags=("needs_expert",))
    state = by_external_id(db)["p1"]
    assert state["status"] == "finalized"  # the rework completed; the flag is on record
    assert state["annotations"][0][1]["sentiment"] == "mixed"
    with read_session(db.sessions) as session:
        assert session.scalars(select(ItemFlag.flag)).all() == ["needs_expert"]


def test_disagreement_on_redone_fields_goes_to_adjudication(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, SAME, overlap=2)
    before = by_external_id(db)
    assert {s["status"] for s in before.values()} == {"finalized"}
    world.requeue()
    for _ in REGULAR:
        world.submit("ann1", world.rework_task("ann1"), {"sentiment": "mixed"})
    assert {s["status"] for s in by_external_id(db).values()} == {"rework"}  # ann2 to go
    agree = {"p1": "mixed", "t1": "mixed", "t2": "positive", "t3": "mixed"}
    for external_id in REGULAR:
        world.submit("ann2", world.rework_task("ann2"), {"sentiment": agree[external_id]})
    after = by_external_id(db)
    assert after["t1"]["status"] == "finalized"
    assert after["t1"]["final"]["payload"] == {"sentiment": "mixed", "stars": 2}
    # t2: the redone field disagrees: a reviewer decides, without a final label...
    assert (after["t2"]["status"], after["t2"]["final"]) == ("adjudication", None)
    case = next_case(db, world.actors["boss"], "versions", "adjudication")
    assert case is not None and case.item_id == after["t2"]["id"]
    # ... but shown the one it had, and what was redone.
    shown = case.to_dict()["rework"]
    assert shown["fields"] == ["sentiment"] and shown["previous_status"] == "finalized"
    assert shown["previous_final"]["payload"] == before["t2"]["final"]["payload"]


def test_an_item_in_adjudication_is_settled_over_all_answers(db: Database, tmp_path: Path) -> None:
    ann2 = [*ANSWERS[:1], {"sentiment": "negative", "stars": 2}, *ANSWERS[2:]]
    world = build(db, tmp_path, {"ann1": ANSWERS, "ann2": ann2}, overlap=2)
    assert by_external_id(db)["t1"]["status"] == "adjudication"
    world.requeue()
    for user in ("ann1", "ann2"):
        for _ in REGULAR:
            world.submit(user, world.rework_task(user), {"sentiment": "mixed"})
    t1 = by_external_id(db)["t1"]
    assert t1["status"] == "finalized"
    assert t1["final"]["payload"] == {"sentiment": "mixed", "stars": 2}


def test_a_queued_item_goes_back_to_the_queue(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, SAME, overlap=3)
    world.requeue()
    for user in ("ann1", "ann2"):
        for _ in REGULAR:
            world.submit(user, world.rework_task(user), {"sentiment": "mixed"})
    after = by_external_id(db)
    assert {(s["status"], s["annotation_count"]) for s in after.values()} == {("queued", 2)}
    assert all(a[2] == 2 for s in after.values() for a in s["annotations"])
    # The third annotator completes p1 over the redone answers.
    task = world.task("ann3")
    assert task is not None and task.rework is None
    world.submit("ann3", task, {"sentiment": "mixed"})
    p1 = by_external_id(db)["p1"]
    assert p1["status"] == "finalized" and p1["final"]["payload"]["sentiment"] == "mixed"


def test_sampled_items_go_back_to_review(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS}, workflow="  review_sampling_rate: 1.0\n")
    assert {s["status"] for s in by_external_id(db).values()} == {"review"}
    world.requeue()
    for _ in REGULAR:
        world.submit("ann1", world.rework_task("ann1"), {"sentiment": "mixed"})
    after = by_external_id(db)
    assert {s["status"] for s in after.values()} == {"review"}
    assert {s["final"]["payload"]["sentiment"] for s in after.values()} == {"mixed"}


@pytest.mark.parametrize("swept", [True, False])
def test_an_expired_rework_lease_is_reclaimed_and_served_again(
    db: Database, tmp_path: Path, swept: bool
) -> None:
    """Swept like any lease (or, before the sweep comes, replaced by the new one);
    the annotator's part stays open and is served again."""
    world = build(db, tmp_path, {"ann1": ANSWERS[:1]})
    world.requeue()
    first = world.rework_task("ann1")
    with write_transaction(db.sessions) as session:  # the lease runs out
        session.execute(update(Lease).values(expires_at=Lease.created_at))
        project_id = session.scalars(select(Lease.project_id)).one()
    if swept:
        db.recent_sweeps.drop(project_id)
    else:
        db.recent_sweeps.put(project_id, True)
    again = world.rework_task("ann1")
    assert again.item_id == first.item_id and again.rework == first.rework
    assert by_external_id(db)["p1"]["lease_count"] == 1
    with read_session(db.sessions) as session:
        assert session.scalars(select(Lease.id)).all() == [again.lease_id]
    world.submit("ann1", again, {"sentiment": "mixed"})
    assert by_external_id(db)["p1"]["status"] == "finalized"


def test_people_who_leave_hold_no_rework_up(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, SAME, overlap=2)
    before = by_external_id(db)
    world.requeue()
    # ann2 holds a rework task when they are removed from the project.
    held = world.rework_task("ann2")
    assert remove_member(db, "versions", "ann2").leases_released == 1
    with pytest.raises(NotFound):
        world.submit("ann2", held, {"sentiment": "mixed"})
    assert by_external_id(db)["p1"]["status"] == "rework"  # ann1's part is still open
    world.submit("ann1", world.rework_task("ann1"), {"sentiment": "mixed"})
    # p1 completed over ann1's answer alone.
    p1 = by_external_id(db)["p1"]
    assert p1["status"] == "finalized" and p1["final"]["payload"]["sentiment"] == "mixed"
    # ann1 leaves too, holding the next task: the rest go back as they were.
    world.rework_task("ann1")
    assert deactivate_user(db, "ann1").leases_released == 1
    after = by_external_id(db)
    for external_id in REGULAR[1:]:
        assert after[external_id]["status"] == "finalized"
        assert after[external_id]["final_id"] == before[external_id]["final_id"]
        assert after[external_id]["lease_count"] == 0
    assert rework_statuses(db)[0] == ["done"] * 4
    assert "open" not in rework_statuses(db)[1]


def test_cancel_while_a_rework_task_is_leased(db: Database, tmp_path: Path) -> None:
    world = build(db, tmp_path, {"ann1": ANSWERS})
    before = by_external_id(db)
    world.requeue()
    held = world.rework_task("ann1")
    assert cancel_rework(db, "versions") == 4
    after = by_external_id(db)
    assert after == before  # statuses, counts, final labels, annotations
    with read_session(db.sessions) as session:
        assert session.scalars(select(Lease)).all() == []
    with pytest.raises(NotFound) as gone:
        world.submit("ann1", held, {"sentiment": "mixed"})
    assert gone.value.code == "E801"
    with pytest.raises(NotFound):
        skip_task(db, world.actors["ann1"], held.lease_id, "too late")
    assert world.task("ann1") is None
    assert rework_statuses(db) == (["cancelled"] * 4, ["dropped"] * 4)


ROUTED = [
    {"id": "m1", "text": "Dosage question.", "metadata": {"domain": "medical"}},
    {"id": "m2", "text": "Side effects.", "metadata": {"domain": "medical"}},
]
ROUTING = "  routing:\n    - {metadata: {domain: medical}, skills: [medical]}\n"


def test_routing_holds_for_rework(db: Database, tmp_path: Path) -> None:
    """An author whom routing no longer lets take the item is not served it: their
    part is dropped and the item goes back as it was."""
    world = build(db, tmp_path, {}, workflow=ROUTING, items=ROUTED)
    update_user(db, "ann1", skills=["medical"])
    for _ in ROUTED:
        task = world.task("ann1")
        assert task is not None
        world.submit("ann1", task, {"sentiment": "neutral"})
    before = by_external_id(db)
    world.requeue()
    update_user(db, "ann1", skills=[])
    assert world.task("ann1") is None
    assert world.task("ann1") is None
    assert by_external_id(db) == before
    assert rework_statuses(db) == (["done"] * 2, ["dropped"] * 2)


def test_members_not_working_keep_their_rows_until_they_can(db: Database, tmp_path: Path) -> None:
    """A paused annotator is refused as ever (the gates come first); the rework waits."""
    world = build(db, tmp_path, {"ann1": ANSWERS[:1]})
    world.requeue()
    with write_transaction(db.sessions) as session:
        session.execute(update(Membership).values(paused_at=Membership.created_at))
    with pytest.raises(Forbidden) as refused:
        world.task("ann1")
    assert refused.value.code == "E804"
    assert rework_statuses(db) == (["open"], ["open"])


def test_normal_tasks_cost_no_more_statements_while_a_rework_is_open(
    db: Database, tmp_path: Path
) -> None:
    """The rework check rides on the seat query: next task and submit of a normal
    item send as many statements with a rework open (for someone else) as without."""
    rows = [*ITEMS, *({"id": f"n{i}", "text": f"New {i}."} for i in range(4))]
    world = build(db, tmp_path, {"ann1": ANSWERS}, items=rows)
    with read_session(db.sessions) as session:
        project_id = session.scalars(select(Membership.project_id)).first()

    def cycle(user: str, measured: bool) -> list[list[str]]:
        db.recent_sweeps.put(project_id, True)  # the once-a-second sweep is not due
        with counted_statements(db) as next_sent:
            task = world.task(user)
        assert task is not None and task.rework is None
        with counted_statements(db) as submit_sent:
            world.submit(user, task, {"sentiment": "neutral"})
        return [next_sent, submit_sent] if measured else []

    cycle("ann2", False)  # warm: the schema cache
    without = cycle("ann2", True)
    world.requeue()  # ann1's and ann2's annotations go back to them
    cycle("ann3", False)  # warm: schema v2
    with_rework = cycle("ann3", True)
    assert [len(s) for s in with_rework] == [len(s) for s in without]
    if db.engine.dialect.name == "postgresql":  # the seat, then one claim
        assert len(with_rework[0]) == 2
    assert rework_statuses(db)[0] == ["open"] * 6  # ann1: 4 items, ann2: 2
