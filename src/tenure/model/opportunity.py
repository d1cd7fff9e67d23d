"""Opportunities: new business (hunters), expansion and renewals (farmers), advocacy asks."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, Money, TimestampMixin, enum_column


class OpportunityKind(enum.StrEnum):
    new_business = "new_business"
    expansion = "expansion"
    renewal = "renewal"
    # Advocacy asks (case study, reference, referral) opened by a milestone or by hand.
    advocacy = "advocacy"


class OpportunityStatus(enum.StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class ForecastCategory(enum.StrEnum):
    """Salesforce's forecast categories (ForecastCategoryName), the ones most CRMs copy."""

    pipeline = "pipeline"
    best_case = "best_case"
    commit = "commit"
    closed = "closed"
    omitted = "omitted"


class Opportunity(TimestampMixin, Base):
    __tablename__ = "opportunity"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The CRM's id (Salesforce 18-character Id, HubSpot deal Record ID) for imported ones.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(255))
    kind: Mapped[OpportunityKind] = enum_column(OpportunityKind)
    status: Mapped[OpportunityStatus] = enum_column(
        OpportunityStatus, default=OpportunityStatus.open
    )
    # The CRM's sales stage as it names it ("Negotiation/Review", "contractsent").
    stage: Mapped[str | None] = mapped_column(sa.String(64))
    amount: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    # Percent, 0–100, as CRMs store it.
    probability: Mapped[float | None] = mapped_column(sa.Numeric(5, 2, asdecimal=False))
    forecast_category: Mapped[ForecastCategory | None] = enum_column(
        ForecastCategory, nullable=True
    )
    opened_on: Mapped[date]
    # The expected close date while open; the day it closed once won or lost.
    close_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    close_reason: Mapped[str | None] = mapped_column(sa.Text)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    milestone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestone.id", ondelete="SET NULL")
    )
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The day a connector saw the deal deleted in its CRM: kept with its history, out of the
    # open pipeline and forecast (a HubSpot deal restored within 90 days clears it).
    deleted_in_crm_on: Mapped[date | None]
