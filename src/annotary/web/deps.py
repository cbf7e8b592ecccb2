"""Dependencies shared by the routes: the database, the settings, the caller.

They are `async`: FastAPI runs a plain `def` dependency in the thread pool, a
thread hop per dependency per request. Only work that may block (a database
lookup) is sent there explicitly.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from annotary.config import Settings
from annotary.errors import E_CSRF, E_UNAUTHENTICATED, Forbidden, Unauthenticated
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    authenticate_session,
    authenticate_token,
    recently_checked_token,
)
from annotary.storage.db import Database

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> Database:
    """The app's Database (set by `create_app`)."""
    db: Database = request.app.state.db
    return db


async def run_in_queue_threads(request: Request, work: Callable[[], T]) -> T:
    """Run a queue request (next task, submit, skip) on the queue's own threads.

    They are short and CPU-bound under the GIL: more of them at once in one
    process only interleave, stretching each transaction and the item row
    locks it holds (seen: next-task p99 70 ms with 4 threads, 150 ms with 16,
    32 clients on 2 workers). Slow requests (imports, QA reports) run on the
    general threads and never hold the queue up.
    """
    limiter = getattr(request.app.state, "queue_limiter", None)
    if limiter is None:  # made in the event loop, on the first queue request
        settings: Settings = request.app.state.settings
        limiter = request.app.state.queue_limiter = CapacityLimiter(settings.queue_threads)
    return await anyio.to_thread.run_sync(work, limiter=limiter)


async def get_settings(request: Request) -> Settings:
    """The app's Settings (set by `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


def client_source(request: Request) -> str:
    """Where a request came from, for the audit log."""
    return request.client.host if request.client else "api"


async def current_actor(request: Request) -> Actor:
    """The caller: as the request guard (`web/middleware.py`) authenticated them
    before the body was read, else from the request's credentials."""
    actor = request.scope.get("state", {}).get("actor")
    if isinstance(actor, Actor):
        return actor
    return await authenticate_request(request)


async def authenticate_request(request: Request) -> Actor:
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
