"""Subscriptions: what the customer pays for, for how long, and how each term ended."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, Money, TimestampMixin, enum_column


class BillingPeriod(enum.StrEnum):
    monthly = "monthly"
    annual = "annual"
    multi_year = "multi_year"


class ContractStatus(enum.StrEnum):
    active = "active"
    ended = "ended"
    cancelled = "cancelled"
    pending = "pending"


class RenewalOutcome(enum.StrEnum):
    renewed = "renewed"
    churned = "churned"
    downgraded = "downgraded"
    expanded = "expanded"


class Contract(TimestampMixin, Base):
    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    plan: Mapped[str | None] = mapped_column(sa.String(128))
    billing_period: Mapped[BillingPeriod] = enum_column(BillingPeriod, default=BillingPeriod.annual)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    arr: Mapped[float] = mapped_column(Money)
    # ARR stays in its currency; nothing sums across currencies without a rate table.
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    licensed_seats: Mapped[int | None]
    discount: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[ContractStatus] = enum_column(ContractStatus, default=ContractStatus.active)
    renewal_outcome: Mapped[RenewalOutcome | None] = enum_column(RenewalOutcome, nullable=True)
    outcome_on: Mapped[date | None]
    # The date the customer gave notice, when they did.
    notice_on: Mapped[date | None]
    # ARR change at renewal: new ARR minus this contract's ARR (negative for churn/downgrade).
    arr_delta: Mapped[float | None] = mapped_column(Money)
    # A subscription that renews by itself at ends_on (a Stripe subscription: ends_on is the
    # current period's end) stays in force until it is cancelled or given an outcome
    # (tenure.accounts.arr); a monthly one is continuing revenue, not a renewal every month.
    auto_renews: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The customer's payment is overdue (Stripe past_due, unpaid): still ARR, flagged at risk.
    payment_overdue: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_contract_updated_at", Contract.updated_at)
# The reporting currency, until one is set, is the one most contracts are in (counted on every
# conversion: tenure.accounts.fx_service.reporting_currency_expression).
sa.Index("ix_contract_currency", Contract.currency)
