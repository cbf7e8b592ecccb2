"""Failed logins are throttled per account and per client address, across processes,
with audit events; the answer is 429 with Retry-After and our JSON error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from annotary.config import Settings
from annotary.errors import TooManyRequests, Unauthenticated
from annotary.services.identity.auth import login
from annotary.services.identity.throttle import LoginPolicy
from annotary.storage.db import Database
from annotary.storage.models import AuditEvent, LoginThrottle, utcnow
from annotary.web.app import create_app
from tests.web.test_guard import assert_error
from tests.web.world import ADMIN_PASSWORD, World

V1 = "/api/v1"
POLICY = {"login_account_failures": 3, "login_address_failures": 5, "login_lockout_seconds": 120}


def client_with_policy(db: Database) -> TestClient:
    """An app of its own on `db`, as another server process would be."""
    return TestClient(create_app(Settings(database_url="sqlite://", **POLICY), db=db))


def attempt(client: TestClient, username: str, password: str) -> int:
    response = client.post(f"{V1}/auth/login", json={"username": username, "password": password})
    return response.status_code


def actions(db: Database) -> list[tuple[str, str | None]]:
    with db.sessions() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.target)
            .where(AuditEvent.action.like("auth.%"))
            .order_by(AuditEvent.id)
        ).all()
    return [(action, target) for action, target in rows]


def test_an_account_is_locked_after_repeated_failures(world: World) -> None:
    first, second = client_with_policy(world.db), client_with_policy(world.db)
    # Failures through two apps (two server processes) add up: the counts are stored.
    assert [attempt(c, "admin", "wrong-password") for c in (first, second, first)] == [401] * 3
    refused = second.post(
        f"{V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    error = assert_error(refused, 429, "E716")
    assert "for this account" in str(error["message"])
    assert 115 <= int(refused.headers["retry-after"]) <= 120
    events = actions(world.db)
    assert events.count(("auth.login_failed", "user:admin")) == 3
    assert ("auth.lockout", "user:admin") in events
    assert events[-1] == ("auth.login_throttled", "user:admin")
    # API tokens are never throttled.
    assert world.client.get(f"{V1}/me", headers=world.headers("admin")).status_code == 200
    # Once the lock has passed the right password works, and clears the count.
    with world.db.sessions.begin() as session:
        session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert attempt(first, "admin", ADMIN_PASSWORD) == 200
    with world.db.sessions() as session:
        assert session.get(LoginThrottle, "account:admin") is None


def test_unknown_accounts_are_locked_alike(world: World) -> None:
    client = client_with_policy(world.db)
    assert [attempt(client, "nobody", "guess") for _ in range(4)] == [401, 401, 401, 429]


def test_a_success_clears_the_account_count_but_not_the_address_count(world: World) -> None:
    client = client_with_policy(world.db)
    assert [attempt(client, "admin", "wrong") for _ in range(2)] == [401, 401]
    assert attempt(client, "admin", ADMIN_PASSWORD) == 200
    assert [attempt(client, "admin", "wrong") for _ in range(2)] == [401, 401]
    # 4 failures from this address so far; the 5th locks the address for every name.
    assert attempt(client, "someone", "wrong") == 401
    refused = client.post(f"{V1}/auth/login", json={"username": "admin", "password": "x"})
    error = assert_error(refused, 429, "E716")
    assert "from your address" in str(error["message"])
    assert ("auth.lockout", "address:testclient") in actions(world.db)


def test_the_address_lock_leaves_other_addresses_alone(world: World) -> None:
    policy = LoginPolicy(account_failures=100, address_failures=3)
    for name in ("a1", "a2", "a3"):
        with pytest.raises(Unauthenticated):
            login(world.db, name, "wrong", "10.0.0.1", policy=policy)
    with pytest.raises(TooManyRequests) as raised:
        login(world.db, "admin", ADMIN_PASSWORD, "10.0.0.1", policy=policy)
    assert raised.value.code == "E716" and raised.value.retry_after > 0
    assert login(world.db, "admin", ADMIN_PASSWORD, "10.0.0.2", policy=policy).actor.is_admin


def test_failures_outside_the_window_start_a_new_count(world: World) -> None:
    policy = LoginPolicy(account_failures=2, window_seconds=60)
    with pytest.raises(Unauthenticated):
        login(world.db, "admin", "wrong", "10.0.0.9", policy=policy)
    with world.db.sessions.begin() as session:
        session.execute(
            update(LoginThrottle).values(window_started_at=utcnow() - timedelta(seconds=61))
        )
    with pytest.raises(Unauthenticated):
        login(world.db, "admin", "wrong", "10.0.0.9", policy=policy)
    assert login(world.db, "admin", ADMIN_PASSWORD, "10.0.0.9", policy=policy).actor.is_admin
