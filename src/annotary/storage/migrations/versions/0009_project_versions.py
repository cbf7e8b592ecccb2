"""project revisions; rework of items annotated under older versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 09:00:00

`project_revisions` keeps every state of a project (the schema and guideline
versions in force and the settings), so `project diff` can compare any two; each
existing project gets its current state as revision 1. `reworks` and
`rework_annotations` record items sent back for some fields to be annotated
again under a newer version, and the annotations whose authors redo them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project_revisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("guideline_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_revisions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_project_revisions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_revisions")),
        sa.UniqueConstraint(
            "project_id", "revision", name=op.f("uq_project_revisions_project_id_revision")
        ),
    )
    op.execute(
        "INSERT INTO project_revisions (project_id, revision, schema_version, "
        "guideline_version, title, definition, created_at) "
        "SELECT id, 1, schema_version, guideline_version, title, definition, created_at "
        "FROM projects"
    )
    op.create_table(
        "reworks",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("guideline_version", sa.Integer(), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        sa.Column("previous_final", JSON, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", ID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("completed_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_reworks_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reworks_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_reworks_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reworks")),
    )
    op.create_index(op.f("ix_reworks_item_id"), "reworks", ["item_id"])
    op.create_index("ix_reworks_project_id_status", "reworks", ["project_id", "status"])
    op.create_table(
        "rework_annotations",
        sa.Column("id", ID, nullable=False),
        sa.Column("rework_id", ID, nullable=False),
        sa.Column("annotation_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("previous_payload", JSON, nullable=False),
        sa.Column("previous_schema_version", sa.Integer(), nullable=False),
        sa.Column("previous_guideline_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["rework_id"],
            ["reworks.id"],
            name=op.f("fk_rework_annotations_rework_id_reworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_rework_annotations_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_rework_annotations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rework_annotations")),
        sa.UniqueConstraint(
            "rework_id",
            "annotation_id",
            name=op.f("uq_rework_annotations_rework_id_annotation_id"),
        ),
    )
    op.create_index(
        op.f("ix_rework_annotations_annotation_id"), "rework_annotations", ["annotation_id"]
    )
    op.create_index(
        "ix_rework_annotations_user_id_status", "rework_annotations", ["user_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("rework_annotations")
    op.drop_table("reworks")
    op.drop_table("project_revisions")
