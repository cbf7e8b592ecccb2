"""ASGI entry points for servers that import the app by name (uvicorn --workers).

`uvicorn --factory annotary.web.asgi:create_app_from_env` builds one app per
worker process from the environment (`ANNOTARY_DATABASE_URL`, ...).
`annotary.web.asgi:app` works too: it is built on first access, not at import.
"""

from __future__ import annotations

from fastapi import FastAPI

from annotary.config import load_settings
from annotary.web.app import create_app


def create_app_from_env() -> FastAPI:
    """An app configured from `ANNOTARY_*` environment variables."""
    return create_app(load_settings())


def __getattr__(name: str) -> FastAPI:
    # Lazy `app` so that importing this module never opens a database.
    if name == "app":
        return create_app_from_env()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
