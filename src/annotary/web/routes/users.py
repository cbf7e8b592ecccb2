"""User accounts (global admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from annotary.services.identity.access import Actor
from annotary.services.identity.users import NewUser, UserInfo, create_user, list_users
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, NewUserIn, UserOut

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)


@router.get("/users", summary="List users", response_model=list[UserOut])
def users(actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[UserInfo]:
    """Every user with their project roles (global admins only)."""
    return list_users(db, actor)


@router.post("/users", summary="Add a user", status_code=201, response_model=UserOut)
def add_user(
    body: NewUserIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> UserInfo:
    """Create a user (argon2id password hash), optionally as member of a project."""
    new = NewUser(
        username=body.username,
        password=body.password,
        is_admin=body.admin,
        display_name=body.display_name,
        email=body.email,
        skills=tuple(body.skills),
        languages=tuple(body.languages),
        project=body.project,
        role=body.role,
    )
    return create_user(db, actor, new)
