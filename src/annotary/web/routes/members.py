"""Project members: list, add or change role, resume, accept the terms."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from annotary.services.identity import members
from annotary.services.identity.access import Actor
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, MemberIn, MemberOut

router = APIRouter(tags=["members"], responses=ERROR_RESPONSES)


@router.get(
    "/projects/{name}/members", summary="List project members", response_model=list[MemberOut]
)
def list_members(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> list[members.MemberInfo]:
    """Every member with role, pause and gold standing (managers and admins)."""
    return members.list_members(db, actor, name)


@router.post(
    "/projects/{name}/members",
    summary="Add a member or change a role",
    response_model=MemberOut,
)
def add_member(
    name: str,
    body: MemberIn,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> members.MemberInfo:
    """Make an existing user a member with a role, or change their role (managers and admins)."""
    return members.add_member(db, actor, name, body.username, body.role)


@router.post(
    "/projects/{name}/members/{username}/resume",
    summary="Resume a paused member",
    response_model=MemberOut,
)
def resume_member(
    name: str, username: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> members.MemberInfo:
    """Clear a pause (low gold accuracy) and a failed qualification (managers and admins)."""
    return members.resume_member(db, actor, name, username)


@router.post(
    "/projects/{name}/terms/accept",
    summary="Accept the confidentiality terms",
    response_model=MemberOut,
)
def accept_terms(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> members.MemberInfo:
    """Record that the caller accepts the project's confidentiality terms (members)."""
    return members.accept_terms(db, actor, name)
