"""Lifecycle models (issue 18): the model in force (LAER, ESG or ClientSuccess) and a stage
history per model, so switching the model shows its stages at once

Revision ID: 0310
Revises: 0300
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0310"
down_revision: str | Sequence[str] | None = "0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_setting")),
    )
    with op.batch_alter_table("lifecycle_stage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("model", sa.String(length=16), nullable=False, server_default="laer")
        )
        batch_op.alter_column(
            "stage", existing_type=sa.String(length=16), type_=sa.String(length=32)
        )
        batch_op.drop_constraint("uq_lifecycle_stage_account_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_lifecycle_stage_day", ["account_id", "model", "effective_on"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM lifecycle_stage WHERE model <> 'laer'")
    with op.batch_alter_table("lifecycle_stage", schema=None) as batch_op:
        batch_op.drop_constraint("uq_lifecycle_stage_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_lifecycle_stage_account_id", ["account_id", "effective_on"]
        )
        batch_op.alter_column(
            "stage", existing_type=sa.String(length=32), type_=sa.String(length=16)
        )
        batch_op.drop_column("model")
    op.drop_table("lifecycle_setting")
