"""Login throttling (SPEC 10): failed logins counted per account and per client address.

The policy (`LoginPolicy`, from the `ANNOTARY_LOGIN_*` settings): once an
account has `account_failures` failed logins within `window_seconds` (5 in 15
minutes by default), or a client address has `address_failures` (20), logins
for that account, or from that address, are refused with 429 (E716) and a
`Retry-After` for `lockout_seconds` (5 minutes) - without checking the
password, so a locked login costs no argon2 work. While the window lasts, each
further failure locks again. A successful login clears its account's count
(not its address's: one valid account must not reset the count of a guesser).
Unknown user names are counted like known ones, so a lock says nothing about
whether an account exists. API tokens are never throttled.

The counts live in the database so that every server process sees them. Each
lock is an `auth.lockout` audit event and each refused attempt an
`auth.login_throttled` one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from annotary.errors import E_LOGIN_THROTTLED, TooManyRequests
from annotary.services.audit import record_event
from annotary.storage import throttle_store
from annotary.storage.db import Database, read_session, write_transaction
from annotary.storage.models import utcnow


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed logins lock an account or an address, for how long."""

    account_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lockout_seconds: int = 300


def _keys(username: str, source: str) -> dict[str, str]:
    return {"account": f"account:{username[:64]}", "address": f"address:{source[:150]}"}


def _target(scope: str, username: str, source: str) -> str:
    return f"user:{username[:64]}" if scope == "account" else f"address:{source[:150]}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def refuse_if_locked(db: Database, username: str, source: str, user_id: int | None) -> None:
    """Raise TooManyRequests (E716) when the account or the address is locked now;
    the refused attempt is an audit event."""
    now = utcnow()
    keys = _keys(username, source)
    with read_session(db.sessions) as session:
        locks = throttle_store.locks_in_force(session, keys.values(), now)
    if not locks:
        return
    scope, until = max(
        ((scope, _aware(locks[key])) for scope, key in keys.items() if key in locks),
        key=lambda pair: pair[1],
    )
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    with write_transaction(db.sessions) as session:
        record_event(
            session,
            "auth.login_throttled",
            actor_id=user_id,
            target=_target(scope, username, source),
            details={"scope": scope, "retry_after": retry_after},
            source=source,
        )
    whose = "for this account" if scope == "account" else "from your address"
    raise TooManyRequests(
        E_LOGIN_THROTTLED,
        f"too many failed logins {whose}; try again in {retry_after} s",
        retry_after=retry_after,
    )


def count_failed_login(
    session: Session, policy: LoginPolicy, username: str, source: str, user_id: int | None
) -> None:
    """Count a failed login for its account and address (in the caller's transaction),
    locking either that reaches its limit; a new lock is an audit event."""
    now = utcnow()
    window_start = now - timedelta(seconds=policy.window_seconds)
    throttle_store.sweep(session, now, window_start)
    limits = {"account": policy.account_failures, "address": policy.address_failures}
    for scope, key in _keys(username, source).items():
        failures, locked_until = throttle_store.count_failure(session, key, now, window_start)
        if failures < limits[scope] or (locked_until is not None and _aware(locked_until) > now):
            continue
        until = now + timedelta(seconds=policy.lockout_seconds)
        throttle_store.lock(session, key, until)
        record_event(
            session,
            "auth.lockout",
            actor_id=user_id,
            target=_target(scope, username, source),
            details={"scope": scope, "failures": failures, "until": until.isoformat()},
            source=source,
        )


def forget_failed_logins(session: Session, username: str) -> None:
    """Clear the account's count after a successful login (the address keeps its own)."""
    throttle_store.forget(session, _keys(username, "")["account"])
