"""import batches record their progress: state, runner, heartbeat; parent index partial

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:00:00

An import now commits in bounded batches instead of one transaction, so its
row in `import_batches` says whether it is still running (and in which process,
with a heartbeat), finished, or was interrupted. Imports recorded before this
revision all finished: they get `done`.

`ix_items_parent_id` leaves out items without a parent (all but turn items):
every imported row added a NULL entry to it, and lookups are by a parent id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

HAS_PARENT = sa.text("parent_id IS NOT NULL")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_batches") as batch:
        batch.add_column(
            sa.Column("state", sa.String(length=16), server_default="done", nullable=False)
        )
        batch.add_column(sa.Column("runner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_items_parent_id", table_name="items")
    op.create_index(
        "ix_items_parent_id",
        "items",
        ["parent_id"],
        postgresql_where=HAS_PARENT,
        sqlite_where=HAS_PARENT,
    )


def downgrade() -> None:
    op.drop_index("ix_items_parent_id", table_name="items")
    op.create_index("ix_items_parent_id", "items", ["parent_id"])
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("heartbeat_at")
        batch.drop_column("runner")
        batch.drop_column("state")
