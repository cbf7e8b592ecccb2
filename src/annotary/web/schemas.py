"""Request and response bodies of the API (pydantic models at the edge).

Inputs forbid unknown keys, so a misspelt field is an error rather than a
silent default. Responses are built from the services' dataclasses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["annotator", "reviewer", "expert", "manager"]


class Input(BaseModel):
    """Base of request bodies: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


# -- errors -------------------------------------------------------------------------


class ErrorDetailOut(BaseModel):
    path: str = Field(description="Where: a field path like `username` or `query.on_error`")
    reason: str
    location: str | None = Field(default=None, description="e.g. `data.jsonl:7`")


class ErrorBodyOut(BaseModel):
    code: str = Field(description="Stable error code, e.g. E401 (see the README)")
    message: str
    details: list[ErrorDetailOut] = Field(default_factory=list)


class ErrorOut(BaseModel):
    """Every error response has this shape."""

    error: ErrorBodyOut


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (401, "Not authenticated (E701, E705, E706)"),
        (403, "Authenticated but not allowed (E702, E703, E704)"),
        (404, "Not found, or not visible to the caller"),
        (422, "Invalid input; `details` lists every field"),
    )
}
"""The error responses every router documents in the OpenAPI schema."""


# -- auth and users -----------------------------------------------------------------


class LoginIn(Input):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class ActorOut(BaseModel):
    id: int
    username: str
    is_admin: bool


class LoginOut(BaseModel):
    user: ActorOut
    csrf_token: str = Field(
        description="Send back as the X-CSRF-Token header on POST/PUT/PATCH/DELETE"
    )


class ProjectRoleOut(BaseModel):
    project: str
    title: str | None
    role: Role


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    email: str | None
    is_admin: bool
    is_active: bool
    skills: list[str]
    languages: list[str]
    created_at: datetime
    memberships: list[ProjectRoleOut]


class NewUserIn(Input):
    username: str
    password: str | None = Field(
        default=None, description="At least 8 characters; none: API tokens only"
    )
    admin: bool = False
    display_name: str | None = None
    email: str | None = None
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    project: str | None = Field(default=None, description="Also make them a member of it")
    role: Role = "annotator"


class NewTokenIn(Input):
    name: str = Field(max_length=100)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewTokenOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="The token itself: shown once, never again")
    prefix: str
    expires_at: datetime | None


# -- projects -----------------------------------------------------------------------


class NewProjectIn(Input):
    yaml: str = Field(description="The project file's text")
    guidelines: str | None = Field(
        default=None, description="Text of the file the project's `guidelines.path` names"
    )


class ProjectCreatedOut(BaseModel):
    name: str
    item_kind: str
    schema_version: int
    guideline_version: int


class ProjectSummaryOut(BaseModel):
    name: str
    title: str | None
    item_kind: str
    role: Role | None = Field(description="The caller's role; null for a non-member admin")
    created_at: datetime


class GuidelinesVersionOut(BaseModel):
    version: int
    created_at: datetime


class ProjectDetailOut(BaseModel):
    name: str
    title: str | None
    item_kind: str
    role: Role | None
    objective: dict[str, Any]
    schema_version: int
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    guideline_version: int
    guidelines: str = Field(description="Markdown of the current version")
    guideline_versions: list[GuidelinesVersionOut]
    workflow: dict[str, Any]
    confidentiality_terms: str | None
    terms_accepted_at: datetime | None
    created_at: datetime
    export: dict[str, Any]

    model_config = ConfigDict(populate_by_name=True)


class StatusCountOut(BaseModel):
    status: str
    kind: str
    count: int


class ProjectStatusOut(BaseModel):
    project: str
    item_kind: str
    schema_version: int
    guideline_version: int
    total_items: int
    items: list[StatusCountOut]
    gold_items: int
    prelabels: int
    annotations: int
    imports: int


class MemberIn(Input):
    username: str
    role: Role


class MemberOut(BaseModel):
    username: str
    display_name: str | None
    role: Role
    terms_accepted_at: datetime | None
    qualified_at: datetime | None
    qualification_failed_at: datetime | None
    paused_at: datetime | None
    pause_reason: str | None
    gold_answered: int
    gold_correct: int


class ImportReportOut(BaseModel):
    source: str
    rows_read: int
    items_added: int
    child_items_added: int
    duplicates: int
    rejected: int
    prelabels_added: int
    gold_added: int
    rejects_path: str | None = Field(description="Always null over the API: see `errors`")
    errors: list[ErrorDetailOut] = Field(description="Bad rows (at most 1000), as FILE:LINE")
