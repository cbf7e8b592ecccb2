"""End to end through the console script, on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from tests.cli.runner import run


def make_project(tmp_path: Path, db_url: str) -> Path:
    assert run("init", str(tmp_path / "p"), "-t", "classification").returncode == 0
    created = run("project", "create", str(tmp_path / "p" / "project.yaml"), "--db", db_url)
    assert created.returncode == 0, created.stderr
    return tmp_path / "p" / "sample.jsonl"


def status(db_url: str) -> dict[str, object]:
    result = run("status", "classification-demo", "--db", db_url, "--json")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_import_sample_twice_is_idempotent(tmp_path: Path, db_url: str) -> None:
    sample = make_project(tmp_path, db_url)
    first = run("import", "classification-demo", str(sample), "--db", db_url, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["items_added"] > 0 and report["rejected"] == 0
    assert report["gold_added"] >= 5
    total = status(db_url)["total_items"]
    assert total == report["items_added"]

    second = run("import", "classification-demo", str(sample), "--db", db_url)
    assert second.returncode == 0, second.stderr
    assert "0 items added" in second.stdout
    assert status(db_url)["total_items"] == total


def test_bad_rows_abort_with_line_numbers_and_change_nothing(tmp_path: Path, db_url: str):
    make_project(tmp_path, db_url)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "fine"}\n{"text": 5}\n\n{"txt": "typo"}\n{"text": "also fine"}\n')
    result = run("import", "classification-demo", str(bad), "--db", db_url)
    assert result.returncode == 1
    assert "E301" in result.stderr and "nothing was imported" in result.stderr
    assert "bad.jsonl:2 " in result.stderr and "bad.jsonl:4 " in result.stderr
    assert "Traceback" not in result.stderr
    assert status(db_url)["total_items"] == 0

    skipped = run("import", "classification-demo", str(bad), "--db", db_url, "--on-error", "skip")
    assert skipped.returncode == 0, skipped.stderr
    assert "2 items added" in skipped.stdout
    rejects = (tmp_path / "bad.jsonl.rejects.jsonl").read_bytes().splitlines()
    assert [orjson.loads(r)["line"] for r in rejects] == [2, 4]


def test_status_table_and_users_add(tmp_path: Path, db_url: str) -> None:
    sample = make_project(tmp_path, db_url)
    assert run("import", "classification-demo", str(sample), "--db", db_url).returncode == 0
    table = run("status", "classification-demo", "--db", db_url)
    assert table.returncode == 0
    assert "queued" in table.stdout and "gold" in table.stdout and "text" in table.stdout

    added = run(
        "users",
        "add",
        "ann1",
        "--project",
        "classification-demo",
        "--role",
        "annotator",
        "--db",
        db_url,
        env={"ANNOTARY_NEW_PASSWORD": "long-password"},
    )
    assert added.returncode == 0, added.stderr
    again = run("users", "add", "ann1", "--db", db_url, env={"ANNOTARY_NEW_PASSWORD": "x" * 9})
    assert again.returncode == 1 and "E403" in again.stderr


def test_db_upgrade_and_unknown_project(tmp_path: Path, db_url: str) -> None:
    upgraded = run("db", "upgrade", "--db", db_url)
    assert upgraded.returncode == 0 and "already at revision" in upgraded.stdout
    fresh = run("db", "upgrade", "--db", str(tmp_path / "fresh.db"))
    assert fresh.returncode == 0 and "upgraded from empty" in fresh.stdout
    missing = run("status", "nope", "--db", db_url)
    assert missing.returncode == 1 and "E401" in missing.stderr


def test_unreachable_database_is_reported_without_traceback() -> None:
    result = run("status", "x", "--db", "postgresql://postgres@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "E501" in result.stderr and "Traceback" not in result.stderr
