"""Figures the daily run computes and stores so that pages read them instead of computing the
whole book per request: the KPIs per quarter and grouping (one row per group), and the
portfolio-wide snapshots (cohort retention, the maturity pillars the data pre-fills)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType


class KpiFigures(Base):
    """One quarter's KPIs in one grouping (everyone, segment, CSM, top parent), as computed on
    ``computed_on``. ``settings_digest`` names the settings and formulas they were computed
    with (a change of reporting currency makes them stale at once); ``inputs_digest`` the
    records they read (the daily run recomputes the quarter when they changed, e.g. after a
    late import)."""

    __tablename__ = "kpi_figures"
    __table_args__ = (sa.UniqueConstraint("period_start", "period_end", "grouping"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    grouping: Mapped[str] = mapped_column(sa.String(16))
    settings_digest: Mapped[str] = mapped_column(sa.String(64))
    inputs_digest: Mapped[str | None] = mapped_column(sa.String(64))
    computed_on: Mapped[date]
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    groups: Mapped[int]


class KpiFiguresRow(Base):
    """One group's KPI row of a :class:`KpiFigures` (``position`` keeps the report's order)."""

    __tablename__ = "kpi_figures_row"
    __table_args__ = (sa.UniqueConstraint("figures_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    figures_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kpi_figures.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    group_name: Mapped[str] = mapped_column(sa.String(300))
    row: Mapped[dict[str, Any]] = mapped_column(JSONType)


class FigureSnapshot(Base):
    """The latest stored portfolio-wide figures of one kind ("cohorts", "maturity")."""

    __tablename__ = "figure_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), unique=True)
    settings_digest: Mapped[str] = mapped_column(sa.String(64))
    computed_on: Mapped[date]
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
