"""`annotary serve` as a real process, driven by `annotary remote ...` and the client."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from annotary.client import AnnotaryClient
from annotary.errors import Forbidden, Invalid, NotFound, Unauthenticated
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.storage.db import Database
from annotary.templates import template_files
from annotary.testing import ServerProcess, live_server
from tests.cli.runner import run


def make_admin_token(db_url: str) -> str:
    db = Database.from_url(db_url)
    try:
        user_id = add_user(db, NewUser("root", None, is_admin=True))
        token, _ = create_token(db, Actor(user_id, "root", True), "tests")
    finally:
        db.dispose()
    return token


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    token = make_admin_token(db_url)
    with live_server(db_url, cwd=tmp_path) as running:
        yield running, token


def remote(server: ServerProcess, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run("remote", "--server", server.url, "--token", token, *args)


def test_remote_cli_and_client_end_to_end(
    server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    running, token = server
    files = template_files("classification")
    sample = tmp_path / "sample.jsonl"
    sample.write_text(files["sample.jsonl"])

    assert json.loads(remote(running, token, "projects", "--json").stdout) == []
    with AnnotaryClient(running.url, token) as client:
        made = client.create_project(files["project.yaml"], files["guidelines.md"])
        assert made["name"] == "classification-demo"
        with pytest.raises(Invalid) as invalid:
            client.create_project("name: x\n")
        assert invalid.value.code == "E101" and invalid.value.details

    listed = remote(running, token, "projects")
    assert listed.returncode == 0, listed.stderr
    assert "classification-demo" in listed.stdout

    imported = remote(running, token, "import", "classification-demo", str(sample), "--json")
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert report["items_added"] > 0 and report["gold_added"] >= 5
    again = remote(running, token, "import", "classification-demo", str(sample))
    assert again.returncode == 0 and "0 items added" in again.stdout

    status = json.loads(remote(running, token, "status", "classification-demo", "--json").stdout)
    assert status["total_items"] == report["items_added"]
    table = remote(running, token, "status", "classification-demo")
    assert "queued" in table.stdout and "gold" in table.stdout

    added = run(
        "remote",
        "users-add",
        "ann9",
        "--project",
        "classification-demo",
        "--role",
        "annotator",
        env={
            "ANNOTARY_SERVER": running.url,
            "ANNOTARY_TOKEN": token,
            "ANNOTARY_NEW_PASSWORD": "long-password",
        },
    )
    assert added.returncode == 0, added.stderr
    users = json.loads(remote(running, token, "users", "--json").stdout)
    assert {u["username"] for u in users} == {"root", "ann9"}
    assert "ann9" in remote(running, token, "users").stdout

    with AnnotaryClient(running.url) as anonymous, pytest.raises(Unauthenticated):
        anonymous.me()
    with AnnotaryClient(running.url, token) as client:
        annotator_token = client.create_token("for ann9")  # the admin's, to test revocation
        client.revoke_token(annotator_token["id"])
        ann9 = client.add_member("classification-demo", "ann9", "annotator")
        assert ann9["role"] == "annotator"
        with pytest.raises(NotFound) as missing:
            client.status("nope")
        assert missing.value.code == "E401"
        assert client.me()["username"] == "root"


def test_remote_errors_print_code_and_exit_1(server: tuple[ServerProcess, str]) -> None:
    running, token = server
    missing = remote(running, token, "status", "nope")
    assert missing.returncode == 1
    assert "E401" in missing.stderr and "Traceback" not in missing.stderr
    bad_token = remote(running, "ann_wrong", "projects")
    assert bad_token.returncode == 1 and "E706" in bad_token.stderr
    no_token = run("remote", "--server", running.url, "projects", env={"ANNOTARY_TOKEN": ""})
    assert no_token.returncode == 1 and "E701" in no_token.stderr
    unreachable = run("remote", "--server", "http://127.0.0.1:9", "--token", token, "projects")
    assert unreachable.returncode == 1 and "E710" in unreachable.stderr


def test_annotator_logs_in_makes_a_token_and_is_refused_status(
    server: tuple[ServerProcess, str],
) -> None:
    running, token = server
    files = template_files("classification")
    with AnnotaryClient(running.url, token) as admin:
        admin.create_project(files["project.yaml"], files["guidelines.md"])
        admin.add_user("ann1", "long-password", project="classification-demo", role="annotator")
    with httpx.Client(base_url=f"{running.url}/api/v1") as browser:
        login = browser.post("/auth/login", json={"username": "ann1", "password": "long-password"})
        assert login.status_code == 200
        made = browser.post(
            "/me/tokens",
            json={"name": "cli"},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        assert made.status_code == 201
    with AnnotaryClient(running.url, made.json()["token"]) as ann1:
        assert [p["role"] for p in ann1.projects()] == ["annotator"]
        with pytest.raises(Forbidden) as refused:
            ann1.status("classification-demo")
        assert refused.value.code == "E702"


def test_serve_demo_smoke(tmp_path: Path) -> None:
    with live_server(args=["--demo"], cwd=tmp_path) as running:
        output = running.log_text()
        tokens = dict(
            re.findall(r"^\s+(\w+)\s+\S+\s+password \S+\s+token (ann_\S+)$", output, re.M)
        )
        assert set(tokens) == {"admin", "manager", "reviewer", "expert", "ann1", "ann2", "ann3"}
        assert f"{running.url}/api/v1" in output and "demo-ann1" in output
        assert (tmp_path / "demo" / "annotary.db").is_file()
        with AnnotaryClient(running.url, tokens["ann1"]) as ann1:
            projects = ann1.projects()
            assert [(p["name"], p["role"]) for p in projects] == [
                ("classification-demo", "annotator")
            ]
            with pytest.raises(Forbidden):
                ann1.status("classification-demo")
        login = httpx.post(
            f"{running.url}/api/v1/auth/login",
            json={"username": "manager", "password": "demo-manager"},
        )
        assert login.status_code == 200 and login.json()["csrf_token"]
        with AnnotaryClient(running.url, tokens["manager"]) as manager:
            assert manager.status("classification-demo")["total_items"] > 0


def test_remote_next_submit_and_skip(
    server: tuple[ServerProcess, str], db_url: str, tmp_path: Path
) -> None:
    running, token = server
    files = template_files("classification")
    sample = tmp_path / "sample.jsonl"
    sample.write_text(files["sample.jsonl"])
    with AnnotaryClient(running.url, token) as admin:
        admin.create_project(files["project.yaml"], files["guidelines.md"])
        admin.import_file("classification-demo", sample)
    db = Database.from_url(db_url)
    try:
        user_id = add_user(db, NewUser("ann7", None, project="classification-demo"))
        ann7, _ = create_token(db, Actor(user_id, "ann7"), "tests")
    finally:
        db.dispose()

    # The template asks for a qualification on gold items first; any task will do here.
    first = remote(running, ann7, "next", "classification-demo")
    assert first.returncode == 0, first.stderr
    task = json.loads(first.stdout)
    again = json.loads(remote(running, ann7, "next", "classification-demo").stdout)
    assert again["lease_id"] == task["lease_id"]  # the same task until it is done
    bad = remote(running, ann7, "submit", str(task["lease_id"]), "--annotation", '{"x": 1}')
    assert bad.returncode == 1 and "E201" in bad.stderr
    answer = json.dumps({"sentiment": "neutral", "intent": ["question"]})
    done = remote(running, ann7, "submit", str(task["lease_id"]), "--annotation", answer)
    assert done.returncode == 0, done.stderr
    following = json.loads(remote(running, ann7, "next", "classification-demo").stdout)
    assert following["item"]["ref"] != task["item"]["ref"]
    skipped = remote(running, ann7, "skip", str(following["lease_id"]), "--reason", "unclear")
    assert skipped.returncode == 0, skipped.stderr
    gone = remote(running, ann7, "submit", str(following["lease_id"]), "--annotation", answer)
    assert gone.returncode == 1 and "E801" in gone.stderr
