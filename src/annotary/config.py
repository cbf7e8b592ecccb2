"""Settings, declared once. Every setting can come from the environment.

| variable                 | default                 | meaning                              |
|--------------------------|-------------------------|--------------------------------------|
| ANNOTARY_DATABASE_URL    | sqlite:///annotary.db   | SQLite path/URL or PostgreSQL URL    |
| ANNOTARY_IMPORT_BATCH    | 5000                    | rows per insert batch on import      |
| ANNOTARY_SESSION_HOURS   | 12                      | lifetime of a browser login session  |
| ANNOTARY_WORKER_THREADS  | 16                      | request threads (and PostgreSQL      |
|                          |                         | connections) per server process      |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///annotary.db"


class Settings(BaseSettings):
    """Process-wide settings; pass an instance around, never a global."""

    model_config = SettingsConfigDict(env_prefix="ANNOTARY_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLite path/URL (default, zero set-up) or postgresql://user@host/db",
    )
    import_batch: int = Field(
        default=5000, ge=1, le=100_000, description="Rows per insert batch on import"
    )
    session_hours: float = Field(
        default=12, gt=0, le=24 * 90, description="Lifetime of a browser login session, in hours"
    )
    worker_threads: int = Field(
        default=16,
        ge=1,
        le=256,
        description=(
            "Threads per server process that run requests, and the PostgreSQL connections "
            "each process keeps open for them"
        ),
    )
