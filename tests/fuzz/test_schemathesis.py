"""schemathesis against the served OpenAPI document: every operation, as an admin and
as an annotator, must answer without a server error, and every error must be our
JSON error body.

A real `annotary serve` on SQLite (the database does not matter here, so the test
runs once per CI run: it is skipped when the suite runs on PostgreSQL). Token
revocation and logout are left out so that the run keeps its credentials.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotary.testing import live_server
from annotary.web.app import api_routes
from tests.conftest import on_postgresql
from tests.web.world import build_world

V1 = "/api/v1"
ST = str(Path(sys.executable).with_name("st"))
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES = int(os.environ.get("ANNOTARY_FUZZ_EXAMPLES", "40"))
"""Examples per operation: the two runs take about 1.5 minutes on an idle 2-core machine."""
CONFIG = """\
[dictionaries.projects]
values = ["matrix"]

[parameters]
"path.name" = { dictionary = "projects", probability = 0.5 }
"""
"""Half of the project names are the world's project, so requests reach past the lookup."""

pytestmark = pytest.mark.skipif(
    on_postgresql(), reason="run once per CI run, on SQLite: the database does not matter"
)


@pytest.mark.parametrize("role", ["admin", "annotator"])
def test_the_api_survives_schemathesis(db_url: str, tmp_path: Path, role: str) -> None:
    world = build_world(db_url, tmp_path)
    token = world.tokens[role]
    operations = len([route for route in api_routes(world.app) if route[1].startswith(V1)])
    world.client.close()
    world.db.dispose()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with live_server(db_url) as server:
        done = subprocess.run(
            [
                ST,
                "--config-file",
                str(config),
                "run",
                f"{server.url}{V1}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,annotary_error_body",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(EXAMPLES),
                "--exclude-path",
                f"{V1}/auth/logout",
                "--exclude-path",
                f"{V1}/me/tokens/{{token_id}}",
                "--generation-database",
                "none",
                "--workers",  # one: hypothesis's lambda descriptions crash CPython 3.11's
                "1",  # ast.parse when threads compile at once ("recursion depth mismatch")
                "--no-color",
                "--output-truncate",
                "false",
            ],
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        server_log = server.log_text()
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"{report}\n--- server log ---\n{server_log[-4000:]}"
    # Every operation but the two left out.
    assert f"Selected: {operations - 2}/{operations}" in done.stdout, report
    assert "Traceback" not in server_log, server_log[-4000:]
