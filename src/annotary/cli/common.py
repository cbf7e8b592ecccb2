"""What every command shares: the --db option, output consoles, rendering."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from annotary.config import Settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite path/URL or postgresql://user@host/db "
        "[env: ANNOTARY_DATABASE_URL; default: sqlite:///annotary.db]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

console = Console()
err_console = Console(stderr=True)


def database_url(db: str | None) -> str:
    """The --db value, else the setting from the environment, else the default."""
    return db or Settings().database_url


def print_json(data: Any) -> None:
    """Write JSON to stdout (no Rich markup processing)."""
    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
