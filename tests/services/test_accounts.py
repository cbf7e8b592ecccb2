"""Accounts (SPEC 4): deactivate and reactivate, password resets and changes, skills."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from annotary.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from annotary.services.identity.access import Actor
from annotary.services.identity.accounts import (
    change_own_password,
    deactivate_user,
    reactivate_user,
    reset_password,
    update_user,
)
from annotary.services.identity.auth import (
    authenticate_session,
    authenticate_token,
    create_token,
    login,
)
from annotary.services.identity.members import accept_terms
from annotary.services.identity.users import NewUser, add_user
from annotary.services.queue.serving import next_task, submit_annotation
from annotary.storage.db import Database, read_session
from annotary.storage.models import Annotation, AuditEvent, Item, Lease, User
from tests.services.queue_world import FixedDraw, build_world

NO_GOLD = FixedDraw(0.99)
PASSWORD = "password-123"


def _admin(db: Database, name: str = "root") -> Actor:
    user_id = add_user(db, NewUser(name, "admin-password", is_admin=True))
    return Actor(user_id, name, True, "test")


def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    with read_session(db.sessions) as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id)
        )
        return [(action, details) for action, details in rows]


def test_deactivation_stops_logins_sessions_tokens_and_frees_leases(
    db: Database, tmp_path: Path
) -> None:
    world = build_world(db, tmp_path, workflow="  overlap: 1")
    admin = _admin(db)
    ann1, ann2 = world.actors["ann1"], world.actors["ann2"]
    for actor in (ann1, ann2):
        accept_terms(db, actor, "queue")
    done = next_task(db, ann1, "queue", NO_GOLD)
    assert done is not None
    submit_annotation(db, ann1, done.lease_id, {"sentiment": "positive"})
    held = next_task(db, ann1, "queue", NO_GOLD)
    assert held is not None
    session = login(db, "ann1", PASSWORD, "test")
    token, _ = create_token(db, ann1, "laptop")
    assert authenticate_token(db, token).user_id == ann1.user_id  # now in the token cache

    change = deactivate_user(db, "ann1", admin)

    assert (change.sessions_ended, change.tokens_revoked, change.leases_released) == (1, 1, 1)
    with pytest.raises(Unauthenticated) as refused:
        login(db, "ann1", PASSWORD, "test")
    assert refused.value.code == "E705"
    with pytest.raises(Unauthenticated):
        authenticate_session(db, session.session_secret)
    with pytest.raises(Unauthenticated) as stale:  # at once, cache or not
        authenticate_token(db, token)
    assert stale.value.code == "E706"
    with read_session(db.sessions) as s:
        assert s.scalars(select(Lease).where(Lease.user_id == ann1.user_id)).all() == []
        item = s.get(Item, held.item_id)
        assert item is not None and item.lease_count == 0
        assert (
            len(s.scalars(select(Annotation).where(Annotation.user_id == ann1.user_id)).all()) == 1
        )
    # The item ann1 held goes to the next annotator (highest priority, then import order).
    taken = next_task(db, ann2, "queue", NO_GOLD)
    assert taken is not None and taken.item_id == held.item_id
    details = next(d for action, d in _events(db) if action == "user.deactivate")
    assert details["leases_released"] == 1 and details["tokens_revoked"] == 1


def test_reactivation_lets_them_log_in_but_tokens_stay_revoked(
    db: Database, tmp_path: Path
) -> None:
    world = build_world(db, tmp_path)
    token, _ = create_token(db, world.actors["ann1"], "laptop")
    deactivate_user(db, "ann1")
    change = reactivate_user(db, "ann1")
    assert change.is_active
    assert login(db, "ann1", PASSWORD, "test").actor.username == "ann1"
    with pytest.raises(Unauthenticated):
        authenticate_token(db, token)
    assert [a for a, _ in _events(db)][-3:] == ["user.deactivate", "user.reactivate", "auth.login"]


def test_the_last_active_admin_cannot_be_deactivated(db: Database) -> None:
    root = _admin(db, "root")
    with pytest.raises(Conflict) as last:
        deactivate_user(db, "root", root)
    assert last.value.code == "E406"
    with pytest.raises(Conflict):
        deactivate_user(db, "root")  # nor from the local command line
    other = _admin(db, "other")
    deactivate_user(db, "root", other)
    with pytest.raises(Conflict):
        deactivate_user(db, "other", other)
    with read_session(db.sessions) as session:
        active = session.scalars(select(User.username).where(User.is_active.is_(True))).all()
    assert active == ["other"]


def test_only_admins_manage_accounts(db: Database, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    boss = world.actors["boss"]  # a project manager is no global admin
    for call in (
        lambda: deactivate_user(db, "ann1", boss),
        lambda: reactivate_user(db, "ann1", boss),
        lambda: reset_password(db, "ann1", "new-password", boss),
        lambda: update_user(db, "ann1", skills=["legal"], actor=boss),
    ):
        with pytest.raises(Forbidden):
            call()
    with pytest.raises(NotFound) as missing:
        deactivate_user(db, "nobody")
    assert missing.value.code == "E405"


def test_password_reset_ends_sessions_and_checks_length(db: Database, tmp_path: Path) -> None:
    build_world(db, tmp_path)
    admin = _admin(db)
    before = login(db, "ann1", PASSWORD, "test")
    with pytest.raises(Invalid) as short:
        reset_password(db, "ann1", "short", admin)
    assert short.value.code == "E404" and short.value.details[0].path == "password"
    change = reset_password(db, "ann1", "brand-new-password", admin)
    assert change.sessions_ended == 1
    with pytest.raises(Unauthenticated):
        authenticate_session(db, before.session_secret)
    with pytest.raises(Unauthenticated):
        login(db, "ann1", PASSWORD, "test")
    assert login(db, "ann1", "brand-new-password", "test").actor.username == "ann1"
    with read_session(db.sessions) as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "ann1"))
    assert stored is not None and stored.startswith("$argon2id$")


def test_own_password_change_needs_the_old_one(db: Database, tmp_path: Path) -> None:
    world = build_world(db, tmp_path)
    ann1 = world.actors["ann1"]
    here = login(db, "ann1", PASSWORD, "test")
    elsewhere = login(db, "ann1", PASSWORD, "test")
    with pytest.raises(Forbidden) as wrong:
        change_own_password(db, ann1, "not-my-password", "another-password")
    assert wrong.value.code == "E407"
    assert _events(db)[-1][0] == "user.password_change_failed"
    with pytest.raises(Invalid):
        change_own_password(db, ann1, PASSWORD, "short")

    change = change_own_password(
        db, ann1, PASSWORD, "another-password", current_session=here.session_secret
    )

    assert change.sessions_ended == 1
    assert authenticate_session(db, here.session_secret)[0].username == "ann1"
    with pytest.raises(Unauthenticated):
        authenticate_session(db, elsewhere.session_secret)
    assert login(db, "ann1", "another-password", "test").actor.user_id == ann1.user_id


def test_token_only_users_cannot_set_a_password_themselves(db: Database) -> None:
    user_id = add_user(db, NewUser("bot", None))
    with pytest.raises(Forbidden):
        change_own_password(db, Actor(user_id, "bot"), "", "a-new-password")


def test_skills_and_languages_replace_and_validate(db: Database, tmp_path: Path) -> None:
    build_world(db, tmp_path, skills={"ann1": ("legal",)})
    admin = _admin(db)
    user = update_user(db, "ann1", skills=[" trust_and_safety ", "medical", "medical"], actor=admin)
    assert user.skills == ["trust_and_safety", "medical"] and user.languages == []
    user = update_user(db, "ann1", languages=["en", "pt-BR"], actor=admin)
    assert user.skills == ["trust_and_safety", "medical"] and user.languages == ["en", "pt-BR"]
    with pytest.raises(Invalid) as bad:
        update_user(db, "ann1", skills=[""], languages=["english please"], actor=admin)
    assert {d.path for d in bad.value.details} == {"skills[0]", "languages[0]"}
    assert update_user(db, "ann1", skills=[]).skills == []


def test_two_admins_deactivating_each_other_at_once_leave_one(db: Database) -> None:
    leftover: str | None = None
    for attempt in range(4):
        first, second = _admin(db, f"a{attempt}"), _admin(db, f"b{attempt}")
        if leftover is not None:
            deactivate_user(db, leftover)  # the two new ones are the only active admins
        outcomes = _race(db, [(first, second.username), (second, first.username)])
        assert sorted(outcomes) == ["E406", "ok"]
        with read_session(db.sessions) as session:
            active = session.scalars(
                select(User.username).where(User.is_admin.is_(True), User.is_active.is_(True))
            ).all()
        assert len(active) == 1
        leftover = active[0]


def _race(db: Database, calls: list[tuple[Actor, str]]) -> list[str]:
    """Run the deactivations at the same moment, one thread each; "ok" or the error code."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def deactivate(actor: Actor, target: str) -> None:
        barrier.wait()
        try:
            deactivate_user(db, target, actor)
            outcomes.append("ok")
        except Conflict as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=deactivate, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
