"""Project use cases: create a project from its definition, look one up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotary.core.project import ProjectDefinition
from annotary.core.schema.fields import AnnotationSchema
from annotary.errors import E_PROJECT_EXISTS, E_PROJECT_NOT_FOUND, Conflict, NotFound
from annotary.services.audit import record_event
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import GuidelineVersion, Project, SchemaVersion


@dataclass(frozen=True)
class ProjectRef:
    """What callers need to know about a stored project."""

    id: int
    name: str
    item_kind: str
    schema: AnnotationSchema
    guideline_version: int


def create_project(
    db: Database, definition: ProjectDefinition, actor_id: int | None = None
) -> ProjectRef:
    """Store a new project with schema and guidelines as version 1 (or as declared)."""
    settings = definition.model_dump(
        mode="json", by_alias=True, exclude={"schema_", "guidelines", "name", "title"}
    )
    try:
        with write_transaction(db.sessions) as session:
            if session.scalar(select(Project.id).where(Project.name == definition.name)):
                raise _exists(definition.name)
            project = Project(
                name=definition.name,
                title=definition.title,
                item_kind=definition.item_kind,
                definition=settings,
            )
            session.add(project)
            session.flush()
            schema = definition.schema_
            session.add(
                SchemaVersion(
                    project_id=project.id,
                    version=schema.version,
                    definition=schema.model_dump(mode="json", by_alias=True, exclude_none=True),
                )
            )
            session.add(
                GuidelineVersion(
                    project_id=project.id,
                    version=definition.guidelines.version,
                    text=definition.guidelines.text or "",
                )
            )
            record_event(
                session,
                "project.create",
                actor_id=actor_id,
                project_id=project.id,
                target=f"project:{definition.name}",
                details={"schema_version": schema.version},
            )
            return ProjectRef(
                project.id,
                project.name,
                project.item_kind,
                schema,
                definition.guidelines.version,
            )
    except IntegrityError as exc:  # a concurrent create of the same name
        raise _exists(definition.name) from exc


def _exists(name: str) -> Conflict:
    return Conflict(
        E_PROJECT_EXISTS, f"a project named {name!r} already exists; choose another name"
    )


def get_project(session: Session, name: str) -> ProjectRef:
    """The project called `name` with its current schema (NotFound if none)."""
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        known = session.scalars(select(Project.name).order_by(Project.name).limit(20)).all()
        hint = f"; known projects: {', '.join(known)}" if known else "; no projects exist yet"
        raise NotFound(E_PROJECT_NOT_FOUND, f"no project named {name!r}{hint}")
    schema_row = session.scalar(
        select(SchemaVersion)
        .where(SchemaVersion.project_id == project.id)
        .order_by(SchemaVersion.version.desc())
        .limit(1)
    )
    guideline_version = session.scalar(
        select(GuidelineVersion.version)
        .where(GuidelineVersion.project_id == project.id)
        .order_by(GuidelineVersion.version.desc())
        .limit(1)
    )
    assert schema_row is not None and guideline_version is not None  # written with the project
    schema = AnnotationSchema.model_validate(schema_row.definition)
    return ProjectRef(project.id, project.name, project.item_kind, schema, guideline_version)
