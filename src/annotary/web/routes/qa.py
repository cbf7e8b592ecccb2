"""The QA report of a project (SPEC 6), as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from annotary.services.identity.access import Actor
from annotary.services.qa.report import qa_report
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES

router = APIRouter(tags=["projects"], responses=ERROR_RESPONSES)


@router.get("/projects/{name}/qa", summary="QA report of a project")
def project_qa(
    name: str,
    window_days: int = Query(
        7, ge=1, le=3650, description="Length of the time windows agreement is tracked over."
    ),
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> dict[str, Any]:
    """Agreement per field, label, annotator pair, schema/guideline version and time
    window; gold accuracy per annotator; aggregation; monitoring findings; bias by
    annotator group (groups under 5 people withheld) and item metadata. Managers,
    reviewers, experts and admins. Undefined statistics are null with a `note`."""
    return qa_report(db, name, actor, window_days=window_days).to_dict()
