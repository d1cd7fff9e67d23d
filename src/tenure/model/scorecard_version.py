"""Health scorecard versions as stored definitions: who saved which definition when, and which
version is in force.

A score cites (scorecard, version); the version's stored ``text`` is the definition that produced
it, so an old score can always be reread against the card that made it, and two versions can be
backtested side by side. ``digest`` is taken over the validated definition (not the YAML's
comments or layout), so saving the same card twice is recognised as the same version.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, enum_column, utcnow


class ScorecardVersion(Base):
    __tablename__ = "scorecard_version"
    __table_args__ = (sa.UniqueConstraint("scorecard", "version", name="uq_scorecard_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    # The YAML as saved (comments included): what an editor opens and a backtest reruns.
    text: Mapped[str] = mapped_column(sa.Text)
    # sha256 of the validated definition (canonical JSON).
    digest: Mapped[str] = mapped_column(sa.String(64))
    # Why this version was made, in the author's words.
    note: Mapped[str | None] = mapped_column(sa.Text)
    # web | api | cli | file (registered from the data dir's scorecard.yaml or the shipped default)
    saved_via: Mapped[str] = mapped_column(sa.String(16))
    saved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    saved_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # When it was put in force (None: saved, never used for the daily scores); the version put in
    # force last is the one in force.
    in_force_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    put_in_force_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )


class ScorecardComparison(Base):
    """The last backtest of one version against another on the data up to ``data_end``: kept so
    the scorecard page shows it without rerunning a minutes-long backtest on every visit."""

    __tablename__ = "scorecard_comparison"
    __table_args__ = (
        sa.UniqueConstraint("base_id", "candidate_id", name="uq_scorecard_comparison_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(sa.ForeignKey("scorecard_version.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scorecard_version.id", ondelete="CASCADE")
    )
    data_end: Mapped[date]
    # tenure.health.schemas.ScorecardComparison as JSON
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    run_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    run_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )


class BacktestStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ScorecardBacktest(Base):
    """A backtest someone asked for: it runs in a background process (never inside the request
    that saved the version), and its state is what the scorecard page shows while it runs; the
    result goes to the pair's :class:`ScorecardComparison`."""

    __tablename__ = "scorecard_backtest"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scorecard_version.id", ondelete="CASCADE"), index=True
    )
    candidate_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scorecard_version.id", ondelete="CASCADE")
    )
    status: Mapped[BacktestStatus] = enum_column(BacktestStatus, default=BacktestStatus.queued)
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Why it failed, in words (None unless failed).
    error: Mapped[str | None] = mapped_column(sa.Text)
