"""The domain core must not depend on web, database or CLI libraries."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import annotary.core

FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "typer", "httpx", "alembic", "psycopg")


def core_modules() -> list[str]:
    return [
        info.name for info in pkgutil.walk_packages(annotary.core.__path__, prefix="annotary.core.")
    ]


def test_core_has_modules() -> None:
    assert "annotary.core.schema.fields" in core_modules()
    assert "annotary.core.ingest.mapping" in core_modules()


def test_core_imports_no_web_or_database_code() -> None:
    # A fresh interpreter, so nothing else the test run imported can hide a leak.
    program = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"leaked = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"core pulled in: {result.stdout.strip()}"
