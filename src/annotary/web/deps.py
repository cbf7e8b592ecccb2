"""Dependencies shared by the routes: the database, the settings, the caller.

They are `async`: FastAPI runs a plain `def` dependency in the thread pool, a
thread hop per dependency per request. Only work that may block (a database
lookup) is sent there explicitly.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from annotary.config import Settings
from annotary.errors import E_CSRF, E_UNAUTHENTICATED, Forbidden, Unauthenticated
from annotary.services.access import Actor
from annotary.services.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    authenticate_session,
    authenticate_token,
    recently_checked_token,
)
from annotary.storage.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> Database:
    """The app's Database (set by `create_app`)."""
    db: Database = request.app.state.db
    return db


async def get_settings(request: Request) -> Settings:
    """The app's Settings (set by `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def client_source(request: Request) -> str:
    """Where a request came from, for the audit log."""
    return request.client.host if request.client else "api"


async def current_actor(request: Request) -> Actor:
    """The caller, from `Authorization: Bearer <token>` or the session cookie.

    A cookie is sent by the browser on its own, so requests that change
    anything must also carry the session's CSRF token in `X-CSRF-Token`, which
    a page from another site cannot read.
    """
    db: Database = request.app.state.db
    source = client_source(request)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    token = credentials.strip()
    if scheme.lower() == "bearer" and token:
        known = recently_checked_token(db, token, source)
        if known is not None:
            return known
        return await run_in_threadpool(authenticate_token, db, token, source)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthenticated(
            E_UNAUTHENTICATED, "log in, or send an API token as 'Authorization: Bearer <token>'"
        )
    actor, csrf_token = await run_in_threadpool(authenticate_session, db, secret, source)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), csrf_token.encode()):
            raise Forbidden(
                E_CSRF,
                f"missing or wrong {CSRF_HEADER} header; send the csrf_token the login returned",
            )
    return actor
