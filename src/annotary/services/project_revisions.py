"""Project revisions (SPEC 8): what changed between any two stored states of a
project — the schema field by field, the guidelines as a text diff, the settings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from annotary.core.project_diff import ProjectDiff, VersionRef, diff_settings
from annotary.core.schema.diff import diff_guidelines, diff_schemas
from annotary.errors import E_REVISION_NOT_FOUND, NotFound
from annotary.services.identity.access import Actor
from annotary.services.project_versions import visible_project
from annotary.services.projects import schema_from_definition
from annotary.storage.db import Database, read_session
from annotary.storage.models import Project, ProjectRevision
from annotary.storage.project_store import (
    guideline_text,
    revision_of,
    revisions,
    schema_definitions,
)


def diff_revisions(
    db: Database,
    name: str,
    *,
    actor: Actor | None = None,
    before: int | None = None,
    after: int | None = None,
) -> ProjectDiff:
    """What changed from revision `before` to revision `after` of a project
    (default: the latest revision against the one before it). Any member may see it."""
    with read_session(db.sessions) as session:
        project = visible_project(session, name, actor, roles=None)
        stored = revisions(session, project.id)
        last = stored[-1].revision if stored else 1
        after = last if after is None else after
        before = max(after - 1, 1) if before is None else before
        old, new = (
            _revision(session, project, before, last),
            _revision(session, project, after, last),
        )
        definitions = schema_definitions(session, project.id)
        diff = ProjectDiff(_ref(old), _ref(new))
        if old.schema_version != new.schema_version:
            old_schema = schema_from_definition(definitions[old.schema_version])
            new_schema = schema_from_definition(definitions[new.schema_version])
            diff.schema = diff_schemas(old_schema, new_schema)
        if old.guideline_version != new.guideline_version:
            diff.guidelines = diff_guidelines(
                guideline_text(session, project.id, old.guideline_version) or "",
                guideline_text(session, project.id, new.guideline_version) or "",
                old.guideline_version,
                new.guideline_version,
            )
        diff.settings = diff_settings(
            {**old.definition, "title": old.title}, {**new.definition, "title": new.title}
        )
        return diff


def _revision(session: Session, project: Project, number: int, last: int) -> ProjectRevision:
    found = revision_of(session, project.id, number)
    if found is None:
        raise NotFound(
            E_REVISION_NOT_FOUND,
            f"project {project.name!r} has no revision {number}; it has revisions 1 to {last}",
        )
    return found


def _ref(revision: ProjectRevision) -> VersionRef:
    return VersionRef(revision.revision, revision.schema_version, revision.guideline_version)
