"""Scorecard backtests run in a background process, not inside the request that saved the
version (issue 18): each requested backtest with its state (queued, running, done, failed)

Revision ID: 0320
Revises: 0310
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0320"
down_revision: str | Sequence[str] | None = "0310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{table}.id"],
        name=op.f(f"fk_scorecard_backtest_{column}_{table}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "scorecard_backtest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="backteststatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("base_id", "scorecard_version", "CASCADE"),
        _fk("candidate_id", "scorecard_version", "CASCADE"),
        _fk("requested_by_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_backtest")),
    )
    with op.batch_alter_table("scorecard_backtest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scorecard_backtest_base_id"), ["base_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("scorecard_backtest")
