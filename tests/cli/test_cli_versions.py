"""`annotary project update` and `annotary project diff`, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import run

PROJECT = "classification-demo"


def _project(tmp_path: Path, db_url: str) -> Path:
    """The classification template, stored and imported (gold answers use 'neutral')."""
    assert run("init", str(tmp_path / "p"), "-t", "classification").returncode == 0
    path = tmp_path / "p" / "project.yaml"
    assert run("project", "create", str(path), "--db", db_url).returncode == 0
    sample = str(tmp_path / "p" / "sample.jsonl")
    assert run("import", PROJECT, sample, "--db", db_url).returncode == 0
    return path


def _without_neutral(path: Path) -> Path:
    text = path.read_text().replace("        - name: neutral\n", "        - name: mixed\n")
    changed = path.with_name("changed.yaml")
    changed.write_text(text)
    return changed


def test_update_lists_invalidated_values_and_needs_yes(tmp_path: Path, db_url: str) -> None:
    path = _project(tmp_path, db_url)
    changed = _without_neutral(path)

    refused = run("project", "update", str(changed), "--db", db_url)
    assert refused.returncode == 1
    assert "! sentiment: labels removed: neutral (renamed to 'mixed'?)" in refused.stdout
    assert "gold answers: 3 of 8 (sentiment: 3)" in refused.stdout
    assert "label 'neutral' is not in the label set" in refused.stdout
    assert "E422" in refused.stderr and "Traceback" not in refused.stderr

    declined = run("project", "update", str(changed), "--db", db_url, stdin="n\n")
    assert declined.returncode == 1  # stdin is not a terminal: refused, not asked

    applied = run("project", "update", str(changed), "--db", db_url, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert f"updated project '{PROJECT}' to revision 2 (schema v2, guidelines v1)" in applied.stdout

    again = run("project", "update", str(changed), "--db", db_url)
    assert again.returncode == 0 and "no differences" in again.stdout

    diff = run("project", "diff", PROJECT, "--db", db_url)
    assert diff.returncode == 0
    assert "revision 1 (schema v1, guidelines v1) -> revision 2 (schema v2, guidelines v1)" in (
        diff.stdout
    )
    assert "sentiment: labels added: mixed" in diff.stdout


def test_diff_with_a_file_and_as_json(tmp_path: Path, db_url: str) -> None:
    path = _project(tmp_path, db_url)
    guidelines = tmp_path / "p" / "guidelines.md"
    guidelines.write_text(guidelines.read_text() + "A new rule.\n")
    planned = run("project", "diff", PROJECT, "--file", str(path), "--db", db_url, "--json")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["new_guideline_version"] == 2 and plan["new_schema_version"] is None
    assert "+A new rule." in plan["diff"]["guidelines"]
    dry = run("project", "update", str(path), "--dry-run", "--db", db_url)
    assert dry.returncode == 0 and "+A new rule." in dry.stdout
    unchanged = run("project", "diff", PROJECT, "--db", db_url, "--json")
    assert json.loads(unchanged.stdout)["guidelines"] == []  # the dry run stored nothing
    missing = run("project", "diff", PROJECT, "--from", "1", "--to", "2", "--db", db_url)
    assert missing.returncode == 1 and "E423" in missing.stderr


def test_rework_from_the_cli(tmp_path: Path, db_url: str) -> None:
    _project(tmp_path, db_url)
    preview = run("project", "rework", PROJECT, "--field", "sentiment", "--dry-run", "--db", db_url)
    assert preview.returncode == 0, preview.stderr
    assert "0 item(s), 0 annotation(s) to redo" in preview.stdout
    assert "dry run: nothing changed" in preview.stdout
    unknown = run("project", "rework", PROJECT, "--field", "mood", "--db", db_url)
    assert unknown.returncode == 1 and "E425" in unknown.stderr and "sentiment" in unknown.stderr
    cancelled = run("project", "rework", PROJECT, "--cancel", "--db", db_url, "--json")
    assert json.loads(cancelled.stdout) == {"project": PROJECT, "cancelled_items": 0}
