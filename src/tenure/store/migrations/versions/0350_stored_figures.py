"""Stored figures: the KPIs per quarter and grouping, cohort retention and the maturity pillars,
computed by the daily run so the KPIs and Maturity pages read them (issue 19, item 8)

Revision ID: 0350
Revises: 0340
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0350"
down_revision: str | Sequence[str] | None = "0340"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kpi_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("grouping", sa.String(length=16), nullable=False),
        sa.Column("settings_digest", sa.String(length=64), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=True),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_figures")),
        sa.UniqueConstraint(
            "period_start", "period_end", "grouping", name=op.f("uq_kpi_figures_period_start")
        ),
    )
    op.create_table(
        "kpi_figures_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figures_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=300), nullable=False),
        sa.Column("row", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["figures_id"],
            ["kpi_figures.id"],
            name=op.f("fk_kpi_figures_row_figures_id_kpi_figures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_figures_row")),
        sa.UniqueConstraint("figures_id", "position", name=op.f("uq_kpi_figures_row_figures_id")),
    )
    op.create_index(
        op.f("ix_kpi_figures_row_figures_id"), "kpi_figures_row", ["figures_id"], unique=False
    )
    op.create_table(
        "figure_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("settings_digest", sa.String(length=64), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_snapshot")),
        sa.UniqueConstraint("kind", name=op.f("uq_figure_snapshot_kind")),
    )


def downgrade() -> None:
    op.drop_table("figure_snapshot")
    op.drop_index(op.f("ix_kpi_figures_row_figures_id"), table_name="kpi_figures_row")
    op.drop_table("kpi_figures_row")
    op.drop_table("kpi_figures")
