"""Run the real `annotary` console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ANNOTARY = str(Path(sys.executable).with_name("annotary"))


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`annotary ARGS...`; returns the finished process (never raises on exit code)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [ANNOTARY, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        input=stdin,
        timeout=120,
    )
