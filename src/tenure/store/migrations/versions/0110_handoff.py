"""Handoffs (sales → services → CSM) and failed sign-ins shared by every server process

Revision ID: 0110
Revises: 0100
Create Date: 2026-11-26 23:06:29.319839
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0110"
down_revision: str | Sequence[str] | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index("ix_login_failure_key_at", ["key", "failed_at"], unique=False)

    op.create_table(
        "account_handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "sales_to_services",
                "services_to_csm",
                "sales_to_csm",
                name="handoffstep",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("handed_off_on", sa.Date(), nullable=False),
        sa.Column("desired_outcome_id", sa.Integer(), nullable=True),
        sa.Column(
            "fit_answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("success_potential", sa.Boolean(), nullable=True),
        sa.Column("fit_band", sa.String(length=16), nullable=False),
        sa.Column(
            "fit_reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_account_handoff_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desired_outcome_id"],
            ["desired_outcome.id"],
            name=op.f("fk_account_handoff_desired_outcome_id_desired_outcome"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"],
            ["user_account.id"],
            name=op.f("fk_account_handoff_from_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_account_handoff_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"],
            ["user_account.id"],
            name=op.f("fk_account_handoff_to_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_handoff")),
    )
    with op.batch_alter_table("account_handoff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_handoff_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_handoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_handoff_account_id"))

    op.drop_table("account_handoff")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_key_at")
        batch_op.drop_index(batch_op.f("ix_login_failure_failed_at"))

    op.drop_table("login_failure")
