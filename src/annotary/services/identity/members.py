"""Membership use cases: who works on a project, in which role, and in what state.

Managers (and global admins) add members, change roles, resume paused
annotators and remove members; every member accepts the project's
confidentiality terms for themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotary.core.project import ROLES
from annotary.errors import E_USER_INVALID, E_USER_NOT_FOUND, FieldError, Invalid, NotFound, quote
from annotary.services.audit import record_event
from annotary.services.identity.access import ALL_ROLES, MANAGER, Actor, project_for, require_role
from annotary.services.identity.auth import aware_or_none
from annotary.services.projects import get_project
from annotary.services.queue.rework_tasks import drop_rework_of
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import Membership, Project, User, utcnow
from annotary.storage.people_store import (
    delete_membership,
    membership_of,
    release_leases,
    user_by_name,
)

MANAGERS = frozenset({MANAGER})


@dataclass(frozen=True)
class MemberInfo:
    """One member of a project and their standing in it."""

    username: str
    display_name: str | None
    role: str
    terms_accepted_at: datetime | None
    qualified_at: datetime | None
    qualification_failed_at: datetime | None
    paused_at: datetime | None
    pause_reason: str | None
    gold_answered: int
    gold_correct: int

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberInfo:
        return cls(
            user.username,
            user.display_name,
            membership.role,
            aware_or_none(membership.terms_accepted_at),
            aware_or_none(membership.qualified_at),
            aware_or_none(membership.qualification_failed_at),
            aware_or_none(membership.paused_at),
            membership.pause_reason,
            membership.gold_answered,
            membership.gold_correct,
        )


def list_members(db: Database, actor: Actor, project_name: str) -> list[MemberInfo]:
    """Every member of the project, by user name (managers and admins)."""
    with read_session(db.sessions) as session:
        project = project_for(session, actor, project_name)
        require_role(session, actor, project, MANAGERS)
        rows = session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.project_id == project.id)
            .order_by(User.username)
        ).all()
        return [MemberInfo.of(membership, user) for membership, user in rows]


def add_member(
    db: Database, actor: Actor, project_name: str, username: str, role: str
) -> MemberInfo:
    """Make a user a member with `role`, or change the role of an existing member."""
    if role not in ROLES:
        raise Invalid(
            E_USER_INVALID,
            f"cannot add {quote(username)} to {quote(project_name)}",
            [FieldError("role", f"unknown role {quote(role)}; valid: {', '.join(ROLES)}")],
        )
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        require_role(session, actor, project, MANAGERS)
        user = _user(session, username)
        membership = _membership_of(session, project, user)
        previous = membership.role if membership else None
        if membership is None:
            membership = Membership(project_id=project.id, user_id=user.id, role=role)
            session.add(membership)
        membership.role = role
        session.flush()
        record_event(
            session,
            "member.add" if previous is None else "member.role",
            actor_id=actor.user_id,
            project_id=project.id,
            target=f"user:{username}",
            details={"role": role, "previous_role": previous},
            source=actor.source,
        )
        return MemberInfo.of(membership, user)


def resume_member(db: Database, actor: Actor, project_name: str, username: str) -> MemberInfo:
    """Let a paused (or qualification-failed) member work again (managers and admins)."""
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        require_role(session, actor, project, MANAGERS)
        user = _user(session, username)
        membership = _membership_of(session, project, user)
        if membership is None:
            raise NotFound(
                E_USER_NOT_FOUND, f"{quote(username)} is not a member of {project.name!r}"
            )
        record_event(
            session,
            "member.resume",
            actor_id=actor.user_id,
            project_id=project.id,
            target=f"user:{username}",
            details={
                "was_paused": membership.paused_at is not None,
                "pause_reason": membership.pause_reason,
                "had_failed_qualification": membership.qualification_failed_at is not None,
            },
            source=actor.source,
        )
        membership.paused_at = None
        membership.pause_reason = None
        membership.qualification_failed_at = None
        session.flush()
        return MemberInfo.of(membership, user)


@dataclass(frozen=True)
class Removal:
    """A membership that was removed: whose, which role, how many leases went back."""

    username: str
    role: str
    leases_released: int


def remove_member(
    db: Database, project_name: str, username: str, actor: Actor | None = None
) -> Removal:
    """Take a user out of a project (managers and admins; None: the local CLI).

    Their live leases in it are released so the items go to others; their
    annotations stay and keep counting (QA, consensus). The queue locks the
    membership while it serves someone, so a request of theirs already running
    finishes first.
    """
    with write_transaction(db.sessions) as session:
        if actor is None:
            ref = get_project(session, project_name)
            project_id, name = ref.id, ref.name
        else:
            project = project_for(session, actor, project_name)
            require_role(session, actor, project, MANAGERS)
            project_id, name = project.id, project.name
        user = user_by_name(session, username)
        membership = membership_of(session, project_id, user.id, lock=True) if user else None
        if user is None or membership is None:
            raise NotFound(E_USER_NOT_FOUND, f"{username!r} is not a member of {name!r}")
        role = membership.role
        delete_membership(session, membership)
        released = release_leases(session, [user.id], project_id=project_id)
        # No rework waits for them: their open rework rows are dropped.
        reworks = drop_rework_of(
            session.connection(), [user.id], project_id=project_id, plugins=db.plugins
        )
        record_event(
            session,
            "member.remove",
            actor_id=actor.user_id if actor else None,
            project_id=project_id,
            target=f"user:{username}",
            details={"role": role, "leases_released": released, "reworks_dropped": reworks},
            source=actor.source if actor else "cli",
        )
    return Removal(username, role, released)


def accept_terms(db: Database, actor: Actor, project_name: str) -> MemberInfo:
    """Record that the actor accepts the project's confidentiality terms (members only)."""
    with write_transaction(db.sessions) as session:
        project = project_for(session, actor, project_name)
        membership = require_role(session, actor, project, ALL_ROLES, admin_passes=False)
        assert membership is not None  # admin_passes=False: members only
        if membership.terms_accepted_at is None:
            membership.terms_accepted_at = utcnow()
            record_event(
                session,
                "member.accept_terms",
                actor_id=actor.user_id,
                project_id=project.id,
                target=f"user:{actor.username}",
                source=actor.source,
            )
        session.flush()
        user = session.get(User, actor.user_id)
        assert user is not None  # the actor was authenticated in this request
        return MemberInfo.of(membership, user)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(E_USER_NOT_FOUND, f"no user named {quote(username)}")
    return user


def _membership_of(session: Session, project: Project, user: User) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.project_id == project.id, Membership.user_id == user.id)
    )
