"""CS maturity (CSRI) self-assessments of the organisation, one row per assessment."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class MaturityAssessment(TimestampMixin, Base):
    __tablename__ = "maturity_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessed_on: Mapped[date]
    csri: Mapped[float] = mapped_column(sa.Float)
    band: Mapped[str] = mapped_column(sa.String(16))
    # {pillar: {stage, points, source ("data"|"team"), reasons}}.
    pillars: Mapped[dict[str, Any]]
    assessed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(sa.Text)
