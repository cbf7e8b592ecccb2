"""An annotator's own statistics: gold accuracy, agreement with final labels,
throughput; only their own, and nothing that tells which item was gold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from annotary.errors import Forbidden, NotFound
from annotary.services.identity.access import Actor
from annotary.services.identity.members import accept_terms
from annotary.services.identity.stats import own_stats
from annotary.services.identity.users import NewUser, add_user
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database
from tests.services.queue_world import FixedDraw, World, build_world

GOLD, NO_GOLD = FixedDraw(0.1), FixedDraw(0.99)
ROWS = [{"text": f"item {i}"} for i in range(3)] + [
    {"text": "gold a", "gold": {"sentiment": "positive"}},
    {"text": "gold b", "gold": {"sentiment": "negative"}},
]


def _answer(world: World, name: str, draw: FixedDraw, answer: str, ms: int = 30_000) -> str:
    actor = world.actors[name]
    task = next_task(world.db, actor, "queue", draw)
    assert task is not None
    submit_annotation(world.db, actor, task.lease_id, {"sentiment": answer}, time_spent_ms=ms)
    return str(task.content["text"])


def test_own_statistics(db: Database, tmp_path: Path) -> None:
    world = build_world(
        db,
        tmp_path,
        workflow="  overlap: 3\n  gold_rate: 0.5\n  agreement_threshold: 0.6",
        rows=ROWS,
    )
    for name in ("ann1", "ann2", "ann3"):
        accept_terms(db, world.actors[name], "queue")
    ann1 = world.actors["ann1"]
    now = datetime.now(UTC)
    before = own_stats(db, ann1, "queue", now)
    assert (before.gold.answered, before.throughput.annotations) == (0, 0)

    golds = {_answer(world, "ann1", GOLD, "positive") for _ in range(2)}
    assert golds == {"gold a", "gold b"}  # one right, one wrong
    # Today's gold answers are not counted yet: no submit tells which task was gold.
    today = own_stats(db, ann1, "queue", now)
    assert today.gold == before.gold
    assert today.throughput.annotations == 2

    for answer in ("positive", "positive", "negative"):
        _answer(world, "ann1", NO_GOLD, answer, ms=60_000)
    for name in ("ann2", "ann3"):
        for _ in range(3):
            _answer(world, name, NO_GOLD, "positive")

    stats = own_stats(db, ann1, "queue", now + timedelta(days=1))

    gold = stats.gold
    assert (gold.answered, gold.correct, gold.accuracy) == (2, 1, 0.5)
    assert gold.ci_low == pytest.approx(0.0945, abs=1e-4)
    assert gold.ci_high == pytest.approx(0.9055, abs=1e-4)
    assert stats.gold_counted_until == (now + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert stats.items_with_final_label == 3
    assert [(f.field, f.compared, f.matching) for f in stats.agreement] == [("sentiment", 3, 2)]
    work = stats.throughput
    assert (work.annotations, work.active_days, work.per_active_day) == (5, 1, 5.0)
    assert work.median_seconds == 60.0
    # One session: from the first task's start (30 s before its submit) to the last submit.
    assert work.active_hours * 3600 == pytest.approx(
        30 + (work.last_at - work.first_at).total_seconds()  # type: ignore[operator]
    )
    assert stats.to_dict()["agreement"]["fields"][0]["share"] == pytest.approx(2 / 3)

    theirs = own_stats(db, world.actors["ann2"], "queue", now + timedelta(days=1))
    assert (theirs.username, theirs.gold.answered, theirs.throughput.annotations) == ("ann2", 0, 3)
    assert [(f.compared, f.matching) for f in theirs.agreement] == [(3, 3)]


def test_only_members_have_statistics(db: Database, tmp_path: Path) -> None:
    build_world(db, tmp_path)
    stranger = Actor(add_user(db, NewUser("stranger", None)), "stranger")
    admin = Actor(add_user(db, NewUser("root", None, is_admin=True)), "root", True)
    with pytest.raises(NotFound):
        own_stats(db, stranger, "queue")
    with pytest.raises(Forbidden) as not_member:
        own_stats(db, admin, "queue")
    assert not_member.value.code == "E703"
