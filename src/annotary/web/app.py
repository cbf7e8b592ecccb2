"""The app factory: `create_app(settings)` builds a complete API, as often as asked.

Nothing is created at import time; the Database lives on `app.state.db` and is
disposed of on shutdown when the app opened it itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute

from annotary import __version__
from annotary.config import Settings
from annotary.services.database import open_database
from annotary.storage.db import Database
from annotary.web.errors import add_exception_handlers
from annotary.web.middleware import RequestGuard
from annotary.web.routes import API_PREFIX, all_routers

TAGS = [
    {"name": "auth", "description": "Log in and out; your account and personal API tokens."},
    {"name": "users", "description": "User accounts (global admins)."},
    {"name": "projects", "description": "Projects: definition, guidelines, status."},
    {"name": "members", "description": "Who works on a project, in which role."},
    {"name": "import", "description": "Bring items into a project."},
    {"name": "tasks", "description": "The annotation queue: next task, submit, skip."},
    {"name": "review", "description": "Adjudication and review."},
    {"name": "calibration", "description": "Calibration rounds with expert answers."},
]
DESCRIPTION = """\
The REST API of annotary. Authenticate with a personal API token
(`Authorization: Bearer ann_...`, created at `POST /api/v1/me/tokens`) or with
the session cookie set by `POST /api/v1/auth/login`; cookie-authenticated
requests that change something must send the login's `csrf_token` as the
`X-CSRF-Token` header. Every error is `{"error": {"code", "message", "details",
"request_id"}}`; the request id is also the `X-Request-ID` header of every response.
Request bodies are limited in size (413, E711); failed logins are throttled (429,
E716, with `Retry-After`).
"""


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """A new API app on `db` (default: open `settings.database_url`, migrating an empty one)."""
    owns_db = db is None
    threads = settings.worker_threads
    database = db if db is not None else open_database(settings.database_url, pool_size=threads)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in anyio's thread pool (40 threads by default); the
        # queue's routes have their own (`deps.run_in_queue_threads`). Under the
        # GIL more threads add no throughput, only interleaving: requests hold
        # row locks longer and each needs a connection of its own.
        general = threads - settings.queue_threads
        anyio.to_thread.current_default_thread_limiter().total_tokens = general
        yield
        if owns_db:
            database.dispose()

    app = FastAPI(
        title="annotary",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    add_exception_handlers(app)
    app.add_middleware(RequestGuard, settings=settings)
    for router in all_routers():
        app.include_router(router, prefix=API_PREFIX)
    return app


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """`(method, path)` of every API route of `app`, sorted (docs and schema excluded).

    Newer FastAPI keeps included routers as nested objects in `app.routes`;
    `iter_route_contexts` flattens them where it exists.
    """
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    found = set()
    for route in routes:
        if not isinstance(getattr(route, "original_route", route), APIRoute):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, route.path))
    return sorted(found)
