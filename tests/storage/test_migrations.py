"""One set of migrations for SQLite and PostgreSQL, matching the models."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from annotary.errors import Unavailable
from annotary.storage.db import (
    Database,
    alembic_config,
    current_revision,
    head_revision,
    require_current,
    shipped_head,
    upgrade,
)
from annotary.storage.models import Base
from tests.conftest import TEST_DATABASE_URL, on_postgresql


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database (a fresh SQLite file or a fresh PostgreSQL database)."""
    if not on_postgresql():
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"annotary_test_scratch_{uuid.uuid4().hex[:12]}"
    admin = Database.from_url(TEST_DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_downgrade_round_trip(scratch_url: str) -> None:
    db = Database.from_url(scratch_url)
    assert current_revision(db.engine) is None
    with pytest.raises(Unavailable) as raised:
        require_current(db.engine)
    assert raised.value.code == "E502"
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    command.downgrade(alembic_config(db.engine), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(db.engine)
    require_current(db.engine)
    db.dispose()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    db = Database.from_url(str(tmp_path / "settings.db"))
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    db = Database.from_url("postgresql://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(Unavailable) as raised:
        current_revision(db.engine)
    assert raised.value.code == "E501"
    assert "cannot reach the database" in raised.value.message


def test_0005_gives_existing_projects_a_secret_and_counts_submits(scratch_url: str) -> None:
    db = Database.from_url(scratch_url)
    command.upgrade(alembic_config(db.engine), "0004")
    now = "2026-01-02 03:04:05+00:00"
    rows = [
        "INSERT INTO users (id, username, is_admin, is_active, skills, languages, attributes, "
        f"created_at) VALUES (1, 'ann', false, true, '[]', '[]', '{{}}', '{now}')",
        *(
            "INSERT INTO projects (id, name, item_kind, definition, schema_version, "
            f"guideline_version, created_at, updated_at) VALUES ({p}, 'p{p}', 'text', '{{}}', "
            f"1, 1, '{now}', '{now}')"
            for p in (1, 2)
        ),
        "INSERT INTO memberships (id, project_id, user_id, role, gold_answered, gold_correct, "
        "qualification_answered, qualification_correct, created_at) "
        f"VALUES (1, 1, 1, 'annotator', 0, 0, 0, 0, '{now}')",
        *(
            "INSERT INTO items (id, project_id, kind, content, content_hash, metadata, status, "
            "priority, annotation_count, lease_count, is_gold, created_at) "
            f"VALUES ({i}, 1, 'text', '{{}}', 'h{i}', '{{}}', 'queued', 0, 1, 0, false, '{now}')"
            for i in (1, 2)
        ),
        *(
            "INSERT INTO annotations (item_id, user_id, project_id, payload, schema_version, "
            f"guideline_version, flags, created_at) VALUES ({i}, 1, 1, '{{}}', 1, 1, '[]', "
            f"'2026-01-0{i} 00:00:00+00:00')"
            for i in (1, 2)
        ),
    ]
    with db.engine.begin() as connection:
        for row in rows:
            connection.exec_driver_sql(row)
    upgrade(db.engine)
    with db.engine.connect() as connection:
        secrets = connection.exec_driver_sql(
            "SELECT project_id, secret FROM project_secrets ORDER BY project_id"
        ).all()
        counted, last = connection.exec_driver_sql(
            "SELECT annotations_submitted, last_submit_at FROM memberships"
        ).one()
    db.dispose()
    assert [p for p, _ in secrets] == [1, 2]
    assert len({s for _, s in secrets}) == 2
    assert all(len(bytes.fromhex(s)) == 32 for _, s in secrets)
    assert counted == 2
    assert str(last).startswith("2026-01-02")


def test_shipped_head_is_alembics_head() -> None:
    assert shipped_head() is not None
    assert shipped_head() == head_revision()


def test_opening_a_current_database_does_not_load_alembic(db_url: str) -> None:
    # Importing alembic cost every command ~0.15 s of CPU before it did anything.
    script = (
        "import sys\n"
        "from annotary.services.database import open_database\n"
        f"open_database({db_url!r}).dispose()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
