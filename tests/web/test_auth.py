"""Logins, sessions with CSRF protection, personal API tokens, the audit trail."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from annotary.services.identity.auth import SESSION_COOKIE
from annotary.storage.models import ApiToken, AuditEvent, User, WebSession, utcnow
from tests.web.world import ADMIN_PASSWORD, World

V1 = "/api/v1"


def login(world: World, client: TestClient | None = None) -> str:
    """Log in as the admin; returns the CSRF token."""
    response = (client or world.client).post(
        f"{V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["username"] == "admin" and body["user"]["is_admin"] is True
    csrf: str = body["csrf_token"]
    return csrf


def actions(world: World) -> list[str]:
    with world.db.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(world: World) -> None:
    response = world.client.post(
        f"{V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http here
    csrf = response.json()["csrf_token"]

    me = world.client.get(f"{V1}/me")
    assert me.status_code == 200 and me.json()["username"] == "admin"

    assert world.client.post(f"{V1}/auth/logout").status_code == 403  # no CSRF header
    out = world.client.post(f"{V1}/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    world.client.cookies.clear()
    assert world.client.get(f"{V1}/me").status_code == 401
    assert actions(world)[-2:] == ["auth.login", "auth.logout"]


def test_cookie_is_secure_over_https(world: World) -> None:
    with TestClient(world.app, base_url="https://testserver") as client:
        response = client.post(
            f"{V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
    assert "Secure" in response.headers["set-cookie"]


def test_the_stolen_cookie_alone_cannot_change_anything(world: World) -> None:
    csrf = login(world)
    # Reads need no CSRF token; writes do, and it must be this session's.
    assert world.client.get(f"{V1}/me/tokens").status_code == 200
    for headers in ({}, {"X-CSRF-Token": "guess"}):
        refused = world.client.post(f"{V1}/me/tokens", json={"name": "x"}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "E704"
    made = world.client.post(f"{V1}/me/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201


def test_expired_session_is_refused(world: World) -> None:
    login(world)
    with world.db.sessions.begin() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = world.client.get(f"{V1}/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "E701"


def test_wrong_password_and_unknown_user_get_the_same_answer(world: World) -> None:
    answers = [
        world.client.post(f"{V1}/auth/login", json={"username": name, "password": "wrong-one"})
        for name in ("admin", "nobody")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    bodies = [a.json()["error"] for a in answers]
    for body in bodies:  # the request id differs, and only it
        assert body.pop("request_id")
    assert bodies[0] == bodies[1]
    assert bodies[0] == {"code": "E705", "message": "wrong username or password", "details": []}
    assert answers[0].headers["www-authenticate"] == "Bearer"
    assert SESSION_COOKIE not in answers[0].headers.get("set-cookie", "")
    assert actions(world)[-2:] == ["auth.login_failed", "auth.login_failed"]


def test_inactive_user_cannot_log_in_or_use_tokens(world: World) -> None:
    with world.db.sessions.begin() as session:
        session.execute(update(User).where(User.username == "admin").values(is_active=False))
    response = world.client.post(
        f"{V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "E705"
    assert world.client.get(f"{V1}/me", headers=world.headers("admin")).status_code == 401


def test_token_lifecycle_create_use_list_revoke(world: World) -> None:
    headers = world.headers("annotator")
    made = world.client.post(
        f"{V1}/me/tokens", json={"name": "laptop", "expires_days": 30}, headers=headers
    )
    assert made.status_code == 201
    token = made.json()
    assert token["token"].startswith("ann_") and token["token"].startswith(token["prefix"])
    assert token["expires_at"] is not None

    mine = {"Authorization": f"Bearer {token['token']}"}
    assert world.client.get(f"{V1}/me", headers=mine).json()["username"] == "annotator"
    listed = world.client.get(f"{V1}/me/tokens", headers=mine).json()
    assert {t["name"] for t in listed} == {"laptop", "test"}
    assert all("token" not in t for t in listed)
    assert next(t for t in listed if t["name"] == "laptop")["last_used_at"] is not None

    # Someone else's token is not there to revoke (except for an admin).
    other = world.client.delete(f"{V1}/me/tokens/{token['id']}", headers=world.headers("manager"))
    assert other.status_code == 404
    revoked = world.client.delete(f"{V1}/me/tokens/{token['id']}", headers=mine)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = world.client.get(f"{V1}/me", headers=mine)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "E706"
    assert {"token.create", "token.revoke"} <= set(actions(world))


def test_admin_may_revoke_anyones_token(world: World) -> None:
    _, token_id = world.token_for("annotator", "extra")
    response = world.client.delete(f"{V1}/me/tokens/{token_id}", headers=world.headers("admin"))
    assert response.status_code == 200


def test_expired_and_malformed_tokens_are_refused(world: World) -> None:
    token, token_id = world.token_for("manager", "short-lived")
    with world.db.sessions.begin() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    for value in (f"Bearer {token}", "Bearer not-a-token", "Bearer ann_unknown"):
        response = world.client.get(f"{V1}/me", headers={"Authorization": value})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "E706"


def test_token_last_used_is_written_at_most_once_a_minute(world: World) -> None:
    headers = world.headers("reviewer")
    query = select(ApiToken.last_used_at).where(
        ApiToken.user_id == world.actors["reviewer"].user_id
    )
    world.client.get(f"{V1}/me", headers=headers)
    with world.db.sessions() as session:
        first = session.scalars(query).one()
    world.client.get(f"{V1}/me", headers=headers)
    with world.db.sessions() as session:
        second = session.scalars(query).one()
    assert first is not None and second == first


def test_no_credentials_is_401_with_the_error_shape(world: World) -> None:
    response = world.client.get(f"{V1}/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "E701"
    assert response.headers["www-authenticate"] == "Bearer"


def test_me_lists_memberships(world: World) -> None:
    body = world.client.get(f"{V1}/me", headers=world.headers("expert")).json()
    assert body["memberships"] == [
        {"project": "matrix", "title": "Access matrix", "role": "expert"}
    ]
    assert "password_hash" not in body
