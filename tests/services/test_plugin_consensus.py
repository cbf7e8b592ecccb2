"""A third-party consensus method through the real queue: a project file names it,
three annotators submit, and the queue finalizes (or refuses, naming the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotary.core.plugins.manager import load_plugins
from annotary.errors import Unavailable
from annotary.services.queue.review import next_case
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, Item
from tests.core.plugins.sample import (
    MAX_RATING,
    MAX_RATING_PACKAGE,
    Failing,
    MaxRating,
    WeightSpy,
    install,
)
from tests.services.consensus_world import NO_GOLD, annotate, final_label, project

QUALITY = "    - {name: quality, kind: rating, min: 1, max: 5}\n"


def consensus(method: str, threshold: float = 0.3) -> str:
    return f"  consensus:\n    quality: {{method: {method}, threshold: {threshold}}}\n"


@pytest.fixture
def plugin_db(db_url: str) -> Iterator[Database]:
    """A Database whose plugins are the built-ins and `MaxRating`, registered here."""
    database = Database.from_url(db_url, plugins=load_plugins(MaxRating(), entry_points=False))
    yield database
    database.dispose()


def test_a_registered_plugin_method_finalizes_through_the_queue(
    plugin_db: Database, tmp_path: Path
) -> None:
    actors = project(plugin_db, tmp_path, QUALITY, consensus(MAX_RATING))
    status = annotate(plugin_db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 5}])
    assert status == "finalized"
    final = final_label(plugin_db)
    assert final.payload == {"quality": 5}  # the median would be 4
    assert final.fields["quality"] == {
        "method": MAX_RATING,
        "measure": "share_at_max",
        "agreement": pytest.approx(1 / 3),
        "confidence": pytest.approx(1 / 3),
        "threshold": 0.3,
    }


def test_a_reviewer_sees_the_plugin_methods_suggestion(plugin_db: Database, tmp_path: Path) -> None:
    actors = project(plugin_db, tmp_path, QUALITY, consensus(MAX_RATING, threshold=0.9))
    status = annotate(plugin_db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 5}])
    assert status == "adjudication"
    case = next_case(plugin_db, actors["rev"], "p", "adjudication")
    assert case is not None
    assert case.suggestion is not None
    assert case.suggestion["payload"] == {"quality": 5}
    assert case.suggestion["fields"]["quality"]["method"] == MAX_RATING


def test_an_installed_plugin_method_finalizes_through_the_queue(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site, "acme_queue", MAX_RATING_PACKAGE)
    monkeypatch.syspath_prepend(str(site))
    db = Database.from_url(db_url, plugins=load_plugins())
    try:
        assert db.plugins.aggregators.plugin_of(MAX_RATING) == "acme_queue"
        actors = project(db, tmp_path, QUALITY, consensus(MAX_RATING))
        assert annotate(db, actors, [{"quality": 2}, {"quality": 5}, {"quality": 1}]) == "finalized"
        assert final_label(db).payload == {"quality": 5}
    finally:
        db.dispose()


@pytest.mark.parametrize("uses_weights", [True, False])
def test_gold_weights_are_gathered_for_the_methods_that_use_them(
    db_url: str, tmp_path: Path, uses_weights: bool
) -> None:
    spy = WeightSpy(uses_weights)
    db = Database.from_url(db_url, plugins=load_plugins(spy, entry_points=False))
    try:
        actors = project(db, tmp_path, QUALITY, consensus("acme.weighed.v1"))
        annotate(db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 5}])
    finally:
        db.dispose()
    assert len(spy.seen) == 1
    if uses_weights:
        assert spy.seen[0] == (0.0, 0.0, 0.0)  # no gold answered yet: every weight is 0
    else:
        assert spy.seen[0] is None


def test_a_failing_plugin_method_is_an_error_naming_it_and_leaves_no_trace(
    db_url: str, tmp_path: Path
) -> None:
    db = Database.from_url(db_url, plugins=load_plugins(Failing(), entry_points=False))
    try:
        actors = project(db, tmp_path, QUALITY, consensus("acme.failing.v1"))
        with pytest.raises(Unavailable) as raised:
            annotate(db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 5}])
        assert raised.value.code == "E906"
        assert "of plugin 'tests.core.plugins.sample.Failing' failed on field 'quality'" in (
            raised.value.message
        )
        with read_session(db.sessions) as session:
            assert session.scalars(select(Item.status)).one() == "queued"
            assert session.scalar(select(func.count()).select_from(Annotation)) == 2
    finally:
        db.dispose()


def test_a_project_whose_plugin_was_uninstalled_refuses_to_finalize(
    plugin_db: Database, db_url: str, tmp_path: Path
) -> None:
    actors = project(plugin_db, tmp_path, QUALITY, consensus(MAX_RATING))
    without = Database.from_url(db_url, plugins=load_plugins(entry_points=False))
    try:
        for name, rating in (("ann1", 3), ("ann2", 4)):
            task = next_task(without, actors[name], "p", NO_GOLD)
            assert task is not None
            submit_annotation(without, actors[name], task.lease_id, {"quality": rating})
        task = next_task(without, actors["ann3"], "p", NO_GOLD)
        assert task is not None
        with pytest.raises(Unavailable) as raised:
            submit_annotation(without, actors["ann3"], task.lease_id, {"quality": 5})
        assert raised.value.code == "E905"
        assert "'acme.max_rating.v1', which no installed plugin registers" in raised.value.message
    finally:
        without.dispose()
