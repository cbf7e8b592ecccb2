"""What every command shares: the --db option, output consoles, rendering."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.console import Console

from annotary.errors import FieldError

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

PIPE_WIDTH: Final = 4096  # columns for tables when output goes to a file or a program


def output_console(stderr: bool = False) -> Console:
    """A Rich console for stdout (or stderr) that wraps lines on a terminal only.

    Rich wraps at 80 columns when output goes to a file or another program,
    breaking messages and values mid-sentence. There, text is never wrapped
    (`soft_wrap`) and tables get the width they need (up to `PIPE_WIDTH`, or
    `COLUMNS` when that is set).
    """
    terminal = Console(stderr=stderr)
    if terminal.is_terminal:
        return terminal
    width = None if os.environ.get("COLUMNS", "").strip().isdigit() else PIPE_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)


console = output_console()
err_console = output_console(stderr=True)


def database_url(db: str | None) -> str:
    """The --db value, else the setting from the environment, else the default."""
    from annotary.config import load_settings

    return db or load_settings().database_url


def print_json(data: Any) -> None:
    """Write JSON to stdout (no Rich markup processing)."""
    import orjson

    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


class OnError(StrEnum):
    abort = "abort"
    skip = "skip"


class FileFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class ItemKindChoice(StrEnum):
    text = "text"
    prompt_responses = "prompt_responses"
    conversation = "conversation"


# Options shared by the local commands and their `remote` twins.
ProjectArg = Annotated[str, typer.Argument(help="Project name.")]
ImportFileArg = Annotated[Path, typer.Argument(help="JSONL, JSON array, CSV/TSV or Parquet file.")]
FormatOption = Annotated[
    FileFormat | None, typer.Option("--format", help="Default: from the file extension.")
]
KindOption = Annotated[
    ItemKindChoice | None, typer.Option(help="Item kind. Default: the project's item_kind.")
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="item_field=column, e.g. text=body or responses=answer_a,answer_b (repeatable).",
    ),
]
MetaOption = Annotated[
    list[str] | None, typer.Option("--meta", help="Column to keep as metadata (repeatable).")
]
IdColumnOption = Annotated[str, typer.Option(help="Column holding the source's own id.")]
DecomposeOption = Annotated[
    bool, typer.Option(help="Split each conversation into per-turn child items.")
]
OnErrorOption = Annotated[
    OnError, typer.Option(help="abort: store nothing if any row is bad; skip: store good rows.")
]
UsernameArg = Annotated[str, typer.Argument(help="Login name (lower case).")]
PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="ANNOTARY_NEW_PASSWORD",
        help="Password (prompted if not given) [env: ANNOTARY_NEW_PASSWORD].",
    ),
]
AdminOption = Annotated[bool, typer.Option("--admin", help="Make a global admin.")]
DisplayNameOption = Annotated[str | None, typer.Option(help="Display name.")]
EmailOption = Annotated[str | None, typer.Option(help="E-mail address.")]
SkillOption = Annotated[
    list[str] | None, typer.Option("--skill", help="Skill or domain (repeatable).")
]
LanguageOption = Annotated[
    list[str] | None, typer.Option("--language", help="Language code (repeatable).")
]
MemberProjectOption = Annotated[str | None, typer.Option(help="Add to this project.")]
RoleOption = Annotated[
    str, typer.Option(help="Role in --project: annotator, reviewer, expert, manager.")
]


def print_import_report(report: dict[str, Any]) -> None:
    """An import report (`ImportReport.to_dict()` or the API's JSON) for people."""
    console.print(
        f"{report['source']}: {report['rows_read']} rows read, {report['items_added']} items "
        f"added, {report['duplicates']} duplicates skipped, {report['rejected']} rejected"
    )
    extras = [
        f"{report[key]} {label}"
        for key, label in (
            ("child_items_added", "per-turn items"),
            ("prelabels_added", "pre-labels"),
            ("gold_added", "gold answers"),
        )
        if report.get(key)
    ]
    if extras:
        console.print("also added: " + ", ".join(extras))
    for error in report["errors"]:
        console.print(f"  {FieldError(**error)}", highlight=False, markup=False)
    if report.get("rejects_path"):
        console.print(f"bad rows written to {report['rejects_path']}")


def add_once(group: typer.Typer, name: str, command: Callable[..., Any]) -> None:
    """Add `command` to `group` as `name` unless it is there already: a command module
    may be registered more than once in a process (lazy loading, tests)."""
    if not any(info.name == name for info in group.registered_commands):
        group.command(name)(command)
