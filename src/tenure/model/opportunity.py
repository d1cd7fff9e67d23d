"""Opportunities, tagged new business (hunters) or expansion (farmers)."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, Money, TimestampMixin, enum_column


class OpportunityKind(enum.StrEnum):
    new_business = "new_business"
    expansion = "expansion"
    # Advocacy asks (case study, reference, referral) opened by a milestone.
    advocacy = "advocacy"


class OpportunityStatus(enum.StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class Opportunity(TimestampMixin, Base):
    __tablename__ = "opportunity"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OpportunityKind] = enum_column(OpportunityKind)
    status: Mapped[OpportunityStatus] = enum_column(
        OpportunityStatus, default=OpportunityStatus.open
    )
    amount: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    opened_on: Mapped[date]
    closed_on: Mapped[date | None]
    milestone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestone.id", ondelete="SET NULL")
    )
    description: Mapped[str | None] = mapped_column(sa.Text)
