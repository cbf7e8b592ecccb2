"""The demo (README's first command): a ready project, its sample data and a team.

`setup_demo` writes the `classification` template into a folder, stores the
project in a SQLite database there (re-created each time) or in the database
given, imports the sample items and adds one user per role, each with a fixed
password and a fresh API token. Nothing here is fit for production: the
passwords are printed and documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import load_project_file
from annotary.services.database import open_database
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import create_token
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import ImportReport, import_items
from annotary.services.projects import create_project
from annotary.services.scaffold import init_project

DEMO_TEMPLATE = "classification"
DEMO_PROJECT = "classification-demo"
DEMO_DATABASE_NAME = "annotary.db"
DEMO_TEAM: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("manager", "manager"),
    ("reviewer", "reviewer"),
    ("expert", "expert"),
    ("ann1", "annotator"),
    ("ann2", "annotator"),
    ("ann3", "annotator"),
)
"""(user name, role); `admin` is a global admin, the others project members."""


def demo_password(username: str) -> str:
    """The demo's fixed password for a user: `demo-<name>`."""
    return f"demo-{username}"


@dataclass(frozen=True)
class DemoAccount:
    """One demo login: name, password, role ('admin' for the global admin) and API token."""

    username: str
    password: str
    role: str
    token: str


@dataclass(frozen=True)
class Demo:
    """What `setup_demo` made."""

    database_url: str
    directory: Path
    project: str
    accounts: list[DemoAccount]
    report: ImportReport


def default_demo_url(directory: Path) -> str:
    """The demo's own SQLite database inside `directory`."""
    return f"sqlite:///{(directory / DEMO_DATABASE_NAME).resolve()}"


def setup_demo(directory: Path, database_url: str | None = None) -> Demo:
    """(Re)create the demo in `directory`; its SQLite database is replaced each time.

    A `database_url` given by the caller is never deleted: it must not hold the
    demo project yet (Conflict E402 otherwise).
    """
    if database_url is None:
        for suffix in ("", "-wal", "-shm"):
            (directory / f"{DEMO_DATABASE_NAME}{suffix}").unlink(missing_ok=True)
        database_url = default_demo_url(directory)
    init_project(directory, DEMO_TEMPLATE, force=True)
    definition = load_project_file(directory / "project.yaml")
    db = open_database(database_url)
    try:
        create_project(db, definition)
        report = import_items(db, definition.name, directory / "sample.jsonl", ImportOptions())
        accounts = []
        for username, role in DEMO_TEAM:
            is_admin = role == "admin"
            password = demo_password(username)
            user_id = add_user(
                db,
                NewUser(
                    username=username,
                    password=password,
                    is_admin=is_admin,
                    display_name=f"Demo {role}",
                    languages=("en",),
                    project=None if is_admin else definition.name,
                    role="annotator" if is_admin else role,
                ),
            )
            actor = Actor(user_id, username, is_admin, "cli")
            token, _info = create_token(db, actor, "demo", tag=f"demo_{username}_")
            accounts.append(DemoAccount(username, password, role, token))
    finally:
        db.dispose()
    return Demo(database_url, directory, definition.name, accounts, report)
