"""Re-queue items annotated under an older version, for the changed fields only
(SPEC 8), and cancel such a rework.

Selection: every annotation made under an older schema version (or, when the
manager names fields, an older schema *or guideline* version) on an item that
is queued, in adjudication or review, or finalized, and that no one holds a
lease on. For each annotation, `core.rework.RedoRule` says which fields its
author redoes: those whose value space changed and that it answered, fields
added since that apply to it, fields that no longer validate, and the named
fields. An item with any such annotation moves to status `rework` and keeps
its final label (as `previous_final`) until the rework completes.

The queue serves the work (`services.queue.rework_tasks`):

- serve: after the caller's live lease and the gates (terms, pause,
  qualification), before gold and new items, an open `rework_annotations` row
  of the caller whose rework is open and whose item is in `rework`: the item
  is leased (counted in `lease_count`, swept like any lease) and the task
  carries `rework = {"fields": row.fields, "previous": {f: row.previous_payload[f]}}`
  and the current schema and guideline versions. The project's routing must
  still let the author take the item, else the row is dropped;
- submit on a lease of an item in `rework`: the answer holds only those
  fields; `core.rework.merge_answer(schema, stored payload, fields, answer,
  item)` gives the merged payload or the errors (422 E201). It is stored in
  the annotation row (payload, schema_version, guideline_version = current),
  the row is `done`, the lease turned in. A skip (or flags alone) marks it
  `dropped`;
- complete, in the same transaction with the item row locked, when no row of
  the rework is `open`: previous status `queued` -> back to `queued`;
  `adjudication` -> `settle` over all answers; `finalized`/`review` -> the
  consensus of the `done` annotations over the rework's fields only,
  `core.rework.refinalize` (final label = `merge_final(previous final
  payload, consensus, fields)`, with method, confidence and agreement of the
  redone fields and the kept fields' per-field record), status finalized (or
  review when sampled); below the threshold -> `adjudication` without a final
  label, the case showing `previous_final`. Every row `dropped` -> back to the
  previous status, final label untouched. Then the rework is `done`.

People who stop working on the project (deactivated, removed) have their open
rows dropped at once, so no rework waits for them. `cancel_rework` gives back
the leases on the items in rework (a submit on one is then refused, E801) and
puts the items back as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from annotary.core.project import ProjectRef
from annotary.core.rework import RedoRule, ReworkExample, ReworkPlan, redo_rule
from annotary.errors import E_REWORK_FIELD_UNKNOWN, FieldError, Invalid
from annotary.services.audit import record_event
from annotary.services.identity.access import MANAGER, Actor, project_for, require_role
from annotary.services.projects import get_project, schema_from_definition
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.project_store import schema_definitions
from annotary.storage.rework_store import (
    REWORKABLE,
    Candidate,
    add_rework,
    cancel_open_reworks,
    final_labels_of,
    older_annotations,
    take_items,
)


def requeue_for_rework(
    db: Database,
    name: str,
    *,
    actor: Actor | None = None,
    fields: Sequence[str] | None = None,
    dry_run: bool = False,
) -> ReworkPlan:
    """Send the items annotated under older versions back for the changed fields
    (or the named `fields`) to be redone under the current versions; with
    `dry_run`, only say what would be sent. Managers and admins."""
    if dry_run:
        with read_session(db.sessions) as session:
            return _select(session, name, actor, fields)[0]
    with write_transaction(db.sessions) as session:
        plan, work = _select(session, name, actor, fields)
        project = get_project(session, name)
        taken = take_items(
            session, {item: chosen[0][0].item_status for item, chosen in work.items()}
        )
        finals = final_labels_of(session, taken)
        plan.skipped["changed meanwhile"] = len(work) - len(taken)
        plan.annotations -= sum(
            c.author_active for item, cands in work.items() if item not in taken for c, _ in cands
        )
        plan.items = len(taken)
        for item_id in sorted(taken):
            chosen = work[item_id]
            union = [f.name for f in project.schema.fields if any(f.name in r for _, r in chosen)]
            add_rework(
                session,
                project_id=project.id,
                item_id=item_id,
                fields=union,
                schema_version=project.schema.version,
                guideline_version=project.guideline_version,
                previous_status=chosen[0][0].item_status,
                previous_final=finals.get(item_id),
                requested_by=actor.user_id if actor else None,
                annotations=chosen,
            )
        plan.skipped = {k: v for k, v in plan.skipped.items() if v}
        plan.applied = True
        record_event(
            session,
            "project.rework",
            actor_id=actor.user_id if actor else None,
            project_id=project.id,
            target=f"project:{project.name}",
            details={
                "items": plan.items,
                "annotations": plan.annotations,
                "by_field": plan.by_field,
                "requested": plan.requested,
                "schema_version": plan.schema_version,
                "guideline_version": plan.guideline_version,
            },
            source=actor.source if actor else "cli",
        )
        return plan


def cancel_rework(db: Database, name: str, *, actor: Actor | None = None) -> int:
    """Close every open rework of the project: its items go back to the status they
    had (with their final labels untouched). The number of items."""
    with write_transaction(db.sessions) as session:
        project = _project(session, name, actor)
        cancelled = cancel_open_reworks(session, project.id)
        if cancelled:
            record_event(
                session,
                "project.rework_cancel",
                actor_id=actor.user_id if actor else None,
                project_id=project.id,
                target=f"project:{project.name}",
                details={"items": cancelled},
                source=actor.source if actor else "cli",
            )
        return cancelled


Work = dict[int, list[tuple[Candidate, list[str]]]]
"""Item id -> its annotations to redo, each with its fields."""


def _select(
    session: Session, name: str, actor: Actor | None, fields: Sequence[str] | None
) -> tuple[ReworkPlan, Work]:
    project = _project(session, name, actor)
    requested = _check_fields(project, fields)
    current = project.schema
    plan = ReworkPlan(project.name, current.version, project.guideline_version, requested)
    schemas = {
        version: schema_from_definition(definition)
        for version, definition in schema_definitions(session, project.id).items()
    }
    rules: dict[int, RedoRule] = {
        version: redo_rule(schema, current, requested or ()) for version, schema in schemas.items()
    }
    work: Work = {}
    skipped: dict[str, set[int]] = {}
    for chunk in older_annotations(
        session,
        project.id,
        schema_version=current.version,
        guideline_version=project.guideline_version if requested else None,
        with_items=any(rule.needs_item for rule in rules.values()),
    ):
        for candidate in chunk:
            rule = rules.get(candidate.schema_version)
            redo = rule.fields(candidate.payload, candidate.item) if rule else []
            if not redo:
                continue
            reason = _left_alone(candidate)
            if reason is not None:
                skipped.setdefault(reason, set()).add(candidate.item_id)
                continue
            example = ReworkExample(
                candidate.item_id,
                candidate.external_id,
                candidate.annotation_id,
                candidate.username,
                candidate.schema_version,
                candidate.guideline_version,
                redo,
            )
            plan.count(example, candidate.author_active)
            work.setdefault(candidate.item_id, []).append((candidate, redo))
    # An item whose annotations' authors have all left has no one to redo them.
    orphans = [i for i, chosen in work.items() if not any(c.author_active for c, _ in chosen)]
    for item_id in orphans:
        del work[item_id]
    plan.skipped = {reason: len(items) for reason, items in sorted(skipped.items())}
    plan.skipped["no active author"] = len(orphans)
    plan.skipped = {k: v for k, v in plan.skipped.items() if v}
    plan.items = len(work)
    return plan, work


def _left_alone(candidate: Candidate) -> str | None:
    """Why an item with annotations to redo is not re-queued now (None: it is)."""
    if candidate.item_status == "rework":
        return "in rework already"
    if candidate.item_status not in REWORKABLE:
        return candidate.item_status
    if candidate.leased:
        return "leased now (run again later)"
    return None


def _check_fields(project: ProjectRef, fields: Sequence[str] | None) -> list[str] | None:
    if not fields:
        return None
    names = [f.name for f in project.schema.fields]
    unknown = [f for f in fields if f not in names]
    if unknown:
        raise Invalid(
            E_REWORK_FIELD_UNKNOWN,
            f"not a field of the current schema of {project.name!r}: {', '.join(unknown)}",
            [FieldError("fields", f"valid: {', '.join(names)}")],
        )
    return [n for n in names if n in fields]


def _project(session: Session, name: str, actor: Actor | None) -> ProjectRef:
    if actor is not None:
        require_role(session, actor, project_for(session, actor, name), frozenset({MANAGER}))
    return get_project(session, name)
