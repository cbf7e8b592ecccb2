"""gold index; room for in-place updates of items (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 04:10:00

`ix_items_gold` serves the gold draw (the first unseen gold item from a random
id on) and its id bounds straight from an index: through `ix_items_queue`,
ordered by priority first, PostgreSQL read and sorted every gold item of the
project per draw (10 ms with 5,000 gold items).

Every lease and submit updates an item's counters. With free space on its page
PostgreSQL updates the row in place (a HOT update: no new index entries), so
the serving index does not fill with dead entries the claim has to step over.
The fill factor applies to pages written from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GOLD = sa.text("status = 'gold'")


def upgrade() -> None:
    op.create_index(
        "ix_items_gold",
        "items",
        ["project_id", "id"],
        postgresql_where=GOLD,
        sqlite_where=GOLD,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE items SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE items RESET (fillfactor)")
    op.drop_index("ix_items_gold", table_name="items")
