"""Form drafts carry a token (for their buttons) and a context (project, earlier values).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Drafts are at most a day old and hold no submitted data: clearing them is the safe move.
    op.execute("DELETE FROM form_drafts")
    with op.batch_alter_table("form_drafts") as batch:
        batch.add_column(sa.Column("token", sa.String(length=16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("context", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("form_drafts") as batch:
        batch.drop_column("context")
        batch.drop_column("token")
