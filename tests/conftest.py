"""Database fixtures: real SQLite by default, real PostgreSQL when
ANNOTARY_TEST_DATABASE_URL names one (CI runs the suite both ways).

SQLite: one migrated template file per session, copied per test.
PostgreSQL: migrated once per session; every test starts from empty tables.
An unreachable PostgreSQL fails the run; it is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from annotary.storage.db import Database, upgrade
from annotary.storage.models import Base

TEST_DATABASE_URL = os.environ.get("ANNOTARY_TEST_DATABASE_URL", "")


TEST_DATABASE_NAME = re.compile(r"(^|[_-])tests?([_-]|$)")
"""A name the suite may wipe: `test` or `tests` as a word, e.g. `annotary_test`."""


def on_postgresql() -> bool:
    return TEST_DATABASE_URL.startswith(("postgresql", "postgres://"))


def require_test_database(url: str) -> None:
    """Refuse to wipe a database whose name does not say it is for tests: the
    suite drops its whole schema, and a mistyped URL must not cost real data."""
    name = make_url(url).database or ""
    if not TEST_DATABASE_NAME.search(name):
        pytest.exit(
            f"ANNOTARY_TEST_DATABASE_URL names the database {name!r}; the tests drop every "
            "table in it, so they only run on a database whose name has 'test' as a word "
            "(e.g. annotary_test)",
            returncode=2,
        )


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if on_postgresql():
        require_test_database(TEST_DATABASE_URL)
        db = Database.from_url(TEST_DATABASE_URL)
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        upgrade(db.engine)
        db.dispose()
        yield TEST_DATABASE_URL
        return
    template = tmp_path_factory.mktemp("template") / "template.db"
    db = Database.from_url(str(template))
    upgrade(db.engine)
    db.dispose()
    yield str(template)


@pytest.fixture
def db_url(_migrated: str, tmp_path: Path) -> str:
    """URL of an empty, migrated database for this test."""
    if on_postgresql():
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        db = Database.from_url(_migrated)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
        return _migrated
    path = tmp_path / "annotary.db"
    shutil.copyfile(_migrated, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A Database on an empty, migrated database."""
    database = Database.from_url(db_url)
    yield database
    database.dispose()
