"""GET /api/v1/projects/{name}/qa: the QA report as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select

from annotary.services.qa.report import qa_report
from annotary.storage.db import write_transaction
from annotary.storage.models import Annotation, Item, Project
from tests.web.world import World

LABELS = {  # item -> labels of annotator, reviewer, expert
    "t1": ["positive", "positive", "positive"],
    "t2": ["negative", "negative", "positive"],
    "t3": ["positive", "negative", None],
    "t4": ["negative", "negative", "negative"],
    "g1": ["positive", "negative", "positive"],
}
WORKERS = ["annotator", "reviewer", "expert"]


@pytest.fixture
def annotated(world: World) -> World:
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    with write_transaction(world.db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == world.project))
        items = dict(
            session.execute(select(Item.external_id, Item.id).where(Item.project_id == project_id))
            .tuples()
            .all()
        )
        for day, (item, labels) in enumerate(LABELS.items()):
            for role, label in zip(WORKERS, labels, strict=True):
                if label is not None:
                    session.add(
                        Annotation(
                            item_id=items[item],
                            user_id=world.actors[role].user_id,
                            project_id=project_id,
                            payload={"sentiment": label},
                            schema_version=1,
                            guideline_version=1,
                            created_at=start + timedelta(days=2 * day),
                        )
                    )
    return world


def test_report_as_json(annotated: World) -> None:
    world = annotated
    response = world.client.get(
        f"/api/v1/projects/{world.project}/qa",
        params={"window_days": 3},
        headers=world.headers("reviewer"),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    expected = qa_report(world.db, world.project, window_days=3).to_dict()
    del data["generated_at"], expected["generated_at"]
    assert data == expected
    (sentiment,) = data["fields"]
    codes = {"positive": 0, "negative": 1, None: np.nan}
    reliability = np.array([[codes[row[w]] for row in LABELS.values()] for w in range(3)])
    reference = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert sentiment["estimate"]["value"] == pytest.approx(reference, abs=1e-12)
    # Items annotated every 2 days from March 1: windows of 3 days hold 2, 1, 2 of them.
    assert [w["n_units"] for w in sentiment["by_window"]] == [2, 1, 2]
    gold = {(row["annotator"], row["correct"]) for row in data["gold"]["accuracy"]}
    assert gold == {("annotator", 1), ("reviewer", 0), ("expert", 1)}


def test_bad_window_and_annotators_are_refused(annotated: World) -> None:
    world = annotated
    path = f"/api/v1/projects/{world.project}/qa"
    bad = world.client.get(path, params={"window_days": 0}, headers=world.headers("manager"))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "E709"
    refused = world.client.get(path, headers=world.headers("annotator"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "E702"
