"""project secrets; submit counters per membership

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00

`project_secrets` holds one random key per project (existing projects get a
fresh one here). It keys the review sample and the item references annotators
see, so neither follows from the sequential item ids (SPEC 5: gold and
sampled items are indistinguishable). It is a table of its own rather than a
column of `projects`: nothing that reads or shows a project carries it, and
SQLite needs no table rebuild (rebuilding `projects` with foreign keys on
would cascade deletes into every table that points at it).

`memberships.annotations_submitted` and `last_submit_at` are written by every
submit in the same statement that counts gold answers, so a gold and a normal
submit do the same work; they are filled here from the stored annotations.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "project_secrets",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_secrets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_secrets")),
    )
    bind = op.get_bind()
    project_ids = bind.execute(sa.text("SELECT id FROM projects")).scalars().all()
    if project_ids:
        bind.execute(
            sa.text("INSERT INTO project_secrets (project_id, secret) VALUES (:p, :s)"),
            [{"p": p, "s": secrets.token_hex(32)} for p in project_ids],
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("annotations_submitted", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_submit_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE memberships SET annotations_submitted = (SELECT count(*) FROM annotations "
        "WHERE annotations.project_id = memberships.project_id "
        "AND annotations.user_id = memberships.user_id), last_submit_at = "
        "(SELECT max(created_at) FROM annotations "
        "WHERE annotations.project_id = memberships.project_id "
        "AND annotations.user_id = memberships.user_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("last_submit_at")
        batch_op.drop_column("annotations_submitted")
    op.drop_table("project_secrets")
