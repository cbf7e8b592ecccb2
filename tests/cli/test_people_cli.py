"""People through the console script: local commands on the test database, and
their `remote` twins against a real server process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotary.client import AnnotaryClient
from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import load_project_file
from annotary.errors import Unauthenticated
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.members import accept_terms
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.scaffold import init_project
from annotary.storage.db import Database
from annotary.testing import ServerProcess, live_server
from tests.cli.runner import run

PROJECT = "classification-demo"
EXPERT = {
    "content": {"text": "Where is my parcel?"},
    "answer": {"sentiment": "neutral", "intent": ["question"]},
    "reason": "A plain question, no feeling shown.",
}


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = run(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _setup(db_url: str, tmp_path: Path, people: dict[str, str | None]) -> dict[str, str]:
    """The classification project with its sample and `people` (name: role; None for
    an admin), made in-process: each console run costs a second. Their tokens."""
    init_project(tmp_path / "p", "classification", False)
    db = Database.from_url(db_url)
    tokens = {}
    try:
        create_project(db, load_project_file(tmp_path / "p" / "project.yaml"))
        import_items(db, PROJECT, tmp_path / "p" / "sample.jsonl", ImportOptions())
        for name, role in people.items():
            admin = role is None
            user = NewUser(
                name,
                "first-password",
                admin,
                project=None if admin else PROJECT,
                role=role or "annotator",
            )
            actor = Actor(add_user(db, user), name, admin)
            tokens[name] = create_token(db, actor, "tests")[0]
            if role == "annotator":
                accept_terms(db, actor, PROJECT)
    finally:
        db.dispose()
    return tokens


def test_local_people_commands(tmp_path: Path, db_url: str) -> None:
    _setup(db_url, tmp_path, {"root": None, "ann1": "annotator", "ann2": "annotator"})

    updated = _ok("users", "update", "ann1", "--skill", "legal", "--language", "en", "--db", db_url)
    assert "ann1: skills legal; languages en" in updated
    reset = _ok(
        "users", "password", "ann1", "--db", db_url, env={"ANNOTARY_NEW_PASSWORD": "2nd-password"}
    )
    assert "new password for 'ann1'" in reset
    assert "deactivated 'ann2'" in _ok("users", "deactivate", "ann2", "--db", db_url)
    last = run("users", "deactivate", "root", "--db", db_url)
    assert last.returncode == 1 and "E406" in last.stderr and "Traceback" not in last.stderr
    assert "reactivated 'ann2'" in _ok("users", "reactivate", "ann2", "--db", db_url)
    pool = json.loads(_ok("members", "pool", PROJECT, "--db", db_url, "--json"))
    assert pool["members"] == 2 and pool["k_anonymity"] == 5

    calibration = tmp_path / "calibration.jsonl"
    calibration.write_text(json.dumps(EXPERT) + "\n")
    made = _ok(
        "calibration", "create", PROJECT, "week-1", "--gold", "cls-001", "--file",
        str(calibration), "--shuffle", "--db", db_url,
    )  # fmt: skip
    assert "2 item(s), 2 participant(s), each in their own order" in made
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"content": {"text": "x"}}\n')
    refused = run("calibration", "create", PROJECT, "week-2", "--file", str(bad), "--db", db_url)
    assert refused.returncode == 1 and "E821" in refused.stderr and "bad.jsonl:1" in refused.stderr
    rounds = json.loads(_ok("calibration", "list", PROJECT, "--db", db_url, "--json"))
    assert [(r["name"], r["items"], r["answers"]) for r in rounds] == [("week-1", 2, 0)]
    results = _ok("calibration", "results", PROJECT, "week-1", "--db", db_url)
    assert "per participant" in results and "ann1" in results and "ann2" in results

    removed = _ok("members", "remove", PROJECT, "ann2", "--db", db_url)
    assert "removed 'ann2' (annotator)" in removed


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """A server with the classification project, an admin, a manager and an annotator."""
    tokens = _setup(db_url, tmp_path, {"root": None, "boss": "manager", "ann1": "annotator"})
    with live_server(db_url, cwd=tmp_path) as running:
        yield running, tokens


def test_remote_people_commands(
    served: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    running, tokens = served

    def remote(who: str, *args: str, env: dict[str, str] | None = None) -> str:
        return _ok("remote", "--server", running.url, "--token", tokens[who], *args, env=env)

    assert "skills legal" in remote("root", "users-update", "ann1", "--skill", "legal")
    shown = remote("ann1", "attributes", "--set", "gender=woman", "--set", "age_band=30-39")
    assert "gender: woman" in shown and "country: (not given)" in shown
    pool = json.loads(remote("boss", "pool", PROJECT, "--json"))
    assert pool["members"] == 1 and pool["attributes"][1]["counts"] == {}  # 1 < k
    assert "gender: (not given)" in remote("ann1", "attributes", "--clear")

    calibration = tmp_path / "calibration.jsonl"
    calibration.write_text(json.dumps(EXPERT) + "\n")
    made = remote("boss", "calibration-create", PROJECT, "r1", "--file", str(calibration))
    assert "1 item(s), 1 participant(s)" in made
    task = json.loads(remote("ann1", "calibration-next", PROJECT, "r1"))
    answer = json.dumps({"sentiment": "negative", "intent": ["question"]})
    feedback = remote(
        "ann1", "calibration-answer", PROJECT, "r1", str(task["item_id"]), "--annotation", answer
    )
    assert "not quite" in feedback and "A plain question" in feedback
    assert "A plain question" in remote("ann1", "calibration-feedback", PROJECT, "r1")
    assert "1/1" in remote("ann1", "calibration-list", PROJECT)
    results = json.loads(remote("boss", "calibration-results", PROJECT, "r1", "--json"))
    assert results["participants"][0]["fields"] == {"intent": 1.0, "sentiment": 0.0}

    first = json.loads(remote("ann1", "next", PROJECT))
    stats = remote("ann1", "stats", PROJECT)
    assert "gold: 0 of 0 right" in stats and "0 annotations" in stats

    changed = remote(
        "ann1", "password",
        env={"ANNOTARY_OLD_PASSWORD": "first-password", "ANNOTARY_NEW_PASSWORD": "second-password"},
    )  # fmt: skip
    assert "new password for 'ann1'" in changed
    wrong = run(
        "remote", "--server", running.url, "--token", tokens["ann1"], "password",
        env={"ANNOTARY_OLD_PASSWORD": "first-password", "ANNOTARY_NEW_PASSWORD": "third-password"},
    )  # fmt: skip
    assert wrong.returncode == 1 and "E407" in wrong.stderr

    removed = remote("boss", "members-remove", PROJECT, "ann1")
    assert "1 lease(s) released" in removed and first["lease_id"]
    assert "new password for 'ann1'" in remote(
        "root", "users-password", "ann1", env={"ANNOTARY_NEW_PASSWORD": "third-password"}
    )
    deactivated = remote("root", "users-deactivate", "ann1")
    assert "deactivated 'ann1': 1 API token(s) revoked" in deactivated
    with AnnotaryClient(running.url, tokens["ann1"]) as ann1:
        with pytest.raises(Unauthenticated) as refused:
            ann1.me()
        assert refused.value.code == "E706"
    assert "reactivated 'ann1'" in remote("root", "users-reactivate", "ann1")
