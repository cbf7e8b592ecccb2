"""Who may do what (SPEC 4): deny by default, checked in the service layer.

Every service that acts on a project takes an `Actor` and calls `require_role`
(or `require_admin`) before it reads or writes anything, so a new route cannot
forget a check that the service already makes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.errors import (
    E_FORBIDDEN,
    E_NOT_MEMBER,
    E_PROJECT_NOT_FOUND,
    Forbidden,
    NotFound,
    quote,
)
from annotary.storage.models import Membership, Project

ANNOTATOR, REVIEWER, EXPERT, MANAGER = "annotator", "reviewer", "expert", "manager"
ALL_ROLES = frozenset({ANNOTATOR, REVIEWER, EXPERT, MANAGER})
WORKERS = frozenset({ANNOTATOR, REVIEWER, EXPERT})
"""Roles that annotate items served by the queue."""


@dataclass(frozen=True)
class Actor:
    """The authenticated caller; `source` is `cli` or the client address."""

    user_id: int
    username: str
    is_admin: bool = False
    source: str = "cli"


def require_admin(actor: Actor) -> None:
    """Only global admins pass."""
    if not actor.is_admin:
        raise Forbidden(E_FORBIDDEN, "this action needs a global admin")


def project_for(session: Session, actor: Actor, name: str) -> Project:
    """The project called `name`, as long as the actor may know it exists.

    Non-members get the same NotFound as for a missing project, so project
    names do not leak.
    """
    project = session.scalar(select(Project).where(Project.name == name))
    visible = project is not None and (actor.is_admin or _membership(session, actor, project.id))
    if project is None or not visible:
        raise NotFound(E_PROJECT_NOT_FOUND, f"no project named {quote(name)}")
    return project


def require_role(
    session: Session,
    actor: Actor,
    project: Project,
    roles: frozenset[str],
    *,
    lock: bool = False,
    admin_passes: bool = True,
) -> Membership | None:
    """The actor's membership if its role is in `roles`.

    Admins who are not members pass (returning None) when `admin_passes`; work
    that needs a membership (being served tasks) sets it False. `lock` takes a
    row lock on the membership (PostgreSQL), serializing one user's concurrent
    requests where that matters (the queue).
    """
    membership = _membership(session, actor, project.id, lock=lock)
    if membership is not None and membership.role in roles:
        return membership
    if actor.is_admin and admin_passes and membership is None:
        return None
    if membership is None:
        raise Forbidden(E_NOT_MEMBER, f"you are not a member of project {project.name!r}")
    raise Forbidden(
        E_FORBIDDEN,
        f"your role {membership.role!r} in {project.name!r} cannot do this; "
        f"needs one of: {', '.join(sorted(roles))}",
    )


def worker_membership(
    session: Session,
    actor: Actor,
    roles: frozenset[str],
    *,
    name: str | None = None,
    project_id: int | None = None,
) -> tuple[Project, Membership]:
    """Project (by name or id) and the actor's locked membership in one query.

    For the queue's hot paths; the same rules as `project_for` followed by
    `require_role(..., lock=True, admin_passes=False)`.
    """
    query = select(Project, Membership).join(Membership, Membership.project_id == Project.id)
    query = query.where(
        Membership.user_id == actor.user_id,
        Project.name == name if name is not None else Project.id == project_id,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Membership)
    row = session.execute(query).first()
    if row is None:  # not a member: say so to admins, deny the project exists to others
        if name is None:
            raise Forbidden(E_NOT_MEMBER, "you are not a member of this project")
        project = project_for(session, actor, name)
        raise Forbidden(E_NOT_MEMBER, f"you are not a member of project {project.name!r}")
    project, membership = row
    if membership.role not in roles:
        raise Forbidden(
            E_FORBIDDEN,
            f"your role {membership.role!r} in {project.name!r} cannot do this; "
            f"needs one of: {', '.join(sorted(roles))}",
        )
    return project, membership


def _membership(
    session: Session, actor: Actor, project_id: int, lock: bool = False
) -> Membership | None:
    query = select(Membership).where(
        Membership.project_id == project_id, Membership.user_id == actor.user_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalar(query)
