"""import, status."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from annotary.cli.common import (
    DbOption,
    DecomposeOption,
    FormatOption,
    IdColumnOption,
    ImportFileArg,
    JsonOption,
    KindOption,
    MapOption,
    MetaOption,
    OnError,
    OnErrorOption,
    ProjectArg,
    console,
    database_url,
    err_console,
    print_import_report,
    print_json,
)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("status")(status)


def import_command(
    project: ProjectArg,
    file: ImportFileArg,
    file_format: FormatOption = None,
    kind: KindOption = None,
    mapping: MapOption = None,
    meta: MetaOption = None,
    id_column: IdColumnOption = "id",
    decompose_turns: DecomposeOption = False,
    on_error: OnErrorOption = OnError.abort,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where skip mode writes bad rows [default: FILE.rejects.jsonl]."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Most rows per write transaction [env: ANNOTARY_IMPORT_BATCH]."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import items; exact duplicates are skipped, bad rows reported as FILE:LINE."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from annotary.config import load_settings
    from annotary.core.ingest.mapping import ImportOptions, parse_field_mapping
    from annotary.core.ingest.readers import total_size
    from annotary.services.database import open_database
    from annotary.services.imports import import_items

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
    stop = _StopAtBatch()
    try:
        with bar, stop:
            task = bar.add_task("import", total=size)

            def progress(done: int) -> None:
                stop.check()
                bar.update(task, completed=done)

            report = import_items(
                database,
                project,
                file,
                options,
                file_format=file_format.value if file_format else None,
                on_error=on_error.value,
                rejects_path=rejects,
                batch_size=batch_size or load_settings().import_batch,
                progress=progress,
            )
    except KeyboardInterrupt as interrupt:
        # Batches already committed stay (each item complete); the notes say how many.
        notes = getattr(interrupt, "__notes__", None) or ["nothing was stored"]
        for note in notes:
            err_console.print(f"interrupted: {note}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(130) from None
    finally:
        database.dispose()
    if as_json:
        print_json(report.to_dict())
    else:
        print_import_report(report.to_dict())


class _StopAtBatch:
    """Ctrl-C stops the import between two batches, not inside a statement (a
    COPY cut short leaves its connection unusable); a second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopAtBatch:
        self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _request(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed (call between batches)."""
        if self.requested:
            raise KeyboardInterrupt


def status(
    project: ProjectArg,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a project's items by status and kind."""
    from rich.table import Table

    from annotary.services.database import open_database
    from annotary.services.status import project_status

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
