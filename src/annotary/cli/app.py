"""Entry point: the `annotary` command tree and our errors rendered in one place.

`COMMANDS` lists every top-level command and group; its module is imported
only when the command runs (see `annotary.cli.lazy` for how to add one).
"""

from __future__ import annotations

import sys
from typing import Final

import typer

from annotary.cli.lazy import LazyCommand, LazyGroup
from annotary.errors import AnnotaryError

COMMANDS: Final = {
    "init": LazyCommand(
        "project_cmds",
        "Write a complete, valid project (project.yaml, guidelines.md, sample.jsonl).",
    ),
    "validate": LazyCommand(
        "project_cmds",
        "Check a project file; print every error with its line and exit non-zero.",
    ),
    "import": LazyCommand(
        "data_cmds",
        "Import items; exact duplicates are skipped, bad rows reported as FILE:LINE.",
    ),
    "status": LazyCommand("data_cmds", "Show a project's items by status and kind."),
    "serve": LazyCommand(
        "server_cmds", "Serve the REST API (OpenAPI docs at /api/v1/docs) until interrupted."
    ),
    "agreement": LazyCommand(
        "qa_cmds",
        "Agreement between coders in any file of labels (no project or database needed).",
    ),
    "project": LazyCommand("project_cmds", "Create and manage projects."),
    "users": LazyCommand("admin_cmds", "Manage users."),
    "db": LazyCommand("admin_cmds", "Database maintenance."),
    "remote": LazyCommand(
        "remote_cmds",
        "Work with a running annotary server (REST API) instead of a local database.",
    ),
    "qa": LazyCommand(
        "qa_cmds", "Quality reports of a project (agreement, gold, monitoring, bias)."
    ),
    "members": LazyCommand("people_cmds", "Project members: remove, pool summary."),
    "calibration": LazyCommand(
        "calibration_cmds",
        "Calibration rounds: a fixed set everyone annotates, compared with expert answers.",
    ),
    "plugins": LazyCommand(
        "plugin_cmds",
        "List the plugins (built-in and installed) and the components they register.",
    ),
}


class AnnotaryCommands(LazyGroup):
    registry = COMMANDS


# Typer passes the value of a --help that was not given (None) through a pydantic
# TypeAdapter, which imports pydantic (~0.07 s) only to print a subcommand's help.
# A default of False, for the root and for each group below it, skips that.
HELP_NOT_GIVEN: Final = {"help": False, **{name: {"help": False} for name in COMMANDS}}

app = typer.Typer(
    name="annotary",
    help="Turn raw text into audited training data for LLM fine-tuning.",
    cls=AnnotaryCommands,
    context_settings={"default_map": HELP_NOT_GIVEN},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def root() -> None:
    """Nothing to do before a command: the commands come from `COMMANDS`."""


def render_error(error: AnnotaryError) -> None:
    """Print an error's code, message and every detail; no traceback."""
    from rich.markup import escape

    from annotary.cli.common import err_console

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
        from annotary.cli.common import err_console

        err_console.print("interrupted; nothing was committed by the running command")
        sys.exit(130)
