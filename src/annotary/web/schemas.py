"""Request and response bodies of the API (pydantic models at the edge).

Inputs forbid unknown keys, so a misspelt field is an error rather than a
silent default. Responses are built from the services' dataclasses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

Role = Literal["annotator", "reviewer", "expert", "manager"]

MAX_ROW_ID = 2**63 - 1
"""Largest row id: ids are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite."""
MAX_TIME_SPENT_MS = 24 * 3600 * 1000
"""Longest time a submit may say it took (one day); the column is a 32-bit INTEGER."""
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A positive row id")]
"""A row id in a path, bounded so that it fits the column it is looked up in."""
Tag = Annotated[str, Field(min_length=1, max_length=64)]


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
    request_id: str = Field(description="Also the X-Request-ID header; quote it in reports")


class ErrorOut(BaseModel):
    """Every error response has this shape."""

    error: ErrorBodyOut


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (401, "Not authenticated (E701, E705, E706)"),
        (403, "Authenticated but not allowed (E702, E703, E704)"),
        (404, "Not found, or not visible to the caller"),
        (413, "The request body is over its size limit (E711)"),
        (422, "Invalid input; `details` lists every field"),
        (500, "An unexpected error (E714, E715); the server log has it under `request_id`"),
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
    username: str = Field(max_length=64)
    password: str | None = Field(
        default=None, max_length=1024, description="At least 8 characters; none: API tokens only"
    )
    admin: bool = False
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    skills: list[Tag] = Field(default_factory=list, max_length=100)
    languages: list[Tag] = Field(default_factory=list, max_length=100)
    project: str | None = Field(
        default=None, max_length=63, description="Also make them a member of it"
    )
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
    username: str = Field(max_length=64)
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
