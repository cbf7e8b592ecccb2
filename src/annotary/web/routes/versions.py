"""Project versions: update a project from its file; diff two revisions; rework."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from annotary.services.identity.access import Actor
from annotary.services.project_revisions import diff_revisions
from annotary.services.project_versions import update_project_from_text
from annotary.services.rework import cancel_rework, requeue_for_rework
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, ErrorOut, NewProjectIn
from annotary.web.version_schemas import (
    ProjectDiffOut,
    ReworkCancelledOut,
    ReworkIn,
    ReworkOut,
    UpdatePlanOut,
)

router = APIRouter(tags=["projects"], responses=ERROR_RESPONSES)

MAX_REVISION = 1_000_000


@router.put(
    "/projects/{name}",
    summary="Update a project",
    response_model=UpdatePlanOut,
    responses={
        409: {
            "model": ErrorOut,
            "description": "E422: stored values would no longer validate (send confirm=true); "
            "E424: the project changed meanwhile",
        }
    },
)
def update_project(
    name: str,
    body: NewProjectIn,
    confirm: bool = Query(False, description="Apply even if stored values would be invalidated."),
    dry_run: bool = Query(False, description="Only say what the update would do."),
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> dict[str, Any]:
    """Update a project from the text of its YAML file (its managers and admins; the
    file must name the project). A changed schema or guideline text becomes a new
    version; the other settings are replaced. If stored annotations, gold answers,
    pre-labels or final labels would no longer validate, the update is refused
    with 409 E422 listing them, unless `confirm=true`."""
    plan = update_project_from_text(
        db, actor, name, body.yaml, body.guidelines, confirm=confirm, dry_run=dry_run
    )
    return plan.to_dict()


@router.get("/projects/{name}/diff", summary="Diff two revisions", response_model=ProjectDiffOut)
def diff(
    name: str,
    from_revision: int | None = Query(
        None, alias="from", ge=1, le=MAX_REVISION, description="Default: the one before `to`."
    ),
    to_revision: int | None = Query(
        None, alias="to", ge=1, le=MAX_REVISION, description="Default: the latest revision."
    ),
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> dict[str, Any]:
    """What changed between two revisions of a project (any member): the schema
    field by field, the guidelines as a unified diff, the settings."""
    return diff_revisions(db, name, actor=actor, before=from_revision, after=to_revision).to_dict()


@router.post("/projects/{name}/rework", summary="Re-queue for rework", response_model=ReworkOut)
def rework(
    name: str,
    body: ReworkIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> dict[str, Any]:
    """Send the items annotated under an older schema version (or, for the named
    `fields`, an older guideline version) back to their annotators for the changed
    fields only; they wait in status `rework`. Managers and admins."""
    plan = requeue_for_rework(db, name, actor=actor, fields=body.fields, dry_run=body.dry_run)
    return plan.to_dict()


@router.post(
    "/projects/{name}/rework/cancel", summary="Cancel the rework", response_model=ReworkCancelledOut
)
def cancel(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> dict[str, Any]:
    """Close every open rework of the project: its items go back to the status they
    had, final labels untouched. Managers and admins."""
    return {"project": name, "cancelled_items": cancel_rework(db, name, actor=actor)}
