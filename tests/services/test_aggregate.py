"""Dawid-Skene re-aggregation of a project's machine-made final labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from annotary.core.aggregation import DawidSkene
from annotary.services.qa.aggregate import aggregate_project
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import Annotation, FinalLabel, Item
from tests.services.queue_world import build_world

LABELS = ["positive", "neutral", "negative"]


def test_dawid_skene_relabels_machine_labels_only(db: Database, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    world = build_world(db, tmp_path, rows=[{"text": f"t{i}"} for i in range(40)])
    truth = rng.integers(0, 3, size=40)
    # ann1 and ann2 are reliable, ann3 answers at random: write the annotations
    # and majority final labels directly (this is about the read-and-refit side).
    reliable = {"ann1": 0.9, "ann2": 0.85, "ann3": 0.0}
    with write_transaction(db.sessions) as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        for item, true in zip(items, truth, strict=True):
            for name, accuracy in reliable.items():
                label = int(true) if rng.random() < accuracy else int(rng.integers(0, 3))
                session.add(
                    Annotation(
                        item_id=item.id,
                        user_id=world.actors[name].user_id,
                        project_id=item.project_id,
                        payload={"sentiment": LABELS[label]},
                        schema_version=1,
                        guideline_version=1,
                    )
                )
            method = "adjudication" if item.id == items[0].id else "majority"
            session.add(
                FinalLabel(item_id=item.id, payload={"sentiment": "neutral"}, method=method)
            )
            item.status = "finalized"

    report = aggregate_project(db, "queue")

    with read_session(db.sessions) as session:
        finals = {f.item_id: f for f in session.scalars(select(FinalLabel))}
        rows = session.execute(
            select(
                Annotation.item_id, Annotation.user_id, Annotation.payload["sentiment"].as_string()
            )
        ).all()
    assert report.fields == ["sentiment"]
    assert report.items_relabelled == 39
    human = finals[items[0].id]
    assert (human.method, human.payload) == ("adjudication", {"sentiment": "neutral"})
    item_codes = {i: n for n, i in enumerate(sorted({r[0] for r in rows}))}
    user_codes = {u: n for n, u in enumerate(sorted({r[1] for r in rows}))}
    expected = DawidSkene().fit(
        [item_codes[r[0]] for r in rows],
        [user_codes[r[1]] for r in rows],
        [LABELS.index(r[2]) for r in rows],
        len(item_codes),
        len(user_codes),
        3,
    )
    for item_id, position in item_codes.items():
        if item_id == items[0].id:
            continue
        final = finals[item_id]
        assert final.method == "dawid_skene"
        assert final.payload["sentiment"] == LABELS[int(expected.labels_[position])]
        assert final.confidence is not None and 0 < final.confidence <= 1
        # The per-field record follows the new label: its share of the item's annotations.
        given = [label for item, _, label in rows if item == item_id]
        share = given.count(final.payload["sentiment"]) / len(given)
        assert final.fields == {
            "sentiment": {
                "method": "dawid_skene",
                "measure": "share",
                "agreement": pytest.approx(share),
                "confidence": pytest.approx(final.confidence),
                "threshold": 0.66,
            }
        }
        assert final.agreement == pytest.approx(share)
    hits = [
        finals[item.id].payload["sentiment"] == LABELS[int(true)]
        for item, true in zip(items[1:], truth[1:], strict=True)
    ]
    assert sum(hits) / len(hits) >= 0.85  # the random annotator is out-voted


def test_queue_labels_with_the_last_dawid_skene_fit(db: Database, tmp_path: Path) -> None:
    from annotary.services.queue.serving import next_task, submit_annotation
    from tests.services.queue_world import FixedDraw

    world = build_world(
        db,
        tmp_path,
        # The posterior overrules the majority here, so only 1 of 3 annotations
        # gave the chosen label: a low threshold lets the item finalize.
        workflow="  overlap: 3\n  aggregation: dawid_skene\n  agreement_threshold: 0.3",
        rows=[{"text": f"t{i}"} for i in range(201)],
    )
    rng = np.random.default_rng(5)
    # ann1, ann4 and rev are right 90% of the time; ann2 and ann3 only 40%.
    skill = {"ann1": 0.9, "ann4": 0.9, "rev": 0.9, "ann2": 0.4, "ann3": 0.4}
    with write_transaction(db.sessions) as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        for item in items[:200]:
            truth = LABELS[int(rng.integers(0, 3))]
            for name, accuracy in skill.items():
                wrong = [label for label in LABELS if label != truth]
                label = truth if rng.random() < accuracy else wrong[int(rng.integers(0, 2))]
                session.add(
                    Annotation(
                        item_id=item.id,
                        user_id=world.actors[name].user_id,
                        project_id=item.project_id,
                        payload={"sentiment": label},
                        schema_version=1,
                        guideline_version=1,
                    )
                )
            session.add(
                FinalLabel(item_id=item.id, payload={"sentiment": truth}, method="majority")
            )
            item.status = "finalized"
            item.annotation_count = len(skill)
    aggregate_project(db, "queue")

    for name, label in (("ann1", "negative"), ("ann2", "positive"), ("ann3", "positive")):
        task = next_task(db, world.actors[name], "queue", FixedDraw(0.99))
        assert task is not None and task.item_id == items[200].id
        submit_annotation(db, world.actors[name], task.lease_id, {"sentiment": label})

    with read_session(db.sessions) as session:
        final = session.scalars(select(FinalLabel).where(FinalLabel.item_id == items[200].id)).one()
    assert final.method == "dawid_skene"
    assert final.payload == {"sentiment": "negative"}  # the majority said positive
    assert final.agreement == pytest.approx(1 / 3)  # the share that gave the chosen label
    assert final.confidence is not None and final.confidence > 0.7
    assert final.fields["sentiment"]["method"] == "dawid_skene"
    assert final.fields["sentiment"]["confidence"] == pytest.approx(final.confidence)


def test_refit_keeps_the_other_fields_records_and_pinned_fields(
    db: Database, tmp_path: Path
) -> None:
    from tests.services.consensus_world import annotate, final_label, project

    fields = (
        "    - {name: sentiment, kind: label, labels: [positive, neutral, negative]}\n"
        "    - {name: urgency, kind: label, labels: [low, high]}\n"
        "    - {name: quality, kind: rating, min: 1, max: 5}\n"
    )
    workflow = "  aggregation: dawid_skene\n  consensus: {urgency: {method: majority}}\n"
    actors = project(db, tmp_path, fields, workflow)
    answers = [
        {"sentiment": "positive", "urgency": "low", "quality": 2},
        {"sentiment": "positive", "urgency": "low", "quality": 3},
        {"sentiment": "negative", "urgency": "high", "quality": 4},
    ]
    assert annotate(db, actors, answers) == "finalized"
    before = final_label(db)
    assert before.method == "majority"  # no fit yet: Dawid-Skene fields vote by majority
    assert before.fields["sentiment"]["method"] == "majority"

    report = aggregate_project(db, "p")

    assert report.fields == ["sentiment"]  # urgency is pinned to the majority vote
    after = final_label(db)
    assert after.method == "dawid_skene"
    assert after.fields["sentiment"]["method"] == "dawid_skene"
    assert after.fields["sentiment"]["agreement"] == pytest.approx(
        [a["sentiment"] for a in answers].count(after.payload["sentiment"]) / 3
    )
    assert after.fields["urgency"] == before.fields["urgency"]
    assert after.fields["quality"] == before.fields["quality"]
    assert after.payload["quality"] == 3
    assert after.confidence == pytest.approx(
        min(entry["confidence"] for entry in after.fields.values())
    )
    assert after.agreement == pytest.approx(
        min(entry["agreement"] for entry in after.fields.values())
    )
