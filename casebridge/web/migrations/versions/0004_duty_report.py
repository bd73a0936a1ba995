"""Reports filed under the mandatory duty to report child sexual abuse

Revision ID: duty_report
Revises: account_last_totp_step
Create Date: 2026-12-10 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "duty_report"
down_revision = "account_last_totp_step"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "duty_report",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        sa.Column("filed_by", BIG_ID, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("force", sa.String(200), nullable=True),
        sa.Column("postcode_district", sa.String(10), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
    )
    op.create_index("ix_duty_report_force", "duty_report", ["force"])


def downgrade() -> None:
    op.drop_index("ix_duty_report_force", table_name="duty_report")
    op.drop_table("duty_report")
