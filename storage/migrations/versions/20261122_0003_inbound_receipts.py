"""Receipts of handled updates, so an update delivered again is not handled twice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_receipts",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_inbound_receipts")),
    )
    op.create_index(op.f("ix_inbound_receipts_received_at"), "inbound_receipts",
                    ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_receipts_received_at"), table_name="inbound_receipts")
    op.drop_table("inbound_receipts")
