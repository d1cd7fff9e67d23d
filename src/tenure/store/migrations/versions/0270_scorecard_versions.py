"""Health scorecard versions as stored definitions (issue 18): the definition, who saved it, when,
and which version is in force; a day's scores are kept per version, so rescoring with a new
version keeps the old version's scores

Revision ID: 0270
Revises: 0260
Create Date: 2026-12-06 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0270"
down_revision: str | Sequence[str] | None = "0260"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scorecard_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("saved_via", sa.String(length=16), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_force_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("put_in_force_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_by_id"],
            ["user_account.id"],
            name=op.f("fk_scorecard_version_saved_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["put_in_force_by_id"],
            ["user_account.id"],
            name=op.f("fk_scorecard_version_put_in_force_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_version")),
        sa.UniqueConstraint("scorecard", "version", name="uq_scorecard_version"),
    )
    op.create_table(
        "scorecard_comparison",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("data_end", sa.Date(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["scorecard_version.id"],
            name=op.f("fk_scorecard_comparison_base_id_scorecard_version"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["scorecard_version.id"],
            name=op.f("fk_scorecard_comparison_candidate_id_scorecard_version"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_by_id"],
            ["user_account.id"],
            name=op.f("fk_scorecard_comparison_run_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_comparison")),
        sa.UniqueConstraint("base_id", "candidate_id", name="uq_scorecard_comparison_pair"),
    )
    with op.batch_alter_table("health_score", schema=None) as batch_op:
        batch_op.drop_constraint("uq_health_score_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_health_score_day", ["account_id", "as_of", "scorecard", "scorecard_version"]
        )


def downgrade() -> None:
    # Days scored with several versions keep the latest computed row of each (account, day, card).
    op.execute(
        "DELETE FROM health_score WHERE id NOT IN (SELECT max(id) FROM health_score "
        "GROUP BY account_id, as_of, scorecard)"
    )
    with op.batch_alter_table("health_score", schema=None) as batch_op:
        batch_op.drop_constraint("uq_health_score_day", type_="unique")
        batch_op.create_unique_constraint(
            "uq_health_score_day", ["account_id", "as_of", "scorecard"]
        )
    op.drop_table("scorecard_comparison")
    op.drop_table("scorecard_version")
