"""`annotary qa report` end to end through the console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotary.services.qa.report import qa_report
from annotary.storage.db import Database
from tests.cli.runner import run
from tests.services.qa_world import PROJECT, build, sentiment_world

SECTIONS = [
    "QA report: qa",
    "Agreement",
    "Per label: sentiment",
    "Annotator pairs: sentiment",
    "Versions and time: sentiment",
    "Gold accuracy",
    "Hardest gold items",
    "Aggregation",
    "Monitoring findings",
    "Annotator pool",
    "Label distributions by group",
    "Notes",
]


@pytest.fixture
def project(db: Database, db_url: str, tmp_path: Path) -> str:
    world = sentiment_world(seed=31, spammer=True)
    world.users = {name: {"region": "eu"} for name in world.users}
    build(db, tmp_path, world)
    return db_url


def test_json_is_the_service_report(db: Database, project: str) -> None:
    result = run("qa", "report", PROJECT, "--db", project, "--json", "--window-days", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    expected = qa_report(db, PROJECT, window_days=3).to_dict()
    del data["generated_at"], expected["generated_at"]
    assert data == expected
    assert data["window_days"] == 3
    assert len(data["fields"][0]["by_window"]) == 7  # three weeks in windows of 3 days


def test_terminal_tables(db: Database, project: str) -> None:
    result = run("qa", "report", PROJECT, "--db", project)
    assert result.returncode == 0, result.stderr
    for title in SECTIONS:
        assert title in result.stdout
    alpha = qa_report(db, PROJECT).fields[0].estimate
    assert alpha.value is not None and alpha.ci_low is not None and alpha.ci_high is not None
    assert f"{alpha.value:.3f}" in result.stdout
    assert f"[{alpha.ci_low:.3f}, {alpha.ci_high:.3f}]" in result.stdout
    assert "low_consensus_agreement" in result.stdout


def test_html_file_is_self_contained(db: Database, project: str, tmp_path: Path) -> None:
    target = tmp_path / "qa.html"
    result = run("qa", "report", PROJECT, "--db", project, "--html", str(target))
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for title in SECTIONS:
        assert f">{title}</h" in page
    assert "<style>" in page
    for external in ("<script", "<link", "src=", "http://", "https://"):
        assert external not in page
    report = qa_report(db, PROJECT)
    assert f"<td>{report.fields[0].estimate.value:.3f}</td>" in page
    assert "<td>spam</td>" in page  # the spammer's findings are listed


def test_json_and_html_together_and_unknown_projects_fail(project: str, tmp_path: Path):
    both = run("qa", "report", PROJECT, "--db", project, "--json", "--html", str(tmp_path / "x"))
    assert both.returncode == 2
    assert "--json or --html" in both.stderr
    assert not (tmp_path / "x").exists()
    missing = run("qa", "report", "nope", "--db", project)
    assert missing.returncode == 1
    assert "E401" in missing.stderr and "Traceback" not in missing.stderr


def test_aggregate_rewrites_machine_labels(db: Database, project: str) -> None:
    from sqlalchemy import select

    from annotary.storage.db import read_session, write_transaction
    from annotary.storage.models import Annotation, FinalLabel, Item

    with write_transaction(db.sessions) as session:
        annotated = session.scalars(
            select(Item.id).where(Item.is_gold.is_(False)).join(Annotation).distinct()
        ).all()
        for item_id in annotated:
            session.add(FinalLabel(item_id=item_id, payload={}, method="majority"))

    result = run("qa", "aggregate", PROJECT, "--db", project, "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["fields"] == ["sentiment"]
    assert summary["items_relabelled"] == len(annotated) > 0
    with read_session(db.sessions) as session:
        methods = set(session.scalars(select(FinalLabel.method)).all())
        payloads = session.scalars(select(FinalLabel.payload)).all()
    assert methods == {"dawid_skene"}
    assert all("sentiment" in payload for payload in payloads)
