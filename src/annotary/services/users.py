"""User use cases: add a user (optionally as member of a project)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from annotary.core.project import ROLES
from annotary.errors import E_USER_EXISTS, E_USER_INVALID, Conflict, FieldError, Invalid
from annotary.services.audit import record_event
from annotary.services.projects import get_project
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Membership, User

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
        errors.append(FieldError("role", f"unknown role {new.role!r}; valid: {', '.join(ROLES)}"))
    return errors


def add_user(db: Database, new: NewUser, actor_id: int | None = None) -> int:
    """Create a user (argon2 password hash) and, if asked, a project membership."""
    errors = validate_new_user(new)
    if errors:
        raise Invalid(E_USER_INVALID, f"cannot add user {new.username!r}", errors)
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
            )
            return user.id
    except IntegrityError as exc:
        raise _exists(new.username) from exc


def _exists(username: str) -> Conflict:
    return Conflict(E_USER_EXISTS, f"a user named {username!r} already exists")
