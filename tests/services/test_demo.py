"""The demo set-up behind `annotary serve --demo`."""

from __future__ import annotations

from pathlib import Path

from annotary.services.demo import DEMO_PROJECT, setup_demo
from annotary.services.identity.auth import authenticate_token, login
from annotary.services.status import project_status
from annotary.storage.db import Database


def test_demo_is_recreated_from_scratch_each_time(tmp_path: Path) -> None:
    first = setup_demo(tmp_path / "demo")
    second = setup_demo(tmp_path / "demo")  # the old database is replaced, not clashed with
    assert second.database_url == first.database_url
    assert {a.username for a in second.accounts} == {
        "admin",
        "manager",
        "reviewer",
        "expert",
        "ann1",
        "ann2",
        "ann3",
    }
    db = Database.from_url(second.database_url)
    try:
        status = project_status(db, DEMO_PROJECT)
        assert status.total_items == second.report.items_added > 0
        for account in second.accounts:
            actor = authenticate_token(db, account.token)
            assert actor.username == account.username
            assert actor.is_admin == (account.role == "admin")
            assert account.token.startswith(f"ann_demo_{account.username}_")
        assert login(db, "ann1", "demo-ann1", "test").actor.username == "ann1"
        old_token = first.accounts[0].token
        assert old_token != second.accounts[0].token
    finally:
        db.dispose()
