"""Authentication (SPEC 10): password logins, browser sessions, personal API tokens.

Secrets are never stored: a session cookie and an API token are random strings
whose SHA-256 is what the database holds, so a leaked table does not let
anyone in. Passwords are argon2id hashes (memory-hard). Unknown user names cost
the same argon2 verification as known ones, so response times do not tell
which names exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, or_, select, update

from annotary.errors import (
    E_LOGIN_FAILED,
    E_TOKEN_INVALID,
    E_UNAUTHENTICATED,
    FieldError,
    Invalid,
    NotFound,
    Unauthenticated,
)
from annotary.errors import E_USER_INVALID as E_FIELDS_INVALID
from annotary.services.audit import record_event
from annotary.services.identity.access import Actor
from annotary.services.identity.throttle import (
    LoginPolicy,
    count_failed_login,
    forget_failed_logins,
    refuse_if_locked,
)
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import ApiToken, User, WebSession, utcnow

SESSION_COOKIE = "annotary_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "ann_"
DISPLAY_PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""`last_used_at` is refreshed at most this often, so a token does not cost a write per request."""
MAX_TOKEN_DAYS = 3650
_WRONG_CREDENTIALS = "wrong username or password"
DEFAULT_POLICY = LoginPolicy()


class Login(NamedTuple):
    """A new browser session: the cookie secret, its CSRF token and who logged in."""

    session_secret: str
    csrf_token: str
    actor: Actor


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about an API token (never the token itself)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(
            row.id,
            row.name,
            row.prefix,
            aware(row.created_at),
            aware_or_none(row.expires_at),
            aware_or_none(row.revoked_at),
            aware_or_none(row.last_used_at),
        )


def digest(secret: str) -> str:
    """SHA-256 hex of a secret: what is stored for sessions and tokens."""
    return hashlib.sha256(secret.encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    """A stored timestamp as aware UTC (SQLite hands them back naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


@cache
def _dummy_hash() -> str:
    # Verified against when the user name is unknown, so the reply takes as long.
    return PasswordHasher().hash(secrets.token_urlsafe(16))


def _password_matches(hasher: PasswordHasher, password_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False


def login(
    db: Database,
    username: str,
    password: str,
    source: str,
    session_hours: float = 12,
    policy: LoginPolicy = DEFAULT_POLICY,
) -> Login:
    """Check a password and open a session of `session_hours` (Unauthenticated E705 if
    wrong; TooManyRequests E716 while the account or address is locked, see `throttle`)."""
    hasher = PasswordHasher()
    with read_session(db.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
    refuse_if_locked(db, username, source, user.id if user else None)
    # argon2 runs outside any transaction: it is slow on purpose and must not hold a lock.
    matches = _password_matches(hasher, user.password_hash if user else None, password)
    if user is None or user.password_hash is None or not matches:
        _record_failure(db, policy, username, source, user.id if user else None)
        raise Unauthenticated(E_LOGIN_FAILED, _WRONG_CREDENTIALS)
    if not user.is_active:
        _record_failure(db, policy, username, source, user.id)
        raise Unauthenticated(E_LOGIN_FAILED, "this account is deactivated; ask an admin")
    new_hash = hasher.hash(password) if hasher.check_needs_rehash(user.password_hash) else None
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction(db.sessions) as session:
        # Expired sessions of this user are swept at each login; nothing else needs them.
        session.execute(
            delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now)
        )
        session.add(
            WebSession(
                user_id=user.id,
                session_hash=digest(secret),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=session_hours),
            )
        )
        if new_hash is not None:
            session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        forget_failed_logins(session, username)
        record_event(
            session, "auth.login", actor_id=user.id, target=f"user:{user.username}", source=source
        )
    return Login(secret, csrf, Actor(user.id, user.username, user.is_admin, source))


def _record_failure(
    db: Database, policy: LoginPolicy, username: str, source: str, user_id: int | None
) -> None:
    with write_transaction(db.sessions) as session:
        record_event(
            session,
            "auth.login_failed",
            actor_id=user_id,
            target=f"user:{username[:64]}",
            source=source,
        )
        count_failed_login(session, policy, username, source, user_id)


def logout(db: Database, actor: Actor, session_secret: str | None) -> None:
    """End the browser session whose cookie carries `session_secret` (if any)."""
    with write_transaction(db.sessions) as session:
        ended = 0
        if session_secret:
            result = session.execute(
                delete(WebSession).where(
                    WebSession.session_hash == digest(session_secret),
                    WebSession.user_id == actor.user_id,
                )
            )
            ended = cast(CursorResult[Any], result).rowcount
        record_event(
            session,
            "auth.logout",
            actor_id=actor.user_id,
            target=f"user:{actor.username}",
            details={"sessions_ended": ended},
            source=actor.source,
        )


def authenticate_session(db: Database, secret: str, source: str = "api") -> tuple[Actor, str]:
    """The actor behind a session cookie and the session's CSRF token."""
    with read_session(db.sessions) as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.session_hash == digest(secret))
        ).one_or_none()
    if row is None or aware(row[0].expires_at) <= utcnow() or not row[1].is_active:
        raise Unauthenticated(E_UNAUTHENTICATED, "your session has expired; log in again")
    web_session, user = row
    return Actor(user.id, user.username, user.is_admin, source), web_session.csrf_token


def recently_checked_token(db: Database, token: str, source: str = "api") -> Actor | None:
    """The actor behind a token checked within the last few seconds (see
    `Database.token_cache`), without touching the database; None otherwise."""
    known = db.token_cache.get(digest(token))
    if known is None:
        return None
    user_id, username, is_admin = known
    return Actor(user_id, username, is_admin, source)


def authenticate_token(db: Database, token: str, source: str = "api") -> Actor:
    """The actor behind a personal API token (Unauthenticated E706 if unusable)."""
    invalid = Unauthenticated(E_TOKEN_INVALID, "API token invalid, expired or revoked")
    if not token.startswith(TOKEN_PREFIX):
        raise invalid
    known = recently_checked_token(db, token, source)
    if known is not None:
        return known
    token_hash = digest(token)
    now = utcnow()
    with read_session(db.sessions) as session:
        row = session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash)
        ).one_or_none()
    if row is None:
        raise invalid
    api_token, user = row
    expires_at = aware_or_none(api_token.expires_at)
    if (
        api_token.revoked_at is not None
        or (expires_at is not None and expires_at <= now)
        or not user.is_active
    ):
        raise invalid
    last_used = aware_or_none(api_token.last_used_at)
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        with write_transaction(db.sessions) as session:
            # The WHERE makes concurrent requests of the same minute write once.
            session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == api_token.id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at < now - LAST_USED_RESOLUTION,
                    ),
                )
                .values(last_used_at=now)
            )
    db.token_cache.put(token_hash, (user.id, user.username, user.is_admin))
    return Actor(user.id, user.username, user.is_admin, source)


def create_token(
    db: Database, actor: Actor, name: str, expires_days: int | None = None, *, tag: str = ""
) -> tuple[str, TokenInfo]:
    """A new personal token for the actor: `(token, info)`; the token is shown only now.

    `tag` is a fixed, readable part after `ann_` (the demo uses `demo_ann1_`).
    """
    errors = []
    if not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "give the token a name of 1-100 characters"))
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        errors.append(FieldError("expires_days", f"must be between 1 and {MAX_TOKEN_DAYS}"))
    if errors:
        raise Invalid(E_FIELDS_INVALID, "cannot create the API token", errors)
    token = f"{TOKEN_PREFIX}{tag}{secrets.token_urlsafe(32)}"
    now = utcnow()
    with write_transaction(db.sessions) as session:
        row = ApiToken(
            user_id=actor.user_id,
            name=name.strip(),
            token_hash=digest(token),
            prefix=token[:DISPLAY_PREFIX_LENGTH],
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "token.create",
            actor_id=actor.user_id,
            target=f"token:{row.id}",
            details={"name": row.name, "expires_days": expires_days},
            source=actor.source,
        )
        return token, TokenInfo.of(row)


def list_tokens(db: Database, actor: Actor) -> list[TokenInfo]:
    """The actor's own tokens, newest first (revoked ones included, marked)."""
    with read_session(db.sessions) as session:
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
        ).all()
        return [TokenInfo.of(row) for row in rows]


def revoke_token(db: Database, actor: Actor, token_id: int) -> TokenInfo:
    """Revoke one token: one's own, or anyone's for an admin (NotFound otherwise)."""
    with write_transaction(db.sessions) as session:
        row = session.get(ApiToken, token_id)
        if row is None or (row.user_id != actor.user_id and not actor.is_admin):
            raise NotFound(E_TOKEN_INVALID, f"you have no API token with id {token_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            record_event(
                session,
                "token.revoke",
                actor_id=actor.user_id,
                target=f"token:{row.id}",
                details={"owner_id": row.user_id},
                source=actor.source,
            )
        session.flush()
        db.token_cache.drop(row.token_hash)
        return TokenInfo.of(row)
