"""serve: run the REST API (optionally on a freshly made demo).

uvicorn and the web app are imported when `serve` runs, not when the CLI starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from annotary.cli.common import DbOption, console, database_url

if TYPE_CHECKING:
    from annotary.services.demo import Demo


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each opens its own connections).")
    ] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="First (re)create the demo: template project, sample data, one user per role.",
        ),
    ] = False,
    demo_dir: Annotated[
        Path, typer.Option(help="Folder of the demo project and its SQLite database.")
    ] = Path("demo"),
    access_log: Annotated[
        bool, typer.Option(help="Log every request (uvicorn's access log).")
    ] = True,
    db: DbOption = None,
) -> None:
    """Serve the REST API (OpenAPI docs at /api/v1/docs) until interrupted."""
    from annotary.config import load_settings
    from annotary.services.database import open_database
    from annotary.services.demo import setup_demo

    if demo:
        made = setup_demo(demo_dir, db)
        url = made.database_url
        _print_demo(made, _base_url(host, port))
    else:
        url = database_url(db)
    # The web stack loads only for this command, so other commands start fast.
    import uvicorn

    from annotary.web.app import create_app
    from annotary.web.workers import require_free_port, serve_workers

    # Check the settings, migrate (or fail) and check the port once here, not
    # in every worker at the same time.
    settings = load_settings(database_url=url)
    open_database(url).dispose()
    require_free_port(host, port)
    base = _base_url(host, port)
    _say(f"annotary API on {base}/api/v1 (docs: {base}/api/v1/docs); Ctrl+C stops it")
    sys.stdout.flush()
    if workers > 1:
        # Workers are new processes: they build their app from the environment.
        os.environ["ANNOTARY_DATABASE_URL"] = url
        serve_workers(host, port, workers, access_log)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, access_log=access_log)


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _print_demo(made: Demo, base: str) -> None:
    report = made.report
    _say(
        f"demo project {made.project!r} in {made.directory}: {report.items_added} items "
        f"({report.gold_added} gold, {report.prelabels_added} pre-labels); "
        f"database {made.database_url}"
    )
    _say("demo logins (POST /api/v1/auth/login), and API tokens (Authorization: Bearer ...):")
    for account in made.accounts:
        _say(
            f"  {account.username:<9} {account.role:<10} password {account.password:<15} "
            f"token {account.token}"
        )
    annotator = next(a for a in made.accounts if a.role == "annotator")
    _say("try:")
    _say(
        f'  curl -H "Authorization: Bearer {annotator.token}" -X POST '
        f"{base}/api/v1/projects/{made.project}/tasks/next"
    )


def _say(line: str) -> None:
    # Plain and unwrapped, so tokens survive copy and paste.
    console.print(line, highlight=False, markup=False, soft_wrap=True)
