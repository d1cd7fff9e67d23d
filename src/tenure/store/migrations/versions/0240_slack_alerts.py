"""Slack alerts: the outbox of Slack messages (risk crossing, champion left, health turned red,
a CTA assigned) posted to a channel or a CSM's direct messages

Revision ID: 0240
Revises: 0230
Create Date: 2026-12-06 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0240"
down_revision: str | Sequence[str] | None = "0230"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "slack_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=True),
        sa.Column("user_email", sa.String(length=320), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", _JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("posted_channel", sa.String(length=64), nullable=True),
        sa.Column("posted_ts", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_slack_alert_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_alert")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_slack_alert_dedupe_key")),
    )
    op.create_index(op.f("ix_slack_alert_as_of"), "slack_alert", ["as_of"], unique=False)
    op.create_index(op.f("ix_slack_alert_account_id"), "slack_alert", ["account_id"], unique=False)
    op.create_index(
        "ix_slack_alert_status_next", "slack_alert", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_slack_alert_status_next", table_name="slack_alert")
    op.drop_index(op.f("ix_slack_alert_account_id"), table_name="slack_alert")
    op.drop_index(op.f("ix_slack_alert_as_of"), table_name="slack_alert")
    op.drop_table("slack_alert")
