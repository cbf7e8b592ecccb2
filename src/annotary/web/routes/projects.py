"""Projects: list, create from YAML, read, status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from annotary.services.identity.access import Actor
from annotary.services.projects import (
    ProjectDetail,
    ProjectSummary,
    create_project_from_text,
    list_projects,
    project_detail,
)
from annotary.services.status import project_status
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import (
    ERROR_RESPONSES,
    NewProjectIn,
    ProjectCreatedOut,
    ProjectDetailOut,
    ProjectStatusOut,
    ProjectSummaryOut,
)

router = APIRouter(tags=["projects"], responses=ERROR_RESPONSES)


@router.get("/projects", summary="List my projects", response_model=list[ProjectSummaryOut])
def projects(
    actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> list[ProjectSummary]:
    """Projects the caller is a member of, with their role (admins: every project)."""
    return list_projects(db, actor)


@router.post(
    "/projects", summary="Create a project", status_code=201, response_model=ProjectCreatedOut
)
def create_project(
    body: NewProjectIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> ProjectCreatedOut:
    """Create a project from the text of its YAML file (global admins only); errors
    name the line of the file."""
    project = create_project_from_text(db, actor, body.yaml, body.guidelines)
    return ProjectCreatedOut(
        name=project.name,
        item_kind=project.item_kind,
        schema_version=project.schema.version,
        guideline_version=project.guideline_version,
    )


@router.get("/projects/{name}", summary="Read a project", response_model=ProjectDetailOut)
def project(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> ProjectDetail:
    """Schema, current guidelines (and their versions) and settings, for any member.
    Gold answers are never part of it."""
    return project_detail(db, actor, name)


@router.get(
    "/projects/{name}/status", summary="Item counts of a project", response_model=ProjectStatusOut
)
def status(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> dict[str, Any]:
    """Items by status and kind; gold, pre-label, annotation and import counts
    (managers, reviewers, experts and admins)."""
    return project_status(db, name, actor).to_dict()
