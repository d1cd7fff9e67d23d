"""Churn records: foreseen may be unknown — a loss noticed before Tenure watched the base
could not have been foreseen or missed (issue 18)

Revision ID: 0210
Revises: 0200
Create Date: 2026-12-06 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0210"
down_revision: str | Sequence[str] | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("churn_record", schema=None) as batch_op:
        batch_op.alter_column("foreseen", existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    record = sa.table("churn_record", sa.column("foreseen", sa.Boolean()))
    op.execute(record.update().where(record.c.foreseen.is_(None)).values(foreseen=False))
    with op.batch_alter_table("churn_record", schema=None) as batch_op:
        batch_op.alter_column("foreseen", existing_type=sa.Boolean(), nullable=False)
