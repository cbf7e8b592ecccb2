"""Reads and writes of a project's versions: revisions, schema and guideline
versions, and the stored values (annotations, gold answers, pre-labels, final
labels) an update has to check again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from annotary.storage.models import (
    Annotation,
    FinalLabel,
    GoldAnswer,
    GuidelineVersion,
    Item,
    Prelabel,
    Project,
    ProjectRevision,
    SchemaVersion,
    utcnow,
)

CHUNK: Final = 5_000
"""Stored values read per round trip while checking them."""


def project_by_name(session: Session, name: str, *, lock: bool = False) -> Project | None:
    """The project called `name`; `lock` takes its row lock (PostgreSQL) so two
    updates of one project run one after the other."""
    query = select(Project).where(Project.name == name)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def schema_definitions(session: Session, project_id: int) -> dict[int, dict[str, Any]]:
    """Every stored schema version of a project: version -> definition."""
    rows = session.execute(
        select(SchemaVersion.version, SchemaVersion.definition).where(
            SchemaVersion.project_id == project_id
        )
    )
    return dict(rows.tuples().all())


def guideline_text(session: Session, project_id: int, version: int) -> str | None:
    """The text of one guidelines version (None if there is no such version)."""
    return session.scalar(
        select(GuidelineVersion.text).where(
            GuidelineVersion.project_id == project_id, GuidelineVersion.version == version
        )
    )


def revisions(session: Session, project_id: int) -> list[ProjectRevision]:
    """Every revision of a project, oldest first."""
    return list(
        session.scalars(
            select(ProjectRevision)
            .where(ProjectRevision.project_id == project_id)
            .order_by(ProjectRevision.revision)
        )
    )


def revision_of(session: Session, project_id: int, number: int) -> ProjectRevision | None:
    """One revision of a project."""
    return session.scalar(
        select(ProjectRevision).where(
            ProjectRevision.project_id == project_id, ProjectRevision.revision == number
        )
    )


def latest_revision_number(session: Session, project_id: int) -> int:
    """The number of the project's latest revision (0 if none is stored)."""
    latest = session.scalar(
        select(func.max(ProjectRevision.revision)).where(ProjectRevision.project_id == project_id)
    )
    return int(latest or 0)


def add_revision(session: Session, project: Project, number: int, actor_id: int | None) -> None:
    """Record the project's current state as revision `number`."""
    session.add(
        ProjectRevision(
            project_id=project.id,
            revision=number,
            schema_version=project.schema_version,
            guideline_version=project.guideline_version,
            title=project.title,
            definition=project.definition,
            created_by=actor_id,
        )
    )


def add_schema_version(
    session: Session, project_id: int, version: int, definition: dict[str, Any]
) -> None:
    """Store a new schema version."""
    session.add(SchemaVersion(project_id=project_id, version=version, definition=definition))


def add_guideline_version(session: Session, project_id: int, version: int, text: str) -> None:
    """Store a new guidelines version."""
    session.add(GuidelineVersion(project_id=project_id, version=version, text=text))


def latest_versions(session: Session, project_id: int) -> tuple[int, int]:
    """The highest stored schema and guideline version numbers."""
    schema = session.scalar(
        select(func.max(SchemaVersion.version)).where(SchemaVersion.project_id == project_id)
    )
    guidelines = session.scalar(
        select(func.max(GuidelineVersion.version)).where(GuidelineVersion.project_id == project_id)
    )
    return int(schema or 0), int(guidelines or 0)


def apply_settings(
    session: Session,
    project: Project,
    *,
    title: str | None,
    item_kind: str,
    definition: dict[str, Any],
    schema_version: int,
    guideline_version: int,
) -> None:
    """Make the given settings and versions the project's current ones."""
    project.title = title
    project.item_kind = item_kind
    project.definition = definition
    project.schema_version = schema_version
    project.guideline_version = guideline_version
    project.updated_at = utcnow()


def count_items(session: Session, project_id: int) -> int:
    """How many items the project holds."""
    return int(
        session.scalar(select(func.count()).select_from(Item).where(Item.project_id == project_id))
        or 0
    )


def _queued_at(project_id: int, overlap: int) -> Any:
    return (
        Item.project_id == project_id,
        Item.status == "queued",
        Item.is_gold.is_(False),
        Item.lease_count == 0,
        Item.annotation_count >= overlap,
    )


def count_queued_at(session: Session, project_id: int, overlap: int) -> int:
    """Queued items, leased by no one, that already have `overlap` annotations or more."""
    query = select(func.count()).select_from(Item).where(*_queued_at(project_id, overlap))
    return int(session.scalar(query) or 0)


def queued_items_at(session: Session, project_id: int, overlap: int) -> list[Item]:
    """Those items, locked (PostgreSQL) so that no claim or submit interleaves."""
    query = select(Item).where(*_queued_at(project_id, overlap)).order_by(Item.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return list(session.scalars(query))


@dataclass(frozen=True)
class StoredValue:
    """One stored payload to check: what it is, where, under which schema version."""

    record_id: int
    item_id: int
    external_id: str | None
    schema_version: int | None
    """None where the record does not say (final labels)."""
    payload: Any
    item: dict[str, Any] | None
    """The item content, when asked for."""


RECORDS: Final = ("annotation", "gold answer", "pre-label", "final label")
"""The kinds of stored values an update checks, in report order."""


def stored_values(
    session: Session, project_id: int, record: str, *, with_items: bool
) -> Iterator[list[StoredValue]]:
    """The project's stored values of one kind (see `RECORDS`), in chunks of `CHUNK`."""
    record_id, item_id, payload, version = _VALUES[record]
    columns: list[Any] = [record_id, item_id, payload, version, Item.external_id]
    if with_items:
        columns.append(Item.content)
    statement = (
        select(*columns)
        .join(Item, Item.id == item_id)
        .where(Item.project_id == project_id)
        .order_by(record_id)
    )
    result = session.execute(statement.execution_options(yield_per=CHUNK))
    for rows in result.partitions():
        yield [
            StoredValue(
                record_id=row[0],
                item_id=row[1],
                external_id=row[4],
                schema_version=row[3],
                payload=row[2],
                item=row[5] if with_items else None,
            )
            for row in rows
        ]


_VALUES: Final[dict[str, tuple[Any, Any, Any, Any]]] = {
    "annotation": (
        Annotation.id,
        Annotation.item_id,
        Annotation.payload,
        Annotation.schema_version,
    ),
    "gold answer": (
        GoldAnswer.id,
        GoldAnswer.item_id,
        GoldAnswer.answer,
        GoldAnswer.schema_version,
    ),
    "pre-label": (Prelabel.id, Prelabel.item_id, Prelabel.annotation, Prelabel.schema_version),
    "final label": (FinalLabel.id, FinalLabel.item_id, FinalLabel.payload, null()),
}
