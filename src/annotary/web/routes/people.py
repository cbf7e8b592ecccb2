"""People (SPEC 4): deactivate, reactivate, reset passwords and set skills (global
admins); change one's own password; one's own self-reported attributes; remove
members and see the pool in aggregate (managers); one's own statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from annotary.core.people import ATTRIBUTE_KEYS, MAX_TAGS
from annotary.services.identity import accounts, attributes, members, stats
from annotary.services.identity.access import Actor
from annotary.services.identity.auth import SESSION_COOKIE
from annotary.services.identity.users import UserInfo
from annotary.storage.db import Database
from annotary.web.deps import current_actor, get_db
from annotary.web.schemas import ERROR_RESPONSES, Input, UserOut

router = APIRouter(responses=ERROR_RESPONSES)
UsernamePath = Annotated[str, Path(min_length=1, max_length=64, description="Login name")]


class AccountChangeOut(BaseModel):
    username: str
    is_active: bool
    sessions_ended: int
    tokens_revoked: int
    leases_released: int


class UserUpdateIn(Input):
    skills: list[str] | None = Field(
        default=None, max_length=MAX_TAGS, description="Replaces the skills; null: unchanged"
    )
    languages: list[str] | None = Field(
        default=None, max_length=MAX_TAGS, description="Replaces the languages; null: unchanged"
    )


class PasswordIn(Input):
    password: str = Field(max_length=1024, description="At least 8 characters")


class OwnPasswordIn(Input):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024, description="At least 8 characters")


class AttributesIn(Input):
    attributes: dict[str, str] = Field(
        max_length=len(ATTRIBUTE_KEYS),
        description=f"Replaces all of yours; keys: {', '.join(ATTRIBUTE_KEYS)}; "
        "values up to 64 characters; {} clears them",
    )


class AttributesOut(BaseModel):
    attributes: dict[str, str] = Field(description="Yours, as stored; nobody else sees them")
    keys: list[str] = Field(description="Every attribute you may give (all optional)")


class RemovalOut(BaseModel):
    username: str
    role: str
    leases_released: int


class PoolAttributeOut(BaseModel):
    attribute: str
    counts: dict[str, int] = Field(description="People per value; only values given by >= k")
    suppressed_values: int = Field(description="Values withheld (fewer than k people)")
    undisclosed: int = Field(description="Members who did not give this attribute")
    normalized_entropy: float | None


class PoolOut(BaseModel):
    project: str
    k_anonymity: int
    members: int = Field(description="Members in an annotating role (the pool)")
    attributes: list[PoolAttributeOut]
    note: str


class GoldOut(BaseModel):
    answered: int
    correct: int
    accuracy: float | None
    ci_low: float | None = Field(description="Wilson 95% interval")
    ci_high: float | None
    counted_until: datetime = Field(description="Gold answers given before this time count")


class FieldAgreementOut(BaseModel):
    field: str
    compared: int
    matching: int
    share: float


class AgreementOut(BaseModel):
    items: int = Field(description="Items you annotated that have a final label")
    fields: list[FieldAgreementOut]


class ThroughputOut(BaseModel):
    annotations: int
    active_days: int
    per_active_day: float | None
    active_hours: float = Field(description="Work sessions (pauses over 30 min split them)")
    per_active_hour: float | None
    median_seconds: float | None
    first_at: datetime | None
    last_at: datetime | None


class StatsOut(BaseModel):
    project: str
    username: str
    gold: GoldOut
    agreement: AgreementOut
    throughput: ThroughputOut


@router.patch(
    "/users/{username}", tags=["users"], summary="Set skills and languages", response_model=UserOut
)
def update_user(
    body: UserUpdateIn,
    username: UsernamePath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> UserInfo:
    """Replace a user's skills and/or languages (global admins; skills route work in
    every project the user belongs to)."""
    return accounts.update_user(
        db, username, skills=body.skills, languages=body.languages, actor=actor
    )


@router.post(
    "/users/{username}/deactivate",
    tags=["users"],
    summary="Deactivate a user",
    response_model=AccountChangeOut,
)
def deactivate(
    username: UsernamePath, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> accounts.AccountChange:
    """No more logins; sessions end, API tokens are revoked, live leases go back to the
    queue; annotations stay. Not the last active admin (409 E406). Global admins."""
    return accounts.deactivate_user(db, username, actor)


@router.post(
    "/users/{username}/reactivate",
    tags=["users"],
    summary="Reactivate a user",
    response_model=AccountChangeOut,
)
def reactivate(
    username: UsernamePath, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> accounts.AccountChange:
    """Let a deactivated user log in again; revoked tokens stay revoked. Global admins."""
    return accounts.reactivate_user(db, username, actor)


@router.post(
    "/users/{username}/password",
    tags=["users"],
    summary="Reset a user's password",
    response_model=AccountChangeOut,
)
def reset_password(
    body: PasswordIn,
    username: UsernamePath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> accounts.AccountChange:
    """Set a new password (argon2id); the user's browser sessions end. Global admins."""
    return accounts.reset_password(db, username, body.password, actor)


@router.post(
    "/me/password", tags=["auth"], summary="Change my password", response_model=AccountChangeOut
)
def change_password(
    body: OwnPasswordIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> accounts.AccountChange:
    """Change your password given the old one (403 E407 if wrong); your other browser
    sessions end, this one stays."""
    current = request.cookies.get(SESSION_COOKIE)
    return accounts.change_own_password(
        db, actor, body.old_password, body.new_password, current_session=current
    )


@router.get(
    "/me/attributes",
    tags=["auth"],
    summary="My self-reported attributes",
    response_model=AttributesOut,
)
def my_attributes(
    actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> AttributesOut:
    """Your optional self-reported attributes; managers see them only as pool counts."""
    return AttributesOut(attributes=attributes.own_attributes(db, actor), keys=list(ATTRIBUTE_KEYS))


@router.put(
    "/me/attributes",
    tags=["auth"],
    summary="Set my self-reported attributes",
    response_model=AttributesOut,
)
def set_my_attributes(
    body: AttributesIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> AttributesOut:
    """Replace your attributes (never required; 422 E408 for an unknown key or a bad value)."""
    stored = attributes.set_own_attributes(db, actor, body.attributes)
    return AttributesOut(attributes=stored, keys=list(ATTRIBUTE_KEYS))


@router.delete(
    "/me/attributes",
    tags=["auth"],
    summary="Clear my self-reported attributes",
    status_code=204,
    response_class=Response,
)
def clear_my_attributes(
    actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> Response:
    """Delete every attribute you gave."""
    attributes.clear_own_attributes(db, actor)
    return Response(status_code=204)


@router.delete(
    "/projects/{name}/members/{username}",
    tags=["members"],
    summary="Remove a member",
    response_model=RemovalOut,
)
def remove_member(
    name: str,
    username: UsernamePath,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_db),
) -> members.Removal:
    """Take a user out of the project: their live leases go back to the queue; their
    annotations stay and keep counting. Managers and admins."""
    return members.remove_member(db, name, username, actor)


@router.get(
    "/projects/{name}/pool",
    tags=["members"],
    summary="The annotator pool in aggregate",
    response_model=PoolOut,
)
def pool(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> attributes.PoolSummary:
    """People per self-reported attribute value among the project's annotators, values
    given by fewer than 5 people withheld. Managers and admins."""
    return attributes.pool_summary(db, name, actor)


@router.get(
    "/projects/{name}/me/stats", tags=["members"], summary="My statistics", response_model=StatsOut
)
def my_stats(
    name: str, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)
) -> dict[str, Any]:
    """Your own figures in the project (members): gold accuracy with a Wilson 95%
    interval (gold answers before 00:00 UTC today only, so no submit tells which item
    was gold), agreement with the final labels of the items you annotated (per field)
    and throughput (per active day, per active hour, median seconds per task)."""
    return stats.own_stats(db, actor, name).to_dict()
