"""Each account's current judgements in one narrow row (account_judgement) and what they were
built from (judgement_state): the portfolio CSV of a team read health, churn risk, LAER stage
and utilization by probing the score tables per account (40 of its 70 ms of SQL at 10,000
accounts). Empty until the daily run or a first view builds them; read only while current.

Revision ID: 0362
Revises: 0361
Create Date: 2026-12-07 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0362"
down_revision: str | Sequence[str] | None = "0361"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_judgement",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("health_band", sa.String(length=16), nullable=True),
        sa.Column("health_trend", sa.String(length=8), nullable=True),
        sa.Column("churn_probability", sa.Float(), nullable=True),
        sa.Column("arr_at_risk", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("risk_currency", sa.String(length=16), nullable=True),
        sa.Column("laer_stage", sa.String(length=32), nullable=True),
        sa.Column("license_utilization", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_account_judgement_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_judgement")),
    )
    state = op.create_table(
        "judgement_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("built_changes", sa.Integer(), nullable=True),
        sa.Column("health_day", sa.Date(), nullable=True),
        sa.Column("scorecard", sa.String(length=64), nullable=True),
        sa.Column("scorecard_version", sa.String(length=32), nullable=True),
        sa.Column("risk_day", sa.Date(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("metrics_day", sa.Date(), nullable=True),
        sa.Column("lifecycle_model", sa.String(length=16), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgement_state")),
    )
    # The one row writers count their changes in (nothing built yet).
    op.bulk_insert(state, [{"id": 1, "changes": 0}])


def downgrade() -> None:
    op.drop_table("judgement_state")
    op.drop_table("account_judgement")
