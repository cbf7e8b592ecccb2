"""Project versions (SPEC 1, 2, 8): update a stored project from its file
(the diff of two stored revisions is `project_revisions`).

An update makes a new schema version when the fields changed and a new
guideline version when the text changed (nothing new when they did not),
replaces the other settings, and records the project's new state as a
revision. Before it applies, every stored annotation, gold answer, pre-label
and final label is checked against the new schema in the fields the update
touches; values that would no longer validate are listed, and the update
needs a confirmation.

The check reads in its own transaction and the update writes in a short one
that first makes sure the project has not changed meanwhile; an annotation
submitted between the two was validated against the version it was served
under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from annotary.core.plugins.registry import Plugins
from annotary.core.project import ProjectDefinition
from annotary.core.project_diff import (
    ProjectDiff,
    UpdatePlan,
    VersionRef,
    diff_settings,
    stored_settings,
)
from annotary.core.schema.diff import diff_guidelines, diff_schemas, same_definition
from annotary.core.schema.fields import AnnotationSchema
from annotary.core.schema.recheck import Tally, check_values, recheck
from annotary.errors import (
    E_ITEM_KIND_LOCKED,
    E_PROJECT_CHANGED,
    E_PROJECT_NAME_MISMATCH,
    E_PROJECT_NOT_FOUND,
    E_UPDATE_INVALIDATES,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.projects import parse_upload, schema_at
from annotary.services.queue.finalize import finalize_if_complete
from annotary.services.queue.workflow import queue_rules
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import Project
from annotary.storage.project_store import (
    RECORDS,
    add_guideline_version,
    add_revision,
    add_schema_version,
    apply_settings,
    count_items,
    count_queued_at,
    guideline_text,
    latest_revision_number,
    latest_versions,
    project_by_name,
    queued_items_at,
    stored_values,
)

MAX_AUDITED_CHANGES = 50
"""Schema changes written into the audit event (the count is always there)."""


@dataclass(frozen=True)
class _Base:
    """The state an update plan was made against; the update applies only to it."""

    revision: int
    schema_version: int
    guideline_version: int
    title: str | None
    definition: dict[str, Any]


@dataclass(frozen=True)
class _Plan:
    plan: UpdatePlan
    base: _Base
    new_schema: AnnotationSchema
    guidelines: str


def plan_update(
    db: Database,
    definition: ProjectDefinition,
    *,
    actor: Actor | None = None,
    name: str | None = None,
) -> UpdatePlan:
    """What updating the project to `definition` would do (nothing is written).

    `name` is the project the caller means (the API path); the file must name the
    same one. With an `actor`, only the project's managers and admins may.
    """
    with read_session(db.sessions) as session:
        return _plan(session, definition, actor, name).plan


def update_project(
    db: Database,
    definition: ProjectDefinition,
    *,
    actor: Actor | None = None,
    name: str | None = None,
    confirm: bool = False,
) -> UpdatePlan:
    """Update a project to `definition`; the returned plan says what was done
    (`revision` is None when nothing changed).

    Refused (Conflict E422, every invalid value counted, the first ones listed)
    when stored values would no longer validate, unless `confirm`.
    """
    with read_session(db.sessions) as session:
        planned = _plan(session, definition, actor, name)
    plan = planned.plan
    if not plan.changed:
        return plan
    if plan.invalidates and not confirm:
        raise invalidation_error(plan)
    with write_transaction(db.sessions) as session:
        project = project_by_name(session, definition.name, lock=True)
        if project is None or _base(session, project) != planned.base:
            raise Conflict(
                E_PROJECT_CHANGED,
                f"project {definition.name!r} changed while the update was being checked; "
                "run the update again",
            )
        plan.revision = _apply(session, project, planned, definition, actor, db.plugins)
        record_event(
            session,
            "project.update",
            actor_id=actor.user_id if actor else None,
            project_id=project.id,
            target=f"project:{project.name}",
            details=_audit_details(plan, confirm),
            source=actor.source if actor else "cli",
        )
    return plan


def update_project_from_text(
    db: Database,
    actor: Actor,
    name: str,
    yaml_text: str,
    guidelines_text: str | None = None,
    *,
    confirm: bool = False,
    dry_run: bool = False,
) -> UpdatePlan:
    """Update project `name` from an uploaded file (its managers and admins)."""
    with read_session(db.sessions) as session:
        # Access first: a non-member learns nothing from a file's errors.
        visible_project(session, name, actor)
    definition = parse_upload(yaml_text, guidelines_text, plugins=db.plugins)
    if dry_run:
        return plan_update(db, definition, actor=actor, name=name)
    return update_project(db, definition, actor=actor, name=name, confirm=confirm)


def invalidation_error(plan: UpdatePlan) -> Conflict:
    """The refusal of an update that would invalidate stored values: one detail per
    kind and field with its count, then the first invalid values."""
    details = [
        FieldError(field, f"{count} {tally.record}(s) no longer validate", "summary")
        for tally in plan.invalidated
        for field, count in tally.by_field.items()
    ]
    details.extend(e.to_field_error() for t in plan.invalidated for e in t.examples)
    return Conflict(
        E_UPDATE_INVALIDATES,
        f"the update of {plan.project!r} would invalidate stored values ({plan.summary()}); "
        "confirm to apply it anyway (CLI: --yes; API: ?confirm=true)",
        details,
    )


def _plan(
    session: Session, definition: ProjectDefinition, actor: Actor | None, name: str | None
) -> _Plan:
    if name is not None and name != definition.name:
        raise Invalid(
            E_PROJECT_NAME_MISMATCH,
            f"the file is for project {definition.name!r}, not {name!r}",
            [FieldError("name", f"must be {name!r}: a project's name cannot change")],
        )
    project = visible_project(session, definition.name, actor)
    base = _base(session, project)
    if definition.item_kind != project.item_kind and count_items(session, project.id):
        raise Invalid(
            E_ITEM_KIND_LOCKED,
            f"item_kind cannot change from {project.item_kind!r} to {definition.item_kind!r}: "
            "the project already has items",
            [FieldError("item_kind", f"must stay {project.item_kind!r}")],
        )
    current = schema_at(session.connection(), project.id, project.schema_version)
    latest_schema, latest_guidelines = latest_versions(session, project.id)
    new_schema_version = project.schema_version
    schema_changed = not same_definition(current, definition.schema_)
    if schema_changed:
        new_schema_version = latest_schema + 1
    new_schema = definition.schema_.model_copy(update={"version": new_schema_version})
    old_text = guideline_text(session, project.id, project.guideline_version) or ""
    new_text = definition.guidelines.text or ""
    new_guideline_version = project.guideline_version
    if new_text != old_text:
        new_guideline_version = latest_guidelines + 1
    diff = ProjectDiff(
        VersionRef(base.revision, project.schema_version, project.guideline_version),
        VersionRef(None, new_schema_version, new_guideline_version),
        schema=diff_schemas(current, new_schema) if schema_changed else None,
        guidelines=diff_guidelines(
            old_text, new_text, project.guideline_version, new_guideline_version
        ),
        settings=diff_settings(
            {**project.definition, "title": project.title},
            {**stored_settings(definition), "title": definition.title},
        ),
    )
    plan = UpdatePlan(
        project.name,
        diff,
        new_schema=schema_changed,
        new_guidelines=new_text != old_text,
        invalidated=_check_stored(session, project.id, current, new_schema)
        if schema_changed
        else [],
    )
    plan.warnings = _warnings(session, project, definition)
    return _Plan(plan, base, new_schema, new_text)


def _warnings(session: Session, project: Project, definition: ProjectDefinition) -> list[str]:
    """Settings changes whose effect on stored items the update does not carry out."""
    warnings = []
    workflow = project.definition.get("workflow") or {}
    old_routing = workflow.get("routing") or []
    new_routing = stored_settings(definition)["workflow"]["routing"]
    if old_routing != new_routing and count_items(session, project.id):
        warnings.append(
            "workflow.routing changed: stored items keep the routing rule they matched on "
            "import or escalation (rules are matched by position); new items follow the new rules"
        )
    overlap = definition.workflow.overlap
    if overlap < workflow.get("overlap", 1):
        complete = count_queued_at(session, project.id, overlap)
        if complete:
            warnings.append(
                f"workflow.overlap lowered to {overlap}: {complete} queued item(s) already have "
                "that many annotations; the update aggregates them (finalized, or sent to "
                "adjudication below the agreement threshold)"
            )
    return warnings


def _settle_complete(
    session: Session, project: Project, schema: AnnotationSchema, plugins: Plugins
) -> int:
    """Aggregate the queued items that a lowered overlap completes (no one will
    submit to them again); the number aggregated."""
    items = queued_items_at(session, project.id, queue_rules(project).overlap)
    for item in items:
        finalize_if_complete(session, project, item, schema, plugins)
    return len(items)


def _check_stored(
    session: Session, project_id: int, current: AnnotationSchema, new: AnnotationSchema
) -> list[Tally]:
    """Every stored value checked in the fields the change from `current` touches.

    A value already invalid before (made under an even older version, in a field
    this update leaves alone) is not counted: this update does not invalidate it.
    """
    check = recheck(current, new)
    if not check.needed:
        return []
    return [
        check_values(
            check,
            record,
            (
                [(v.record_id, v.item_id, v.external_id, v.payload, v.item) for v in chunk]
                for chunk in stored_values(session, project_id, record, with_items=check.needs_item)
            ),
        )
        for record in RECORDS
    ]


def _apply(
    session: Session,
    project: Project,
    planned: _Plan,
    definition: ProjectDefinition,
    actor: Actor | None,
    plugins: Plugins,
) -> int:
    """Write the new versions, settings and revision; the revision's number."""
    plan = planned.plan
    if plan.new_schema:
        schema = planned.new_schema
        add_schema_version(
            session,
            project.id,
            schema.version,
            schema.model_dump(mode="json", by_alias=True, exclude_none=True),
        )
    if plan.new_guidelines:
        add_guideline_version(
            session, project.id, plan.diff.after.guideline_version, planned.guidelines
        )
    session.flush()
    apply_settings(
        session,
        project,
        title=definition.title,
        item_kind=definition.item_kind,
        definition=stored_settings(definition),
        schema_version=plan.diff.after.schema_version,
        guideline_version=plan.diff.after.guideline_version,
    )
    number = planned.base.revision + 1
    add_revision(session, project, number, actor.user_id if actor else None)
    if definition.workflow.overlap < planned.base.definition.get("workflow", {}).get("overlap", 1):
        plan.settled = _settle_complete(session, project, planned.new_schema, plugins)
    return number


def _audit_details(plan: UpdatePlan, confirmed: bool) -> dict[str, Any]:
    diff = plan.diff
    changes = [str(c) for c in diff.schema.changes] if diff.schema else []
    return {
        "revision": plan.revision,
        "schema_version": [diff.before.schema_version, diff.after.schema_version]
        if plan.new_schema
        else None,
        "guideline_version": [diff.before.guideline_version, diff.after.guideline_version]
        if plan.new_guidelines
        else None,
        "schema_changes": changes[:MAX_AUDITED_CHANGES],
        "schema_change_count": len(changes),
        "settings": [c.path for c in diff.settings],
        "invalidated": {t.record: t.invalid for t in plan.invalidated if t.invalid},
        "settled": plan.settled,
        "confirmed": confirmed,
    }


def visible_project(
    session: Session,
    name: str,
    actor: Actor | None,
    roles: frozenset[str] | None = frozenset({MANAGER}),
) -> Project:
    """The project; with an actor, only if they may see it (and have one of `roles`)."""
    if actor is not None:
        project = project_for(session, actor, name)
        if roles is not None:
            require_role(session, actor, project, roles)
        return project
    found = project_by_name(session, name)
    if found is None:
        raise NotFound(E_PROJECT_NOT_FOUND, f"no project named {name!r}")
    return found


def _base(session: Session, project: Project) -> _Base:
    return _Base(
        latest_revision_number(session, project.id),
        project.schema_version,
        project.guideline_version,
        project.title,
        dict(project.definition),
    )
