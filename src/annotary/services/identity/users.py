"""User use cases: add a user (optionally as member of a project), list users, "me"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotary.core.project import ROLES
from annotary.errors import E_USER_EXISTS, E_USER_INVALID, Conflict, FieldError, Invalid, quote
from annotary.services.audit import record_event
from annotary.services.identity.access import Actor, require_admin
from annotary.services.projects import get_project
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import Membership, Project, User

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class NewUser:
    """What `add_user` needs; skills/languages feed routing later."""

    username: str
    password: str | None
    is_admin: bool = False
    display_name: str | None = None
    email: str | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    project: str | None = None
    role: str = "annotator"


def validate_new_user(new: NewUser) -> list[FieldError]:
    """Every problem with a new user's fields."""
    errors = []
    if not _USERNAME.match(new.username):
        errors.append(
            FieldError(
                "username",
                "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a "
                "letter or digit",
            )
        )
    if new.password is not None and len(new.password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if new.role not in ROLES:
        errors.append(
            FieldError("role", f"unknown role {quote(new.role)}; valid: {', '.join(ROLES)}")
        )
    return errors


def add_user(
    db: Database, new: NewUser, actor_id: int | None = None, *, actor: Actor | None = None
) -> int:
    """Create a user (argon2 password hash) and, if asked, a project membership.

    With an `actor` (the API) only a global admin may do this; without one the
    caller is the trusted local CLI.
    """
    if actor is not None:
        require_admin(actor)
        actor_id = actor.user_id
    errors = validate_new_user(new)
    if errors:
        raise Invalid(E_USER_INVALID, f"cannot add user {quote(new.username)}", errors)
    password_hash = PasswordHasher().hash(new.password) if new.password else None
    try:
        with write_transaction(db.sessions) as session:
            if session.scalar(select(User.id).where(User.username == new.username)):
                raise _exists(new.username)
            user = User(
                username=new.username,
                display_name=new.display_name,
                email=new.email,
                password_hash=password_hash,
                is_admin=new.is_admin,
                skills=list(new.skills),
                languages=list(new.languages),
                attributes={},
            )
            session.add(user)
            session.flush()
            project_id = None
            if new.project is not None:
                project_id = get_project(session, new.project).id
                session.add(Membership(project_id=project_id, user_id=user.id, role=new.role))
            record_event(
                session,
                "user.add",
                actor_id=actor_id,
                project_id=project_id,
                target=f"user:{new.username}",
                details={"admin": new.is_admin, "role": new.role if new.project else None},
                source=actor.source if actor else "cli",
            )
            return user.id
    except IntegrityError as exc:
        raise _exists(new.username) from exc


def _exists(username: str) -> Conflict:
    return Conflict(E_USER_EXISTS, f"a user named {quote(username)} already exists")


@dataclass(frozen=True)
class ProjectRole:
    """One project a user belongs to, and their role in it."""

    project: str
    title: str | None
    role: str


@dataclass(frozen=True)
class UserInfo:
    """A user as shown to admins and to themselves (never the password hash)."""

    id: int
    username: str
    display_name: str | None
    email: str | None
    is_admin: bool
    is_active: bool
    skills: list[str]
    languages: list[str]
    created_at: datetime
    memberships: list[ProjectRole] = field(default_factory=list)


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    """Every user with their memberships, by name (global admins only)."""
    require_admin(actor)
    with read_session(db.sessions) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        roles = _roles_by_user(session, None)
        return [_info(user, roles.get(user.id, [])) for user in users]


def create_user(db: Database, actor: Actor, new: NewUser) -> UserInfo:
    """`add_user` for an authenticated caller (global admins only); returns the new user."""
    return _describe(db, add_user(db, new, actor=actor))


def describe_me(db: Database, actor: Actor) -> UserInfo:
    """The actor's own account and the projects they belong to."""
    return _describe(db, actor.user_id)


def describe_user(db: Database, user_id: int) -> UserInfo:
    """A user's account and project roles, for the services that just changed it."""
    return _describe(db, user_id)


def _describe(db: Database, user_id: int) -> UserInfo:
    with read_session(db.sessions) as session:
        user = session.get(User, user_id)
        assert user is not None  # just written, or authenticated from this row
        return _info(user, _roles_by_user(session, user_id).get(user_id, []))


def _roles_by_user(session: Session, user_id: int | None) -> dict[int, list[ProjectRole]]:
    query = (
        select(Membership.user_id, Project.name, Project.title, Membership.role)
        .join(Project, Project.id == Membership.project_id)
        .order_by(Project.name)
    )
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    roles: dict[int, list[ProjectRole]] = {}
    for member_id, name, title, role in session.execute(query):
        roles.setdefault(member_id, []).append(ProjectRole(name, title, role))
    return roles


def _info(user: User, memberships: list[ProjectRole]) -> UserInfo:
    created_at = user.created_at
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return UserInfo(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        is_admin=user.is_admin,
        is_active=user.is_active,
        skills=[str(s) for s in user.skills],
        languages=[str(lang) for lang in user.languages],
        created_at=created_at,
        memberships=memberships,
    )
