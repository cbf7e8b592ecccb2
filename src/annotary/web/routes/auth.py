"""Log in and out; the caller's own account and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from annotary.config import Settings
from annotary.services.identity import auth
from annotary.services.identity.access import Actor
from annotary.services.identity.throttle import LoginPolicy
from annotary.services.identity.users import UserInfo, describe_me
from annotary.storage.db import Database
from annotary.web.deps import client_source, current_actor, get_db, get_settings
from annotary.web.schemas import (
    ERROR_RESPONSES,
    ActorOut,
    ErrorOut,
    LoginIn,
    LoginOut,
    NewTokenIn,
    NewTokenOut,
    RowId,
    TokenOut,
    UserOut,
)

router = APIRouter(responses=ERROR_RESPONSES)


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Log in with a password",
    response_model=LoginOut,
    responses={429: {"model": ErrorOut, "description": "Too many failed logins (E716)"}},
)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> LoginOut:
    """Open a browser session: sets the `annotary_session` cookie (HttpOnly,
    SameSite=Lax, Secure over https) and returns the CSRF token to send back
    as `X-CSRF-Token` on every request that changes something. Failed logins are
    throttled per account and per client address: 429 (E716) with `Retry-After`."""
    policy = LoginPolicy(
        account_failures=settings.login_account_failures,
        address_failures=settings.login_address_failures,
        window_seconds=settings.login_window_seconds,
        lockout_seconds=settings.login_lockout_seconds,
    )
    result = auth.login(
        db, body.username, body.password, client_source(request), settings.session_hours, policy
    )
    response.set_cookie(
        auth.SESSION_COOKIE,
        result.session_secret,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    actor = result.actor
    return LoginOut(
        user=ActorOut(id=actor.user_id, username=actor.username, is_admin=actor.is_admin),
        csrf_token=result.csrf_token,
    )


@router.post(
    "/auth/logout",
    tags=["auth"],
    summary="End the browser session",
    status_code=204,
    response_class=Response,
)
def logout(
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> Response:
    """Delete the session behind the cookie and clear the cookie."""
    auth.logout(db, actor, request.cookies.get(auth.SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/me", tags=["auth"], summary="Who am I", response_model=UserOut)
def me(actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> UserInfo:
    """The caller's account and the projects they belong to, with their roles."""
    return describe_me(db, actor)


@router.post(
    "/me/tokens",
    tags=["auth"],
    summary="Create a personal API token",
    status_code=201,
    response_model=NewTokenOut,
)
def create_token(
    body: NewTokenIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> NewTokenOut:
    """A new bearer token for the caller; the token is in this response only."""
    token, info = auth.create_token(db, actor, body.name, body.expires_days)
    return NewTokenOut(
        id=info.id, name=info.name, token=token, prefix=info.prefix, expires_at=info.expires_at
    )


@router.get(
    "/me/tokens", tags=["auth"], summary="List my API tokens", response_model=list[TokenOut]
)
def list_tokens(
    actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> list[auth.TokenInfo]:
    """The caller's tokens, newest first, revoked ones included (never the tokens)."""
    return auth.list_tokens(db, actor)


@router.delete(
    "/me/tokens/{token_id}", tags=["auth"], summary="Revoke an API token", response_model=TokenOut
)
def revoke_token(
    token_id: RowId, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> auth.TokenInfo:
    """Revoke one of the caller's tokens (admins: anyone's)."""
    return auth.revoke_token(db, actor, token_id)
