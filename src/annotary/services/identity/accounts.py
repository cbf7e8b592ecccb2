"""Account use cases: deactivate and reactivate users, reset a password, set skills
and languages (global admins), and change one's own password.

Every function that takes `actor: Actor | None` treats None as the trusted local
CLI; with an actor, only a global admin may act.

Deactivation takes effect at once: browser sessions are deleted, API tokens
revoked (and dropped from this process's token cache), live leases released
so the items go to others; the user's annotations stay. Another server process
may still accept one of the revoked tokens for as long as it had it cached (at
most `Database.token_cache` seconds, 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from annotary.core.people import clean_tags, tag_problems
from annotary.errors import (
    E_LAST_ADMIN,
    E_PASSWORD_WRONG,
    E_USER_INVALID,
    E_USER_NOT_FOUND,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from annotary.services.audit import record_event
from annotary.services.identity.access import Actor, require_admin
from annotary.services.identity.auth import digest
from annotary.services.identity.users import MIN_PASSWORD_LENGTH, UserInfo, describe_user
from annotary.services.queue.rework_tasks import drop_rework_of
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import User, utcnow
from annotary.storage.people_store import (
    active_admin_ids,
    end_web_sessions,
    lock_memberships_of,
    release_leases,
    revoke_api_tokens,
    user_by_name,
)

MAX_PASSWORD_LENGTH = 1024
"""argon2 hashes any length; a bound keeps a request from costing much more than a login."""


@dataclass(frozen=True)
class AccountChange:
    """What an account change did."""

    username: str
    is_active: bool
    sessions_ended: int = 0
    tokens_revoked: int = 0
    leases_released: int = 0


def password_problems(password: str, path: str = "password") -> list[FieldError]:
    """What is wrong with a new password (length only, as for new users)."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return [
            FieldError(
                path, f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
            )
        ]
    return []


def _user(session: Session, username: str, *, lock: bool = False) -> User:
    user = user_by_name(session, username, lock=lock)
    if user is None:
        raise NotFound(E_USER_NOT_FOUND, f"no user named {username!r}")
    return user


def _by(actor: Actor | None) -> tuple[int | None, str]:
    """Audit actor id and source; the local CLI has no actor."""
    if actor is not None:
        require_admin(actor)
        return actor.user_id, actor.source
    return None, "cli"


def deactivate_user(db: Database, username: str, actor: Actor | None = None) -> AccountChange:
    """Stop a user from working: no login, sessions ended, tokens revoked, leases given
    back. Refused (E406) for the last active global admin."""
    actor_id, source = _by(actor)
    with write_transaction(db.sessions) as session:
        admins = active_admin_ids(session)  # first: see `active_admin_ids`
        user = _user(session, username, lock=True)
        if user.id in admins and len(admins) == 1:
            raise Conflict(
                E_LAST_ADMIN,
                f"{username!r} is the last active global admin; make another admin first",
            )
        lock_memberships_of(session, user.id)
        was_active = user.is_active
        user.is_active = False
        sessions = end_web_sessions(session, user.id)
        revoked = revoke_api_tokens(session, user.id, utcnow())
        released = release_leases(session, [user.id])
        # No rework waits for them: their open rework rows are dropped.
        reworks = drop_rework_of(session.connection(), [user.id], plugins=db.plugins)
        record_event(
            session,
            "user.deactivate",
            actor_id=actor_id,
            target=f"user:{username}",
            details={
                "was_active": was_active,
                "sessions_ended": sessions,
                "tokens_revoked": len(revoked),
                "leases_released": released,
                "reworks_dropped": reworks,
            },
            source=source,
        )
    # After the commit, so that no request re-reads the token as valid meanwhile.
    for token_hash in revoked:
        db.token_cache.drop(token_hash)
    return AccountChange(username, False, sessions, len(revoked), released)


def reactivate_user(db: Database, username: str, actor: Actor | None = None) -> AccountChange:
    """Let a deactivated user log in again (their old tokens stay revoked)."""
    actor_id, source = _by(actor)
    with write_transaction(db.sessions) as session:
        user = _user(session, username, lock=True)
        was_active = user.is_active
        user.is_active = True
        record_event(
            session,
            "user.reactivate",
            actor_id=actor_id,
            target=f"user:{username}",
            details={"was_active": was_active},
            source=source,
        )
    return AccountChange(username, True)


def reset_password(
    db: Database, username: str, password: str, actor: Actor | None = None
) -> AccountChange:
    """Set a user's password (argon2id); every browser session of theirs ends."""
    actor_id, source = _by(actor)
    problems = password_problems(password)
    if problems:
        raise Invalid(E_USER_INVALID, f"cannot set the password of {username!r}", problems)
    password_hash = PasswordHasher().hash(password)  # slow on purpose: outside the transaction
    with write_transaction(db.sessions) as session:
        user = _user(session, username, lock=True)
        user.password_hash = password_hash
        ended = end_web_sessions(session, user.id)
        record_event(
            session,
            "user.password_reset",
            actor_id=actor_id,
            target=f"user:{username}",
            details={"sessions_ended": ended},
            source=source,
        )
        return AccountChange(username, user.is_active, sessions_ended=ended)


def change_own_password(
    db: Database,
    actor: Actor,
    old_password: str,
    new_password: str,
    current_session: str | None = None,
) -> AccountChange:
    """Change the actor's password given the old one; their other browser sessions
    end (the one behind `current_session`, the caller's cookie, stays)."""
    problems = password_problems(new_password, "new_password")
    if problems:
        raise Invalid(E_USER_INVALID, "cannot change your password", problems)
    with read_session(db.sessions) as session:
        user = session.get(User, actor.user_id)
        stored = user.password_hash if user is not None else None
    hasher = PasswordHasher()  # argon2 is slow on purpose: outside any transaction
    if stored is None or not _verifies(hasher, stored, old_password):
        with write_transaction(db.sessions) as session:
            record_event(
                session,
                "user.password_change_failed",
                actor_id=actor.user_id,
                target=f"user:{actor.username}",
                source=actor.source,
            )
        raise _wrong_password()
    new_hash = hasher.hash(new_password)
    with write_transaction(db.sessions) as session:
        user = _user(session, actor.username, lock=True)
        if user.password_hash != stored:  # changed by a concurrent request
            raise _wrong_password()
        user.password_hash = new_hash
        keep = digest(current_session) if current_session else None
        ended = end_web_sessions(session, user.id, keep_hash=keep)
        record_event(
            session,
            "user.password_change",
            actor_id=actor.user_id,
            target=f"user:{actor.username}",
            details={"sessions_ended": ended},
            source=actor.source,
        )
        return AccountChange(actor.username, user.is_active, sessions_ended=ended)


def _verifies(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _wrong_password() -> Forbidden:
    return Forbidden(
        E_PASSWORD_WRONG,
        "the old password is wrong (an account without a password asks an admin to set one)",
    )


def update_user(
    db: Database,
    username: str,
    *,
    skills: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    actor: Actor | None = None,
) -> UserInfo:
    """Replace a user's skills and/or languages (None: leave as is). Global admins only:
    skills route work in every project the user belongs to, not only a manager's."""
    actor_id, source = _by(actor)
    problems = tag_problems("skills", skills or []) + tag_problems(
        "languages", languages or [], languages=True
    )
    if problems:
        raise Invalid(E_USER_INVALID, f"cannot update user {username!r}", problems)
    with write_transaction(db.sessions) as session:
        user = _user(session, username, lock=True)
        changes: dict[str, list[str]] = {}
        if skills is not None:
            user.skills = changes["skills"] = clean_tags(skills)
        if languages is not None:
            user.languages = changes["languages"] = clean_tags(languages)
        record_event(
            session,
            "user.update",
            actor_id=actor_id,
            target=f"user:{username}",
            details=changes,
            source=source,
        )
        user_id = user.id
    return describe_user(db, user_id)
