"""SQLAlchemy 2 models: the tables behind every part of the pipeline.

One set of models and migrations serves SQLite and PostgreSQL. JSON columns are
JSONB on PostgreSQL. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonType = JSON().with_variant(JSONB(), "postgresql")
# BIGINT ids on PostgreSQL; INTEGER on SQLite so the id is the rowid alias.
IdType = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JsonType, list[Any]: JsonType}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Optional self-reported demographics, used only in aggregate (bias analysis)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str | None] = mapped_column(String(200))
    item_kind: Mapped[str] = mapped_column(String(32))
    definition: Mapped[dict[str, Any]]
    """The validated project file minus schema and guidelines (they are versioned)."""
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    """The current schema version (a row of schema_versions)."""
    guideline_version: Mapped[int] = mapped_column(Integer, default=1)
    """The current guidelines version (a row of guideline_versions)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    secret_row: Mapped[ProjectSecret] = relationship(lazy="select")
    """The project's secret key (loaded only when asked for)."""


def new_project_secret() -> str:
    """32 random bytes, hex."""
    return secrets.token_hex(32)


class ProjectSecret(Base):
    """A project's random secret key (SPEC 5): it keys the review sample and the
    item references annotators see. Kept out of `projects` so that nothing that
    reads or shows a project (its definition, API views, exports) carries it."""

    __tablename__ = "project_secrets"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64), default=new_project_secret)

    def __repr__(self) -> str:
        return f"ProjectSecret(project_id={self.project_id!r}, secret=...)"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    qualified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    qualification_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    gold_answered: Mapped[int] = mapped_column(Integer, default=0)
    gold_correct: Mapped[int] = mapped_column(Integer, default=0)
    qualification_answered: Mapped[int] = mapped_column(Integer, default=0)
    qualification_correct: Mapped[int] = mapped_column(Integer, default=0)
    annotations_submitted: Mapped[int] = mapped_column(Integer, default=0)
    """Annotations the member submitted in the project (gold included)."""
    last_submit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the member last submitted a task (an annotation or flags)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchemaVersion(Base):
    __tablename__ = "schema_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GuidelineVersion(Base):
    __tablename__ = "guideline_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectRevision(Base):
    """One state of a project: written at creation and by every update that changes
    anything (schema and guideline versions in force, settings, title)."""

    __tablename__ = "project_revisions"
    __table_args__ = (UniqueConstraint("project_id", "revision"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    schema_version: Mapped[int] = mapped_column(Integer)
    guideline_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]]
    """The project settings of this revision (as `Project.definition`)."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportBatch(Base):
    """One run of `import`: where rows came from and what became of them.

    The counts are updated with every committed batch, so they always describe
    what is stored, also for an import that stopped mid-way."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(1000))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    items_added: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="running", server_default="done")
    """`running` while rows are being written, then `done`; `interrupted` when its
    process died or failed mid-way (the items it committed stay, complete)."""
    runner: Mapped[str | None] = mapped_column(String(200))
    """`host:pid` of the process writing it, to tell a live import from a dead one."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Refreshed with every committed batch while `running`."""
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("project_id", "content_hash"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    external_id: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    turn_index: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    annotation_count: Mapped[int] = mapped_column(Integer, default=0)
    lease_count: Mapped[int] = mapped_column(Integer, default=0)
    """Live leases on the item; annotation_count + lease_count never exceeds overlap."""
    route_rule: Mapped[int | None] = mapped_column(Integer)
    """Index of the project's routing rule this item matches (None: any annotator)."""
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Serving order: highest priority first, then import order.
Index("ix_items_queue", Item.project_id, Item.status, Item.priority.desc(), Item.id)
# Turn items by their conversation; most items have no parent and stay out of
# it (every import row would add a NULL entry; see migration 0011).
Index(
    "ix_items_parent_id",
    Item.parent_id,
    postgresql_where=text("parent_id IS NOT NULL"),
    sqlite_where=text("parent_id IS NOT NULL"),
)
# Gold items by id, for the gold draw (see migration 0004).
Index(
    "ix_items_gold",
    Item.project_id,
    Item.id,
    postgresql_where=text("status = 'gold'"),
    sqlite_where=text("status = 'gold'"),
)


class Prelabel(Base):
    __tablename__ = "prelabels"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    annotation: Mapped[dict[str, Any]]
    confidence: Mapped[float | None] = mapped_column(Float)
    schema_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GoldAnswer(Base):
    __tablename__ = "gold_answers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    answer: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    qualification: Mapped[bool] = mapped_column(Boolean, default=False)
    schema_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Lease(Base):
    __tablename__ = "leases"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]]
    schema_version: Mapped[int] = mapped_column(Integer)
    guideline_version: Mapped[int] = mapped_column(Integer)
    time_spent_ms: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    gold_correct: Mapped[bool | None] = mapped_column(Boolean)
    """For a gold item: whether the answer matched the gold answer; else NULL."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FinalLabel(Base):
    __tablename__ = "final_labels"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    payload: Mapped[dict[str, Any]]
    method: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    agreement: Mapped[float | None] = mapped_column(Float)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    """Per field of a consensus: {method, measure, agreement, confidence, threshold};
    empty for a human decision (the item-level `method` says which)."""
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rework(Base):
    """An item sent back for some fields to be annotated again under a newer schema
    or guideline version (the item waits in status `rework` while it is open)."""

    __tablename__ = "reworks"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    fields: Mapped[list[Any]]
    """Names of the fields to annotate again (every annotation's fields, united)."""
    schema_version: Mapped[int] = mapped_column(Integer)
    """The version the fields are redone under."""
    guideline_version: Mapped[int] = mapped_column(Integer)
    previous_status: Mapped[str] = mapped_column(String(16))
    previous_final: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    """The final label when the rework began (payload, method, confidence, agreement)."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    """`open`, `done` or `cancelled`."""
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index("ix_reworks_project_id_status", Rework.project_id, Rework.status)


class ReworkAnnotation(Base):
    """One annotation of an item in rework whose author is to redo some fields."""

    __tablename__ = "rework_annotations"
    __table_args__ = (UniqueConstraint("rework_id", "annotation_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    rework_id: Mapped[int] = mapped_column(ForeignKey("reworks.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fields: Mapped[list[Any]]
    """The fields this annotation's author redoes."""
    previous_payload: Mapped[dict[str, Any]]
    previous_schema_version: Mapped[int] = mapped_column(Integer)
    previous_guideline_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    """`open`, `done`, or `dropped` (its author can no longer do it)."""
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index("ix_rework_annotations_user_id_status", ReworkAnnotation.user_id, ReworkAnnotation.status)


class AuditEvent(Base):
    """Append-only log; each row's hash covers the previous one (tamper evidence)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str | None] = mapped_column(String(200))
    """Where the action came from: `cli`, or the client address for the API."""
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A personal bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A browser login: the cookie carries the secret, the table its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Skip(Base):
    """An annotator passed on an item; it is not served to them again."""

    __tablename__ = "skips"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ItemFlag(Base):
    """A flag raised on an item (sensitive, unclear_guideline, needs_expert)."""

    __tablename__ = "item_flags"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    flag: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnnotatorModel(Base):
    """Fitted per-annotator parameters of an aggregation model (Dawid-Skene),
    used to label items as they complete until the next refit."""

    __tablename__ = "annotator_models"
    __table_args__ = (UniqueConstraint("project_id", "field", "method"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]]
    """{"labels": [...], "priors": [...], "errors": {user_id: [[true x observed]]}}"""
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalibrationRound(Base):
    """A fixed set of items with expert answers that every participant annotates
    (SPEC 4). Its items and answers live in their own tables: the queue, QA and
    consensus never see them."""

    __tablename__ = "calibration_rounds"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    shuffle: Mapped[bool] = mapped_column(Boolean, default=False)
    """Each participant meets the items in an order of their own (else in `position` order)."""
    seed: Mapped[int] = mapped_column(Integer)
    """Seeds the per-participant orders, so a participant's order never changes."""
    schema_version: Mapped[int] = mapped_column(Integer)
    guideline_version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalibrationItem(Base):
    """One item of a calibration round: a copy of its content, the expert answer and why."""

    __tablename__ = "calibration_items"
    __table_args__ = (UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    """The gold item it was copied from, if any."""
    kind: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict[str, Any]]
    answer: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)


class CalibrationParticipant(Base):
    """Who takes part in a round (fixed when the round is made)."""

    __tablename__ = "calibration_participants"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class CalibrationAnswer(Base):
    """A participant's answer to a calibration item and how it compares with the expert's."""

    __tablename__ = "calibration_answers"
    __table_args__ = (UniqueConstraint("calibration_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_rounds.id", ondelete="CASCADE"), index=True
    )
    calibration_item_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_items.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]]
    matches: Mapped[dict[str, Any]]
    """Per compared field of the expert answer: whether this answer gave the same value."""
    correct: Mapped[bool | None] = mapped_column(Boolean)
    """Every compared field matched (None when no field could be compared)."""
    time_spent_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginThrottle(Base):
    """Failed logins counted per account or client address, so that every server
    process sees the same counts (see `services/identity/throttle.py`)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    """`account:<username>` or `address:<client address>`."""
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
