"""Dependencies shared by the routes: the database, the settings, the caller."""

from __future__ import annotations

import secrets

from fastapi import Request

from annotary.config import Settings
from annotary.errors import E_CSRF, E_UNAUTHENTICATED, Forbidden, Unauthenticated
from annotary.services.access import Actor
from annotary.services.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    authenticate_session,
    authenticate_token,
)
from annotary.storage.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    """The app's Database (set by `create_app`)."""
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    """The app's Settings (set by `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def client_source(request: Request) -> str:
    """Where a request came from, for the audit log."""
    return request.client.host if request.client else "api"


def current_actor(request: Request) -> Actor:
    """The caller, from `Authorization: Bearer <token>` or the session cookie.

    A cookie is sent by the browser on its own, so requests that change
    anything must also carry the session's CSRF token in `X-CSRF-Token`, which
    a page from another site cannot read.
    """
    db = get_db(request)
    source = client_source(request)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return authenticate_token(db, credentials.strip(), source)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated(
            E_UNAUTHENTICATED, "log in, or send an API token as 'Authorization: Bearer <token>'"
        )
    actor, csrf_token = authenticate_session(db, secret, source)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), csrf_token.encode()):
            raise Forbidden(
                E_CSRF,
                f"missing or wrong {CSRF_HEADER} header; send the csrf_token the login returned",
            )
    return actor
