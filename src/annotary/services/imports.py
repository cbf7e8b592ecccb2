"""Import items from a file into a project (SPEC 3).

The file is streamed record by record; valid rows are written in batches inside
one write transaction. Bad rows are collected with their line numbers. With
`on_error="abort"` a single bad row rolls everything back (writing stops at the
first bad row, but the rest of the file is still checked so every bad line is
reported); with `on_error="skip"` the good rows are kept and the bad ones are
written to a rejects file. Exact duplicates (same content hash) are skipped and
counted, so running the same import twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson
from sqlalchemy.orm import Session

from annotary.core.ingest.mapping import ImportOptions, ItemRow, RowError, RowMapper
from annotary.core.ingest.readers import Record, read_records
from annotary.core.project import ProjectRef
from annotary.core.queue import match_route
from annotary.core.schema.validation import validate_annotation
from annotary.errors import (
    E_IMPORT_FILE_UNREADABLE,
    E_IMPORT_ROWS_INVALID,
    FieldError,
    Invalid,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.projects import get_project
from annotary.services.queue.workflow import routes_of
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.item_store import ItemStore, NewItem
from annotary.storage.models import GoldAnswer, ImportBatch, Prelabel

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

    With an `actor` (the API) the caller must be a manager of the project or an
    admin; without one the caller is the trusted local CLI.
    """
    if not source.is_file():
        raise Invalid(E_IMPORT_FILE_UNREADABLE, f"{source} is not a readable file")
    report = ImportReport(str(source))
    rejects = _RejectsWriter(rejects_path or default_rejects_path(source), on_error == "skip")
    try:
        with write_transaction(db.sessions) as session:
            if actor is not None:
                _authorize(session, actor, project_name)
                actor_id = actor.user_id
            project = get_project(session, project_name)
            options = options_for_project(options, project.item_kind)
            run = _ImportRun(session, project, options, report, source.name, batch_size)
            run.keep_writing_after_errors = on_error == "skip"
            for record in read_records(source, file_format):
                report.rows_read += 1
                run.take(record, rejects)
                if progress is not None and report.rows_read % batch_size == 0:
                    progress(record.position)
            run.flush()
            if report.rejected and on_error == "abort":
                raise Invalid(
                    E_IMPORT_ROWS_INVALID,
                    f"{report.rejected} bad row(s) in {source.name}; nothing was imported "
                    "(use --on-error skip to import the good rows)",
                    report.errors,
                )
            run.finish(on_error, actor_id, actor.source if actor else "cli")
    finally:
        rejects.close()
    if rejects.written:
        report.rejects_path = str(rejects.path)
    return report


def authorize_import(db: Database, actor: Actor, project_name: str) -> None:
    """Fail fast, before an upload is accepted, unless the actor may import into the project.

    `import_items` checks again inside its transaction; this only spares the
    server from receiving a file it would refuse.
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
    """The state of one import inside its transaction."""

    def __init__(
        self,
        session: Session,
        project: ProjectRef,
        options: ImportOptions,
        report: ImportReport,
        filename: str,
        batch_size: int,
    ) -> None:
        self.session = session
        self.project = project
        self.report = report
        self.filename = filename
        self.batch_size = batch_size
        self.store = ItemStore(session)
        schema = project.schema
        self.mapper = RowMapper(
            options, lambda annotation, content: validate_annotation(schema, annotation, content)
        )
        self.pending: dict[str, ItemRow] = {}
        self.routes = routes_of(project.definition.get("workflow", {}))
        self.keep_writing_after_errors = False
        self.batch = ImportBatch(
            project_id=project.id, source=filename, options=_options_dict(options)
        )
        session.add(self.batch)
        session.flush()

    def take(self, record: Record, rejects: _RejectsWriter) -> None:
        """Map one record; queue it for insert or reject it."""
        reasons: list[str]
        if record.error is not None or record.data is None:
            reasons = [record.error or "unreadable record"]
        else:
            try:
                row = self.mapper.map(record.data)
            except RowError as exc:
                reasons = exc.reasons
            else:
                # In abort mode, after a bad row nothing more is written: the rest
                # of the file is only checked, so every bad line gets reported.
                if self.keep_writing_after_errors or self.report.rejected == 0:
                    self._queue(row)
                return
        self.report.rejected += 1
        location = f"{self.filename}:{record.number}"
        for reason in reasons:
            if len(self.report.errors) < MAX_REPORTED_ERRORS:
                self.report.errors.append(FieldError("", reason, location))
        rejects.write(record, reasons)

    def _queue(self, row: ItemRow) -> None:
        if row.content_hash in self.pending:
            self.report.duplicates += 1
            return
        self.pending[row.content_hash] = row
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows (new ones only) with their pre-labels, gold and turns."""
        if not self.pending:
            return
        rows = list(self.pending.values())
        self.pending = {}
        needs_ids = any(r.prelabels or r.gold is not None or r.children for r in rows)
        if needs_ids:
            # Pre-labels, gold and turns attach to new items only; knowing which
            # rows are new takes one look-up per batch.
            existing = self.store.existing_hashes(self.project.id, [r.content_hash for r in rows])
            rows = [row for row in rows if row.content_hash not in existing]
        # The insert itself skips hashes already stored (ON CONFLICT DO NOTHING).
        inserted, ids = self.store.insert([self._new_item(r) for r in rows], needs_ids)
        self.report.duplicates += len(rows) - inserted + (len(existing) if needs_ids else 0)
        self.report.items_added += inserted
        if needs_ids:
            self._attach(rows, ids)

    def _new_item(
        self, row: ItemRow, parent_id: int | None = None, turn: int | None = None
    ) -> NewItem:
        status = "gold" if row.gold is not None else "decomposed" if row.children else "queued"
        return NewItem(
            project_id=self.project.id,
            kind=row.kind,
            content_json=orjson.dumps(row.content).decode(),
            content_hash=row.content_hash,
            metadata_json=orjson.dumps(row.metadata).decode(),
            external_id=row.external_id,
            parent_id=parent_id,
            turn_index=turn,
            status=status,
            priority=row.priority,
            is_gold=row.gold is not None,
            import_batch_id=self.batch.id,
            route_rule=match_route(self.routes, row.metadata) if self.routes else None,
        )

    def _attach(self, rows: list[ItemRow], ids: dict[str, int]) -> None:
        children: list[NewItem] = []
        for row in rows:
            item_id = ids.get(row.content_hash)
            if item_id is None:
                continue  # inserted concurrently by someone else: theirs, not ours
            for prelabel in row.prelabels:
                self.session.add(
                    Prelabel(
                        item_id=item_id,
                        model=prelabel.model,
                        annotation=prelabel.annotation,
                        confidence=prelabel.confidence,
                        schema_version=self.project.schema.version,
                    )
                )
                self.report.prelabels_added += 1
            if row.gold is not None:
                self.session.add(
                    GoldAnswer(
                        item_id=item_id,
                        answer=row.gold,
                        reason=row.gold_reason,
                        schema_version=self.project.schema.version,
                    )
                )
                self.report.gold_added += 1
            for turn, (content, digest) in enumerate(row.children):
                child = ItemRow(
                    kind="turn",
                    content=content,
                    content_hash=digest,
                    metadata=row.metadata,
                    external_id=row.external_id,
                    priority=row.priority,
                    prelabels=[],
                    gold=None,
                    gold_reason=None,
                    children=[],
                )
                children.append(self._new_item(child, item_id, turn))
        self.session.flush()
        added, _ = self.store.insert(children)
        self.report.child_items_added += added

    def finish(self, on_error: OnError, actor_id: int | None, source: str) -> None:
        """Record the batch's counts and the audit event."""
        report = self.report
        self.batch.rows_read = report.rows_read
        self.batch.items_added = report.items_added
        self.batch.duplicates = report.duplicates
        self.batch.rejected = report.rejected
        report.batch_id = self.batch.id
        record_event(
            self.session,
            "items.import",
            actor_id=actor_id,
            project_id=self.project.id,
            target=f"import:{self.batch.id}",
            details={
                "source": report.source,
                "on_error": on_error,
                "rows_read": report.rows_read,
                "items_added": report.items_added,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
            },
            source=source,
        )


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
