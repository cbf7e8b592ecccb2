"""Bodies of the project version routes (update, diff, rework)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from annotary.web.schemas import Input


class VersionRefOut(BaseModel):
    revision: int | None = Field(description="The stored revision; null for the update's result")
    schema_version: int
    guideline_version: int


class FieldChangeOut(BaseModel):
    field: str
    aspect: str = Field(
        description="`field` (added/removed), `kind`, `labels added`, `labels removed`, "
        "`label options`, `position` or an option name (`max`, `required`, `when`, ...)"
    )
    before: Any
    after: Any
    effect: Literal["breaking", "widening", "neutral"] = Field(
        description="breaking: stored values may no longer validate; widening: they stay "
        "valid but the choice changed; neutral: wording only"
    )
    note: str
    text: str = Field(description="The change as one readable line")


class SettingChangeOut(BaseModel):
    path: str = Field(description="Dotted path, e.g. `workflow.overlap`")
    before: Any
    after: Any
    text: str


class ProjectDiffOut(BaseModel):
    before: VersionRefOut
    after: VersionRefOut
    schema_: list[FieldChangeOut] = Field(alias="schema", serialization_alias="schema")
    guidelines: list[str] = Field(description="Unified diff lines; empty when unchanged")
    settings: list[SettingChangeOut]


class InvalidValueOut(BaseModel):
    record: str = Field(description="`annotation`, `gold answer`, `pre-label` or `final label`")
    record_id: int
    item_id: int
    external_id: str | None
    path: str
    reason: str


class InvalidatedOut(BaseModel):
    record: str
    checked: int
    invalid: int
    by_field: dict[str, int]
    examples: list[InvalidValueOut] = Field(description="The first 20 invalid values")


class UpdatePlanOut(BaseModel):
    project: str
    changed: bool
    revision: int | None = Field(description="The revision made; null if nothing was applied")
    new_schema_version: int | None
    new_guideline_version: int | None
    diff: ProjectDiffOut
    invalidates: bool
    invalidated: list[InvalidatedOut]
    warnings: list[str] = Field(description="Effects on stored items worth knowing")
    settled: int = Field(description="Queued items a lowered overlap completed, aggregated")


class ReworkIn(Input):
    fields: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=200,
        description="Fields to redo (also for annotations made under an older guideline "
        "version only); default: every field that changed",
    )
    dry_run: bool = Field(default=False, description="Only say what would be sent back")


class ReworkExampleOut(BaseModel):
    item_id: int
    external_id: str | None
    annotation_id: int
    username: str
    schema_version: int
    guideline_version: int
    fields: list[str]


class ReworkOut(BaseModel):
    project: str
    schema_version: int = Field(description="The version the fields are redone under")
    guideline_version: int
    requested: list[str] | None
    items: int
    annotations: int
    by_field: dict[str, int]
    by_version: dict[str, int]
    dropped: int = Field(description="Annotations whose authors left the project: not redone")
    skipped: dict[str, int] = Field(description="Items left alone, by reason")
    examples: list[ReworkExampleOut]
    applied: bool


class ReworkCancelledOut(BaseModel):
    project: str
    cancelled_items: int
