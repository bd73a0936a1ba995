"""The trail's head row: the lock every append takes, and the Merkle frontier

Revision ID: trail_head
Revises: 0001
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "trail_head"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "trail_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("frontier", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # the one row appends lock; its size stays empty until the first append builds it from
    # whatever the trail already holds
    op.bulk_insert(head, [{"id": 1, "size": None, "last_hash": None, "frontier": None}])


def downgrade() -> None:
    op.drop_table("trail_head")
