"""Learned churn risk per account and day, with the model version and reasons that produced it."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, Money, TimestampMixin


class ChurnRiskScore(TimestampMixin, Base):
    """One account's churn risk as of one day, by one model version (history is kept)."""

    __tablename__ = "churn_risk_score"
    __table_args__ = (sa.UniqueConstraint("account_id", "as_of", "model_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    as_of: Mapped[date] = mapped_column(index=True)
    model_version: Mapped[str] = mapped_column(sa.String(64))
    # P(churn between lead_days and horizon_days after as_of): the warning leaves time to act.
    probability: Mapped[float] = mapped_column(sa.Float)
    horizon_days: Mapped[int]
    lead_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # P(churn at the next renewal), when one is due within a year.
    renewal_probability: Mapped[float | None] = mapped_column(sa.Float)
    next_renewal_on: Mapped[date | None]
    # ARR × P(churn at next renewal), in the account's currency (never summed across currencies).
    arr_at_risk: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(16))
    # Is the account in the top-decile alert set of this day's scores?
    in_alert_set: Mapped[bool] = mapped_column(default=False)
    # [{"feature", "value", "contribution", "direction"}], largest |contribution| first.
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_churn_risk_score_updated_at", ChurnRiskScore.updated_at)
