"""Settings, declared once. Every setting can come from the environment.

| variable                 | default                 | meaning                              |
|--------------------------|-------------------------|--------------------------------------|
| ANNOTARY_DATABASE_URL    | sqlite:///annotary.db   | SQLite path/URL or PostgreSQL URL    |
| ANNOTARY_IMPORT_BATCH    | 5000                    | rows per insert batch on import      |
| ANNOTARY_SESSION_HOURS   | 12                      | lifetime of a browser login session  |
| ANNOTARY_WORKER_THREADS  | 16                      | request threads (and PostgreSQL      |
|                          |                         | connections) per server process      |
| ANNOTARY_QUEUE_THREADS   | 4                       | of which for next task/submit/skip   |
| ANNOTARY_MAX_JSON_BYTES  | 1048576 (1 MiB)         | largest request body of JSON routes  |
| ANNOTARY_MAX_UPLOAD_BYTES| 1073741824 (1 GiB)      | largest import upload                |
| ANNOTARY_LOGIN_ACCOUNT_FAILURES | 5                | failed logins of one account ...     |
| ANNOTARY_LOGIN_ADDRESS_FAILURES | 20               | ... or from one address, in a window |
| ANNOTARY_LOGIN_WINDOW_SECONDS   | 900              | the window failures are counted in   |
| ANNOTARY_LOGIN_LOCKOUT_SECONDS  | 300              | how long logins are then refused     |
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from annotary.errors import E_SETTINGS_INVALID, FieldError, Invalid

DEFAULT_DATABASE_URL = "sqlite:///annotary.db"
ENV_PREFIX = "ANNOTARY_"


class Settings(BaseSettings):
    """Process-wide settings; pass an instance around, never a global."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

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
    queue_threads: int = Field(
        default=4,
        ge=1,
        le=256,
        description=(
            "Of the worker threads, how many run the queue's next task, submit and skip at once"
        ),
    )

    max_json_bytes: int = Field(
        default=1 << 20,
        ge=1 << 10,
        le=1 << 30,
        description="Largest request body of the JSON routes, in bytes (larger: 413, E711)",
    )
    max_upload_bytes: int = Field(
        default=1 << 30,
        ge=1 << 10,
        le=1 << 40,
        description="Largest file an import upload may send, in bytes (larger: 413, E711)",
    )
    login_account_failures: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="Failed logins of one account within the window that lock its logins",
    )
    login_address_failures: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Failed logins from one client address within the window that lock it",
    )
    login_window_seconds: int = Field(
        default=900, ge=1, le=86_400, description="The window failed logins are counted in"
    )
    login_lockout_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How long logins are refused (429) once an account or address is locked",
    )

    @field_validator("queue_threads")
    @classmethod
    def _fits_the_workers(cls, value: int, info: ValidationInfo) -> int:
        workers = info.data.get("worker_threads")
        if workers is not None and value >= workers:
            raise ValueError(
                f"must be less than {ENV_PREFIX}WORKER_THREADS ({workers}): "
                "the other routes need threads too"
            )
        return value


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and `overrides`); a bad value is an Invalid
    error (E105) that names the variable and the reason, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        details = []
        for problem in exc.errors():
            names = [f"{ENV_PREFIX}{str(part).upper()}" for part in problem["loc"]]
            reason = problem["msg"].removeprefix("Value error, ")
            details.append(FieldError(".".join(names) or "settings", reason))
        raise Invalid(E_SETTINGS_INVALID, "invalid settings in the environment", details) from exc
