"""Removing members, self-reported attributes and the pool summary (SPEC 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from annotary.errors import Forbidden, Invalid, NotFound
from annotary.services.identity.attributes import (
    clear_own_attributes,
    own_attributes,
    pool_summary,
    set_own_attributes,
)
from annotary.services.identity.members import accept_terms, list_members, remove_member
from annotary.services.qa.report import qa_report
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session
from annotary.storage.models import AuditEvent, FinalLabel, Item, Lease
from tests.services.queue_world import FixedDraw, World, build_world

NO_GOLD = FixedDraw(0.99)


def _work(world: World, name: str, answer: str) -> int:
    actor = world.actors[name]
    accept_terms(world.db, actor, world.project)
    task = next_task(world.db, actor, world.project, NO_GOLD)
    assert task is not None
    submit_annotation(world.db, actor, task.lease_id, {"sentiment": answer})
    return task.item_id


def test_removed_member_frees_leases_and_their_annotations_still_count(
    db: Database, tmp_path: Path
) -> None:
    world = build_world(db, tmp_path, workflow="  overlap: 2")
    first = _work(world, "ann1", "negative")
    held = next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert held is not None

    removal = remove_member(db, "queue", "ann1", world.actors["boss"])

    assert (removal.role, removal.leases_released) == ("annotator", 1)
    assert "ann1" not in [m.username for m in list_members(db, world.actors["boss"], "queue")]
    with read_session(db.sessions) as session:
        assert session.scalars(select(Lease)).all() == []
        item = session.get(Item, held.item_id)
        assert item is not None and item.lease_count == 0
    with pytest.raises(NotFound) as gone:  # the project is invisible to them now
        next_task(db, world.actors["ann1"], "queue", NO_GOLD)
    assert gone.value.code == "E401"
    # ann2 completes the item ann1 annotated: both annotations make the consensus.
    assert _work(world, "ann2", "negative") == first
    with read_session(db.sessions) as session:
        final = session.scalar(select(FinalLabel).where(FinalLabel.item_id == first))
        actions = session.scalars(select(AuditEvent.action)).all()
    assert final is not None and final.payload == {"sentiment": "negative"}
    assert final.agreement == 1.0
    assert actions.count("member.remove") == 1
    report = qa_report(db, "queue")
    assert (report.annotations, report.annotators) == (2, 2)


def test_who_may_remove_members(db: Database, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    with pytest.raises(Forbidden):
        remove_member(db, "queue", "ann2", world.actors["ann1"])
    with pytest.raises(NotFound) as missing:
        remove_member(db, "queue", "nobody", world.actors["boss"])
    assert missing.value.code == "E405"
    remove_member(db, "queue", "ann2")  # the local command line
    with pytest.raises(NotFound):
        remove_member(db, "queue", "ann2")


def test_own_attributes_set_seen_cleared_and_audited_without_values(
    db: Database, tmp_path: Path
) -> None:
    world = build_world(db, tmp_path)
    ann1 = world.actors["ann1"]
    assert own_attributes(db, ann1) == {}
    stored = set_own_attributes(db, ann1, {"gender": " woman ", "age_band": "30-39"})
    assert stored == {"age_band": "30-39", "gender": "woman"}
    assert own_attributes(db, ann1) == stored
    assert own_attributes(db, world.actors["ann2"]) == {}
    with pytest.raises(Invalid) as bad:
        set_own_attributes(db, ann1, {"shoe_size": "42", "gender": "x" * 65, "region": ""})
    assert bad.value.code == "E408"
    assert {d.path for d in bad.value.details} == {
        "attributes.shoe_size",
        "attributes.gender",
        "attributes.region",
    }
    assert own_attributes(db, ann1) == stored  # nothing changed
    clear_own_attributes(db, ann1)
    assert own_attributes(db, ann1) == {}
    with read_session(db.sessions) as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.details).where(
                AuditEvent.action.startswith("user.attributes")
            )
        ).all()
    assert [(a, d) for a, d in events] == [
        ("user.attributes_set", {"keys": ["age_band", "gender"]}),
        ("user.attributes_clear", {"keys": []}),
    ]
    assert "woman" not in str(events)


def test_pool_summary_withholds_small_groups(db: Database, tmp_path: Path) -> None:
    members = {f"w{i}": "annotator" for i in range(6)}
    members |= {f"m{i}": "annotator" for i in range(3)}
    members |= {"nb0": "reviewer", "nb1": "expert", "quiet": "annotator", "boss": "manager"}
    world = build_world(db, tmp_path, members=members)
    for name, gender in [(f"w{i}", "woman") for i in range(6)] + [
        ("m0", "man"),
        ("m1", "man"),
        ("m2", "man"),
        ("nb0", "non-binary"),
        ("nb1", "non-binary"),
        ("boss", "man"),  # managers are not in the pool
    ]:
        set_own_attributes(db, world.actors[name], {"gender": gender, "country": "FR"})

    pool = pool_summary(db, "queue", world.actors["boss"])

    assert (pool.members, pool.k_anonymity) == (12, 5)
    rows = {row.attribute: row for row in pool.attributes}
    gender = rows["gender"]
    assert gender.counts == {"woman": 6}
    assert (gender.suppressed_values, gender.undisclosed) == (2, 1)
    assert rows["country"].counts == {"FR": 11}
    assert rows["age_band"].counts == {} and rows["age_band"].undisclosed == 12
    with pytest.raises(Forbidden):
        pool_summary(db, "queue", world.actors["w0"])
    assert pool_summary(db, "queue", k=2).attributes[0].counts == {}  # local CLI picks k
    local = {r.attribute: r for r in pool_summary(db, "queue", k=2).attributes}
    assert local["gender"].counts == {"man": 3, "non-binary": 2, "woman": 6}
