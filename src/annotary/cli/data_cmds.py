"""import, status."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from annotary.cli.common import DbOption, JsonOption, console, database_url, print_json
from annotary.config import Settings
from annotary.core.ingest.mapping import ImportOptions, parse_field_mapping
from annotary.core.ingest.readers import total_size
from annotary.services.database import open_database
from annotary.services.imports import ImportReport, import_items
from annotary.services.status import project_status


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


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("status")(status)


def import_command(
    project: Annotated[str, typer.Argument(help="Project name.")],
    file: Annotated[Path, typer.Argument(help="JSONL, JSON array, CSV/TSV or Parquet file.")],
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="Default: from the file extension.")
    ] = None,
    kind: Annotated[
        ItemKindChoice | None, typer.Option(help="Item kind. Default: the project's item_kind.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="item_field=column, e.g. text=body or responses=answer_a,answer_b (repeatable).",
        ),
    ] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", help="Column to keep as metadata (repeatable).")
    ] = None,
    id_column: Annotated[str, typer.Option(help="Column holding the source's own id.")] = "id",
    decompose_turns: Annotated[
        bool, typer.Option(help="Split each conversation into per-turn child items.")
    ] = False,
    on_error: Annotated[
        OnError,
        typer.Option(help="abort: store nothing if any row is bad; skip: store good rows."),
    ] = OnError.abort,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where skip mode writes bad rows [default: FILE.rejects.jsonl]."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Rows per insert batch [env: ANNOTARY_IMPORT_BATCH].")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import items; exact duplicates are skipped, bad rows reported as FILE:LINE."""
    options = ImportOptions(
        kind=kind.value if kind else None,
        fields=parse_field_mapping(mapping or []),
        metadata_keys=tuple(meta or ()),
        id_key=id_column,
        decompose_turns=decompose_turns,
    )
    database = open_database(database_url(db))
    size = total_size(file) if file.is_file() else 0
    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=as_json or not console.is_terminal,
    )
    try:
        with bar:
            task = bar.add_task("import", total=size)
            report = import_items(
                database,
                project,
                file,
                options,
                file_format=file_format.value if file_format else None,
                on_error=on_error.value,
                rejects_path=rejects,
                batch_size=batch_size or Settings().import_batch,
                progress=lambda done: bar.update(task, completed=done),
            )
    finally:
        database.dispose()
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _print_report(report: ImportReport) -> None:
    console.print(
        f"{report.source}: {report.rows_read} rows read, {report.items_added} items added, "
        f"{report.duplicates} duplicates skipped, {report.rejected} rejected"
    )
    extras = []
    if report.child_items_added:
        extras.append(f"{report.child_items_added} per-turn items")
    if report.prelabels_added:
        extras.append(f"{report.prelabels_added} pre-labels")
    if report.gold_added:
        extras.append(f"{report.gold_added} gold answers")
    if extras:
        console.print("also added: " + ", ".join(extras))
    for error in report.errors:
        console.print(f"  {error}", highlight=False, markup=False)
    if report.rejects_path:
        console.print(f"bad rows written to {report.rejects_path}")


def status(
    project: Annotated[str, typer.Argument(help="Project name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a project's items by status and kind."""
    database = open_database(database_url(db))
    try:
        result = project_status(database, project)
    finally:
        database.dispose()
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"{result.project}: {result.total_items} items")
    table.add_column("status")
    table.add_column("kind")
    table.add_column("items", justify="right")
    for (item_status, kind), count in sorted(result.by_status_kind.items()):
        table.add_row(item_status, kind, str(count))
    console.print(table)
    console.print(
        f"schema v{result.schema_version}, guidelines v{result.guideline_version}; "
        f"gold items {result.gold_items}, pre-labels {result.prelabels}, "
        f"annotations {result.annotations}, imports {result.imports}"
    )
