"""Entry point: builds the Typer app and renders our errors in one place."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from annotary.cli import (
    admin_cmds,
    calibration_cmds,
    data_cmds,
    people_cmds,
    plugin_cmds,
    project_cmds,
    qa_cmds,
    remote_cmds,
    remote_people_cmds,
    server_cmds,
)
from annotary.cli.common import err_console
from annotary.errors import AnnotaryError

app = typer.Typer(
    name="annotary",
    help="Turn raw text into audited training data for LLM fine-tuning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
project_cmds.register(app)
data_cmds.register(app)
admin_cmds.register(app)
server_cmds.register(app)
remote_cmds.register(app)
qa_cmds.register(app)
plugin_cmds.register(app)
people_cmds.register(app)
remote_people_cmds.register(app)
calibration_cmds.register(app)


def render_error(error: AnnotaryError) -> None:
    """Print an error's code, message and every detail; no traceback."""
    err_console.print(f"[bold red]error[/] {error.code}: {escape(error.message)}")
    for detail in error.details:
        err_console.print(f"  {escape(str(detail))}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except AnnotaryError as error:
        render_error(error)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing was committed by the running command")
        sys.exit(130)
