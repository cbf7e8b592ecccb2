"""calibration rounds

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-27 09:00:00

Calibration rounds (SPEC 4) get tables of their own: their items are copies
(of gold items, or from a file) and their answers are not annotations, so the
queue, the QA report and consensus never count them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "calibration_rounds",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("shuffle", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("guideline_version", sa.Integer(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("calibration_rounds", "project_id", "projects", "CASCADE"),
        _fk("calibration_rounds", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_rounds")),
        sa.UniqueConstraint(
            "project_id", "name", name=op.f("uq_calibration_rounds_project_id_name")
        ),
    )
    op.create_table(
        "calibration_items",
        sa.Column("id", ID, nullable=False),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_item_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("answer", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _fk("calibration_items", "round_id", "calibration_rounds", "CASCADE"),
        _fk("calibration_items", "source_item_id", "items", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_items")),
        sa.UniqueConstraint(
            "round_id", "position", name=op.f("uq_calibration_items_round_id_position")
        ),
    )
    op.create_table(
        "calibration_participants",
        sa.Column("id", ID, nullable=False),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        _fk("calibration_participants", "round_id", "calibration_rounds", "CASCADE"),
        _fk("calibration_participants", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_participants")),
        sa.UniqueConstraint(
            "round_id", "user_id", name=op.f("uq_calibration_participants_round_id_user_id")
        ),
    )
    with op.batch_alter_table("calibration_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibration_participants_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "calibration_answers",
        sa.Column("id", ID, nullable=False),
        sa.Column("round_id", ID, nullable=False),
        sa.Column("calibration_item_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("matches", JSON, nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("time_spent_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("calibration_answers", "round_id", "calibration_rounds", "CASCADE"),
        _fk("calibration_answers", "calibration_item_id", "calibration_items", "CASCADE"),
        _fk("calibration_answers", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_answers")),
        sa.UniqueConstraint(
            "calibration_item_id",
            "user_id",
            name=op.f("uq_calibration_answers_calibration_item_id_user_id"),
        ),
    )
    with op.batch_alter_table("calibration_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibration_answers_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calibration_answers_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("calibration_answers")
    op.drop_table("calibration_participants")
    op.drop_table("calibration_items")
    op.drop_table("calibration_rounds")
