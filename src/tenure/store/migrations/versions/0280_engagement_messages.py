"""Engagement messages close the loop (issue 18): a draft with a goal and how to check it,
approved by a person, sent through the outbox, logged as a touchpoint, checked N days later

Revision ID: 0280
Revises: 0270
Create Date: 2026-12-06 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0280"
down_revision: str | Sequence[str] | None = "0270"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{table}.id"],
        name=op.f(f"fk_engagement_message_{column}_{table}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "engagement_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("moment", sa.String(length=32), nullable=False),
        sa.Column("goal", sa.String(length=500), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("comparison", sa.String(length=16), nullable=True),
        sa.Column("target", sa.Double(), nullable=True),
        sa.Column("milestone", sa.String(length=64), nullable=True),
        sa.Column("check_after_days", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sent",
                "discarded",
                name="messagestatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("touchpoint_id", sa.Integer(), nullable=True),
        sa.Column("baseline", sa.Double(), nullable=True),
        sa.Column("check_on", sa.Date(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("goal_met", sa.Boolean(), nullable=True),
        sa.Column("measured", sa.Double(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("account_id", "account", "CASCADE"),
        _fk("contact_id", "contact", "SET NULL"),
        _fk("drafted_by_id", "user_account", "SET NULL"),
        _fk("approved_by_id", "user_account", "SET NULL"),
        _fk("outbox_message_id", "outbox_message", "SET NULL"),
        _fk("touchpoint_id", "touchpoint", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_message")),
    )
    with op.batch_alter_table("engagement_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_message_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_engagement_message_check_on"), ["check_on"], unique=False
        )


def downgrade() -> None:
    op.drop_table("engagement_message")
