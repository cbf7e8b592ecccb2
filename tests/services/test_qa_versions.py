"""The QA report after real project updates: each figure says which schema
versions it pools, and values of versions where a field changed are not
compared with the current ones."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.project_versions import update_project
from annotary.services.projects import create_project
from annotary.services.qa.report import qa_report
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Annotation, Item, Project
from tests.services.helpers import write_jsonl
from tests.services.qa_world import PROJECT, PROJECT_YAML

WITH_MIXED = PROJECT_YAML.replace(
    "labels: [positive, neutral, negative]", "labels: [positive, neutral, negative, mixed]"
)
STARS_AS_LABEL = WITH_MIXED.replace(
    "{name: stars, kind: rating, min: 1, max: 5}",
    "{name: stars, kind: label, labels: [low, high], required: false}",
)
CODERS = ("ann0", "ann1", "ann2", "ann3")


def store(db: Database, version: int, items: range, rng: random.Random) -> list[dict[str, Any]]:
    """Three of the coders label each item under schema `version` (sentiment
    mostly agreeing, stars anywhere on 1-5); the stored rows, as dicts."""
    labels = ["positive", "neutral", "negative"] + (["mixed"] if version > 1 else [])
    users = {
        name: add_user(db, NewUser(f"{name}v{version}", None, project=PROJECT)) for name in CODERS
    }
    rows = []
    with write_transaction(db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == PROJECT))
        item_ids = dict(
            session.execute(select(Item.external_id, Item.id).where(Item.project_id == project_id))
            .tuples()
            .all()
        )
        for i in items:
            truth = rng.choice(labels)
            for name in rng.sample(CODERS, 3):
                label = truth if rng.random() < 0.7 else rng.choice(labels)
                payload = {
                    "sentiment": label,
                    "topics": sorted(rng.sample(["billing", "delivery"], rng.randint(0, 2))),
                    "stars": rng.randint(1, 5),
                    "entities": [],
                }
                rows.append({"item": f"t{i}", "user": name, "payload": payload})
                session.add(
                    Annotation(
                        item_id=item_ids[f"t{i}"],
                        user_id=users[name],
                        project_id=project_id,
                        payload=payload,
                        schema_version=version,
                        guideline_version=1,
                    )
                )
    return rows


def alpha(rows: list[dict[str, Any]], field: str, level: str, codes: list[Any]) -> float:
    """Krippendorff's alpha from the reference package (coders x items)."""
    items = sorted({r["item"] for r in rows})
    coders = sorted({r["user"] for r in rows})
    data = np.full((len(coders), len(items)), np.nan)
    for r in rows:
        data[coders.index(r["user"]), items.index(r["item"])] = codes.index(r["payload"][field])
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def test_per_version_figures_after_updates(db: Database, tmp_path: Path) -> None:
    rng = random.Random(3)
    create_project(db, parse_project(PROJECT_YAML, "project.yaml"))
    items = [{"id": f"t{i}", "text": f"Review {i}."} for i in range(40)]
    import_items(db, PROJECT, write_jsonl(tmp_path / "items.jsonl", items), ImportOptions())
    first = store(db, 1, range(0, 20), rng)
    update_project(db, parse_project(WITH_MIXED, "project.yaml"))
    second = store(db, 2, range(20, 40), rng)
    # stars becomes a label field: every stored stars value stops validating.
    update_project(db, parse_project(STARS_AS_LABEL, "project.yaml"), confirm=True)

    report = qa_report(db, PROJECT)
    fields = {f.name: f for f in report.fields}
    labels = ["positive", "neutral", "negative", "mixed"]

    sentiment = fields["sentiment"]
    assert sentiment.schema_versions == [2]  # v1 had no `mixed`: kept apart
    v2_alpha = alpha(second, "sentiment", "nominal", labels)
    assert sentiment.estimate.value == pytest.approx(v2_alpha, abs=1e-12)
    assert sentiment.n_values == len(second)
    slices = {s.key: s for s in sentiment.by_schema_version}
    assert list(slices) == ["schema v1", "schema v2"]
    assert slices["schema v1"].value == pytest.approx(
        alpha(first, "sentiment", "nominal", labels), abs=1e-12
    )
    assert slices["schema v1"].n_values == len(first)
    assert "not pooled: sentiment: labels added: mixed (in v2 and later)" in (
        slices["schema v1"].note or ""
    )
    assert slices["schema v2"].value == pytest.approx(v2_alpha, abs=1e-12)
    assert "values of schema v1 are not pooled" in (sentiment.note or "")
    # The guideline and time slices hold the pooled values only.
    assert sum(s.n_values for s in sentiment.by_guideline_version) == len(second)

    stars = fields["stars"]  # rating in v1 and v2, a label now: nothing comparable
    assert stars.schema_versions == [] and stars.n_values == 0
    assert [(s.key, s.value) for s in stars.by_schema_version] == [
        ("schema v1", None),
        ("schema v2", None),
    ]
    assert [s.note for s in stars.by_schema_version] == [
        "not compared: stars: kind rating -> label (in v3 and later)"
    ] * 2

    topics = fields["topics"]  # unchanged: both versions pooled, as before
    assert topics.schema_versions == [1, 2]
    assert topics.n_values == len(first) + len(second)
    assert all(s.note is None or "not pooled" not in s.note for s in topics.by_schema_version)
