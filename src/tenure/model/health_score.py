"""Daily health scores with their explanation, the scorecard version that produced them and trend.

``measures`` keeps the full explanation (each measure's value, points, maximum and what would move
it), so a past score can be opened exactly as it was computed, even after the scorecard changed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, utcnow


class HealthScore(Base):
    __tablename__ = "health_score"
    __table_args__ = (
        sa.UniqueConstraint(
            "account_id", "as_of", "scorecard", "scorecard_version", name="uq_health_score_day"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    as_of: Mapped[date] = mapped_column(index=True)
    scorecard: Mapped[str] = mapped_column(sa.String(64))
    scorecard_version: Mapped[str] = mapped_column(sa.String(32))
    profile: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[int]
    band: Mapped[str] = mapped_column(sa.String(16))
    # up | down | flat against the previous stored score; "new" for the first one.
    trend: Mapped[str] = mapped_column(sa.String(8))
    previous_score: Mapped[int | None]
    measures: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_health_score_computed_at", HealthScore.computed_at)
