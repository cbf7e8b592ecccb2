"""Project use cases: create a project from its definition, look one up, list them."""

from __future__ import annotations

import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotary.core.plugins.registry import Plugins
from annotary.core.project import ProjectDefinition, ProjectRef, parse_project
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.yamlfile import load_yaml
from annotary.errors import (
    E_PROJECT_EXISTS,
    E_PROJECT_FILE_INVALID,
    E_PROJECT_NOT_FOUND,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    quote,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_admin
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import (
    GuidelineVersion,
    Membership,
    Project,
    ProjectSecret,
    SchemaVersion,
)
from annotary.storage.project_store import add_revision


def create_project(
    db: Database,
    definition: ProjectDefinition,
    actor_id: int | None = None,
    *,
    actor: Actor | None = None,
) -> ProjectRef:
    """Store a new project with schema and guidelines as version 1 (or as declared).

    With an `actor` (the API) only a global admin may do this; without one the
    caller is the trusted local CLI.
    """
    if actor is not None:
        require_admin(actor)
        actor_id = actor.user_id
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
                schema_version=definition.schema_.version,
                guideline_version=definition.guidelines.version,
            )
            session.add(project)
            session.flush()
            session.add(ProjectSecret(project_id=project.id))
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
            add_revision(session, project, 1, actor_id)
            record_event(
                session,
                "project.create",
                actor_id=actor_id,
                project_id=project.id,
                target=f"project:{definition.name}",
                details={"schema_version": schema.version},
                source=actor.source if actor else "cli",
            )
            return ProjectRef(
                project.id,
                project.name,
                project.item_kind,
                schema,
                definition.guidelines.version,
                settings,
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
        raise NotFound(E_PROJECT_NOT_FOUND, f"no project named {quote(name)}{hint}")
    schema = current_schema(session, project)
    guideline_version = project.guideline_version
    return ProjectRef(
        project.id,
        project.name,
        project.item_kind,
        schema,
        guideline_version,
        project.definition,
    )


def current_schema(session: Session, project: Project) -> AnnotationSchema:
    """The project's current schema."""
    return schema_at(session.connection(), project.id, project.schema_version)


def schema_at(conn: Connection, project_id: int, version: int) -> AnnotationSchema:
    """Version `version` of the project's schema.

    A stored schema version never changes, so each engine remembers the ones it
    has read: the hot paths (next task, submit) need no query for it.
    """
    known = _SCHEMAS.setdefault(conn.engine, {})
    key = (project_id, version)
    schema = known.get(key)
    if schema is None:
        definition = conn.execute(_SCHEMA_DEFINITION, {"p": project_id, "v": version}).scalar()
        assert definition is not None  # written with the project and with every new version
        schema = known[key] = schema_from_definition(definition)
    return schema


_SCHEMAS: weakref.WeakKeyDictionary[Any, dict[tuple[int, int], AnnotationSchema]] = (
    weakref.WeakKeyDictionary()
)


_SCHEMA_DEFINITION = select(SchemaVersion.definition).where(
    SchemaVersion.project_id == bindparam("p"), SchemaVersion.version == bindparam("v")
)


def schema_from_definition(definition: dict[str, Any]) -> AnnotationSchema:
    """The schema model for a stored definition; parsed once per distinct definition.

    Schema versions never change once stored, so the hot paths (next task,
    submit) need not re-validate the same definition on every request.
    """
    return _parse_schema(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=128)
def _parse_schema(canonical: bytes) -> AnnotationSchema:
    return AnnotationSchema.model_validate_json(canonical)


def create_project_from_text(
    db: Database,
    actor: Actor,
    yaml_text: str,
    guidelines_text: str | None = None,
    filename: str = "project.yaml",
) -> ProjectRef:
    """Create a project from uploaded YAML (global admins only)."""
    require_admin(actor)
    definition = parse_upload(yaml_text, guidelines_text, filename, db.plugins)
    return create_project(db, definition, actor=actor)


def parse_upload(
    yaml_text: str,
    guidelines_text: str | None = None,
    filename: str = "project.yaml",
    plugins: Plugins | None = None,
) -> ProjectDefinition:
    """Validate an uploaded project file (for create and update); consensus methods
    are checked against `plugins` (None: the default plugins).

    An uploaded file cannot point at files on the server: a `guidelines.path`
    is answered from `guidelines_text` (the content of that file), else it is
    an error.
    """
    data, lines = load_yaml(yaml_text, filename)
    declared = data.get("guidelines") if isinstance(data, dict) else None
    with tempfile.TemporaryDirectory(prefix="annotary-project-") as folder:
        if isinstance(declared, dict) and declared.get("path") is not None:
            _place_uploaded_guidelines(
                Path(folder), declared["path"], guidelines_text, filename, lines
            )
        return parse_project(yaml_text, filename, Path(folder), plugins)


def _place_uploaded_guidelines(
    folder: Path,
    declared: object,
    guidelines_text: str | None,
    filename: str,
    lines: dict[tuple[str | int, ...], int],
) -> None:
    """Write the uploaded guidelines where the file's `guidelines.path` points, inside
    `folder`; refuse a path that is not plain, relative and inside it (E101)."""
    line = lines.get(("guidelines", "path"))
    where = f"{filename}:{line}" if line else filename
    target = folder / str(declared)
    if not _plain_relative(declared, folder) or guidelines_text is None:
        raise Invalid(
            E_PROJECT_FILE_INVALID,
            f"{filename}: guidelines must come with the upload",
            [
                FieldError(
                    "guidelines.path",
                    "an uploaded project cannot read files on the server; inline the "
                    "guidelines, or give a relative file name and send the file's text in "
                    "the 'guidelines' field",
                    where,
                )
            ],
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(guidelines_text, encoding="utf-8")
    except (OSError, ValueError) as exc:  # a name too long, a NUL character
        raise Invalid(
            E_PROJECT_FILE_INVALID,
            f"{filename}: guidelines.path is not a usable file name",
            [FieldError("guidelines.path", f"cannot be used as a file name ({exc})", where)],
        ) from None


def _plain_relative(declared: object, folder: Path) -> bool:
    """Whether `declared` is a relative file name that stays inside `folder`."""
    if not isinstance(declared, str) or not declared.strip():
        return False
    relative = PurePosixPath(declared)
    if relative.is_absolute() or ".." in relative.parts:
        return False
    try:
        resolved, base = (folder / declared).resolve(), folder.resolve()
    except (OSError, ValueError):
        return False
    return resolved != base and resolved.is_relative_to(base)


@dataclass(frozen=True)
class ProjectSummary:
    """A project in a list: what it is and the caller's role in it."""

    name: str
    title: str | None
    item_kind: str
    role: str | None
    """The caller's role; None for an admin who is not a member."""
    created_at: datetime


@dataclass(frozen=True)
class GuidelinesInfo:
    """One version of a project's guidelines (text only for the current one)."""

    version: int
    created_at: datetime


@dataclass
class ProjectDetail:
    """What any member may see of a project: never gold answers or annotations."""

    name: str
    title: str | None
    item_kind: str
    role: str | None
    objective: dict[str, Any]
    schema_version: int
    schema: dict[str, Any]
    guideline_version: int
    guidelines: str
    guideline_versions: list[GuidelinesInfo]
    workflow: dict[str, Any]
    confidentiality_terms: str | None
    terms_accepted_at: datetime | None
    created_at: datetime
    export: dict[str, Any] = field(default_factory=dict)


GOLD_SETTINGS = (
    "gold_rate",
    "qualification",
    "min_gold_accuracy",
    "min_gold_count",
    "review_sampling_rate",
)
"""Workflow settings about gold checks and review sampling: only managers and
admins see them in the project view (SPEC 5: gold is indistinguishable)."""


def list_projects(db: Database, actor: Actor) -> list[ProjectSummary]:
    """Projects the actor is a member of (admins: every project), by name."""
    with read_session(db.sessions) as session:
        roles = dict(
            session.execute(
                select(Membership.project_id, Membership.role).where(
                    Membership.user_id == actor.user_id
                )
            )
            .tuples()
            .all()
        )
        query = select(Project).order_by(Project.name)
        if not actor.is_admin:
            query = query.where(Project.id.in_(roles.keys()))
        return [
            ProjectSummary(p.name, p.title, p.item_kind, roles.get(p.id), _utc(p.created_at))
            for p in session.scalars(query)
        ]


def project_detail(db: Database, actor: Actor, name: str) -> ProjectDetail:
    """A project's schema, current guidelines and settings, for any member."""
    with read_session(db.sessions) as session:
        project = project_for(session, actor, name)
        membership = session.scalar(
            select(Membership).where(
                Membership.project_id == project.id, Membership.user_id == actor.user_id
            )
        )
        schema_row = session.scalar(
            select(SchemaVersion)
            .where(SchemaVersion.project_id == project.id)
            .order_by(SchemaVersion.version.desc())
            .limit(1)
        )
        guideline_rows = session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.project_id == project.id)
            .order_by(GuidelineVersion.version)
        ).all()
        assert schema_row is not None and guideline_rows  # written with the project
        current = guideline_rows[-1]
        settings = project.definition
        workflow = dict(settings.get("workflow") or {})
        if not actor.is_admin and (membership is None or membership.role != MANAGER):
            for key in GOLD_SETTINGS:  # those served tasks learn nothing about gold
                workflow.pop(key, None)
        return ProjectDetail(
            name=project.name,
            title=project.title,
            item_kind=project.item_kind,
            role=membership.role if membership else None,
            objective=dict(settings.get("objective") or {}),
            schema_version=schema_row.version,
            schema=schema_row.definition,
            guideline_version=current.version,
            guidelines=current.text,
            guideline_versions=[
                GuidelinesInfo(row.version, _utc(row.created_at)) for row in guideline_rows
            ],
            workflow=workflow,
            confidentiality_terms=workflow.get("confidentiality_terms"),
            terms_accepted_at=_utc(membership.terms_accepted_at)
            if membership and membership.terms_accepted_at
            else None,
            created_at=_utc(project.created_at),
            export=dict(settings.get("export") or {}),
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
