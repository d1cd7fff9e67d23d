"""Engagement messages imported from Tenure's own file (the demo company's sent messages, a
restore): each keeps the id it was exported with, so a re-import updates it (issue 18)

Revision ID: 0340
Revises: 0330
Create Date: 2026-12-07 01:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0340"
down_revision: str | Sequence[str] | None = "0330"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engagement_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_engagement_message_external_id"), ["external_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("engagement_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_message_external_id"))
        batch_op.drop_column("external_id")
