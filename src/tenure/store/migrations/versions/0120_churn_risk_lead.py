"""Churn risk scores say the lead time of their window (P(churn between lead and horizon days))

Revision ID: 0120
Revises: 0110
Create Date: 2026-11-27 04:40:26.780420
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120"
down_revision: str | Sequence[str] | None = "0110"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Scores stored before this revision predicted churn within the horizon: a lead of 0 days.
    with op.batch_alter_table("churn_risk_score", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lead_days", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("churn_risk_score", schema=None) as batch_op:
        batch_op.drop_column("lead_days")
