"""Import items from a file into a project (SPEC 3).

The file is streamed record by record and valid rows are written in short
transactions of at most `batch_size` rows (see `import_writer`), so an import
never holds the database for long: on SQLite, where one writer works at a time,
the queue's next task and submit get their turn between two transactions.

- `on_error="abort"`: the whole file is checked first and every bad line is
  reported; with a bad row nothing is written. A clean file is then read again
  and written.
- `on_error="skip"`: good rows are written as they come; bad ones go to a
  rejects file.

Exact duplicates (same content hash) are skipped and counted, so running the
same import twice adds nothing, and running it again after it was interrupted
(the process killed, the database gone) adds exactly what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from annotary.core.ingest.mapping import ImportOptions, ItemRow, RowError, RowMapper
from annotary.core.ingest.readers import Record, detect_format, read_records, total_size
from annotary.core.project import ProjectRef
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_IMPORT_FILE_CHANGED,
    E_IMPORT_FILE_UNREADABLE,
    E_IMPORT_INTERRUPTED,
    E_IMPORT_ROWS_INVALID,
    Conflict,
    FieldError,
    Invalid,
    Unavailable,
)
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.import_writer import BatchWriter
from annotary.services.projects import get_project
from annotary.storage.db import Database, read_session
from annotary.storage.import_store import ImportCounts

OnError = Literal["abort", "skip"]
Progress = Callable[[int], None]
MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportReport:
    """What an import did. `errors` holds at most MAX_REPORTED_ERRORS entries."""

    source: str
    rows_read: int = 0
    items_added: int = 0
    child_items_added: int = 0
    duplicates: int = 0
    rejected: int = 0
    prelabels_added: int = 0
    gold_added: int = 0
    errors: list[FieldError] = field(default_factory=list)
    rejects_path: str | None = None
    batch_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "items_added": self.items_added,
            "child_items_added": self.child_items_added,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "prelabels_added": self.prelabels_added,
            "gold_added": self.gold_added,
            "rejects_path": self.rejects_path,
            "errors": [e.to_dict() for e in self.errors],
        }


def default_rejects_path(source: Path) -> Path:
    """Where `skip` mode writes bad rows unless told otherwise."""
    return source.with_name(source.name + ".rejects.jsonl")


def import_items(
    db: Database,
    project_name: str,
    source: Path,
    options: ImportOptions,
    *,
    file_format: str | None = None,
    on_error: OnError = "abort",
    rejects_path: Path | None = None,
    batch_size: int = 5000,
    progress: Progress | None = None,
    actor_id: int | None = None,
    actor: Actor | None = None,
) -> ImportReport:
    """Import `source` into the project; see the module docstring for the rules.

    `progress` is called now and then with the bytes of the file handled so far
    (both passes of an abort-mode import share the file's size). With an
    `actor` (the API) the caller must be a manager of the project or an admin;
    without one the caller is the trusted local CLI.
    """
    if not source.is_file():
        raise Invalid(E_IMPORT_FILE_UNREADABLE, f"{source} is not a readable file")
    with read_session(db.sessions) as session:
        if actor is not None:
            _authorize(session, actor, project_name)
            actor_id = actor.user_id
        project = get_project(session, project_name)
    options = options_for_project(options, project.item_kind)
    run = _ImportRun(project, options, source, file_format, on_error, batch_size, progress)
    if on_error == "abort":
        run.check_whole_file()
    rejects = _RejectsWriter(rejects_path or default_rejects_path(source), on_error == "skip")
    try:
        with BatchWriter(db, project, options, batch_size) as writer:
            run.write(writer, rejects, actor_id, actor.source if actor else "cli")
    finally:
        rejects.close()
    if rejects.written:
        run.report.rejects_path = str(rejects.path)
    return run.report


def authorize_import(db: Database, actor: Actor, project_name: str) -> None:
    """Fail fast, before an upload is accepted, unless the actor may import into the project.

    `import_items` checks again; this only spares the server from receiving a
    file it would refuse.
    """
    with read_session(db.sessions) as session:
        _authorize(session, actor, project_name)


def _authorize(session: Session, actor: Actor, project_name: str) -> None:
    require_role(session, actor, project_for(session, actor, project_name), frozenset({MANAGER}))


def options_for_project(options: ImportOptions, item_kind: str) -> ImportOptions:
    """Fill in the project's item kind when the caller left it open.

    A project of `turn` items imports conversations and splits them into turns.
    """
    if options.kind is not None:
        return options
    if item_kind == "turn":
        return replace(options, kind="conversation", decompose_turns=True)
    return replace(options, kind=item_kind)


class _ImportRun:
    """Reading one file: mapping its records to rows, reporting bad ones."""

    def __init__(
        self,
        project: ProjectRef,
        options: ImportOptions,
        source: Path,
        file_format: str | None,
        on_error: OnError,
        batch_size: int,
        progress: Progress | None,
    ) -> None:
        schema = project.schema
        self.mapper = RowMapper(
            options,
            lambda annotation, content: validate_annotation(schema, annotation, content),
            # orjson (JSONL) and CSV give JSON values only; a JSON array may hold
            # NaN, a Parquet file any Arrow type.
            json_values=detect_format(source, file_format) in ("jsonl", "csv", "tsv"),
        )
        self.options = options
        self.source = source
        self.file_format = file_format
        self.on_error = on_error
        self.batch_size = batch_size
        self.progress = progress
        self.report = ImportReport(str(source))
        self.size = total_size(source)
        self.stamp = _stamp(source)
        # An abort-mode import reads the file twice: each pass gets half the bar.
        self.passes = 2 if on_error == "abort" else 1

    def check_whole_file(self) -> None:
        """Map every record without writing; raise E301 listing the bad lines."""
        report = ImportReport(self.report.source)
        for record in read_records(self.source, self.file_format):
            report.rows_read += 1
            row = self._map(record)
            if not isinstance(row, ItemRow):
                self._reject(record, row, report)
            if report.rows_read % self.batch_size == 0:
                self._tell(0, record.position)
        if report.rejected:
            raise Invalid(
                E_IMPORT_ROWS_INVALID,
                f"{report.rejected} bad row(s) in {self.source.name}; nothing was imported "
                "(use --on-error skip to import the good rows)",
                report.errors,
            )
        if _stamp(self.source) != self.stamp:
            raise Conflict(
                E_IMPORT_FILE_CHANGED,
                f"{self.source.name} changed while it was being checked; nothing was imported",
            )

    def write(
        self, writer: BatchWriter, rejects: _RejectsWriter, actor_id: int | None, origin: str
    ) -> None:
        """Read the file and store its good rows in batches; close the import as done."""
        report = self.report
        writer.start(self.source.name, _options_dict(self.options), origin)
        report.batch_id = writer.batch_id
        try:
            for record in read_records(self.source, self.file_format):
                report.rows_read += 1
                row = self._map(record)
                if isinstance(row, ItemRow):
                    writer.add(row)
                elif self.on_error == "abort":
                    raise self._changed(record, row, writer)
                else:
                    self._reject(record, row, report)
                    rejects.write(record, row)
                # Progress is told between transactions only (the CLI stops
                # there on Ctrl-C).
                if writer.due() and writer.write(self._counts(writer)):
                    self._tell(self.passes - 1, record.position)
            writer.write(self._counts(writer), last=True)
            self._take_counts(writer)
            writer.finish(self._counts(writer), self._details(), actor_id, origin)
        except BaseException as error:
            self._take_counts(writer)
            self._interrupted(writer, error)
            if isinstance(error, DBAPIError):
                raise Unavailable(
                    E_IMPORT_INTERRUPTED,
                    f"the import of {self.source.name} stopped: {error.orig}; "
                    f"{report.items_added} item(s) were stored. Run it again to add the rest "
                    "(stored rows are skipped as duplicates)",
                ) from error
            raise

    def _map(self, record: Record) -> ItemRow | list[str]:
        """The record's row, or the reasons it cannot be one."""
        if record.error is not None or record.data is None:
            return [record.error or "unreadable record"]
        try:
            return self.mapper.map(record.data)
        except RowError as exc:
            return exc.reasons

    def _reject(self, record: Record, reasons: list[str], report: ImportReport) -> None:
        report.rejected += 1
        location = f"{self.source.name}:{record.number}"
        for reason in reasons:
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(FieldError("", reason, location))

    def _changed(self, record: Record, reasons: list[str], writer: BatchWriter) -> Conflict:
        # The first pass found this line good: the file was edited since.
        return Conflict(
            E_IMPORT_FILE_CHANGED,
            f"{self.source.name} changed while it was being imported: line {record.number} "
            f"is now bad ({'; '.join(reasons)}); {writer.counts.items_added} "
            "item(s) were stored before it",
        )

    def _tell(self, done_passes: int, position: int) -> None:
        if self.progress is not None:
            self.progress((done_passes * self.size + position) // self.passes)

    def _counts(self, writer: BatchWriter) -> ImportCounts:
        return ImportCounts(
            self.report.rows_read,
            writer.counts.items_added,
            writer.counts.duplicates,
            self.report.rejected,
        )

    def _take_counts(self, writer: BatchWriter) -> None:
        report, counts = self.report, writer.counts
        report.items_added = counts.items_added
        report.child_items_added = counts.child_items_added
        report.duplicates = counts.duplicates
        report.prelabels_added = counts.prelabels_added
        report.gold_added = counts.gold_added

    def _details(self) -> dict[str, object]:
        report = self.report
        return {
            "source": report.source,
            "on_error": self.on_error,
            "rows_read": report.rows_read,
            "items_added": report.items_added,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
        }

    def _interrupted(self, writer: BatchWriter, error: BaseException) -> None:
        """Mark the batch interrupted; what was committed stays and is complete."""
        error.add_note(
            f"{self.report.items_added} item(s) of {self.source.name} were stored; running the "
            "same import again adds the rest (stored rows are skipped as duplicates)"
        )
        try:
            writer.interrupt(self._counts(writer))
        except DBAPIError as failure:  # the next import marks it instead
            error.add_note(f"the import could not be marked interrupted: {failure.orig}")


def _stamp(path: Path) -> tuple[int, int]:
    """Size and modification time: enough to notice a file edited mid-import."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _options_dict(options: ImportOptions) -> dict[str, Any]:
    return {
        "kind": options.kind,
        "fields": dict(options.fields),
        "metadata_keys": list(options.metadata_keys),
        "id_key": options.id_key,
        "decompose_turns": options.decompose_turns,
    }


class _RejectsWriter:
    """Streams bad rows to a JSONL file, opened only when the first one arrives."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self.written = 0
        self._file: BinaryIO | None = None

    def write(self, record: Record, reasons: list[str]) -> None:
        if not self.enabled:
            return
        if self._file is None:
            self._file = self.path.open("wb")
        line = {"line": record.number, "reasons": reasons, "record": record.data}
        self._file.write(orjson.dumps(line) + b"\n")
        self.written += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
