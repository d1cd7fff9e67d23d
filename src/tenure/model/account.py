"""The customer: a company with contracts, people and product usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class Account(TimestampMixin, Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("account.id", ondelete="SET NULL"))
    # Commercial segment (what they pay); experience_segment groups by Appropriate Experience.
    segment: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    experience_segment: Mapped[str | None] = mapped_column(sa.String(64))
    industry: Mapped[str | None] = mapped_column(sa.String(128))
    employee_count: Mapped[int | None]
    # The sales region the company divides its book by (emea, north_america…).
    region: Mapped[str | None] = mapped_column(sa.String(64))
    # Where the company is, as the CRM writes it (Salesforce BillingCountry): not a region.
    country: Mapped[str | None] = mapped_column(sa.String(64))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_on: Mapped[date | None]
    onboarded_on: Mapped[date | None]
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Which source system last set each field ({"industry": "salesforce"}): a lower-precedence
    # source never overwrites it (see ingest/identities.py).
    field_sources: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_account_updated_at", Account.updated_at)


class AccountOwnership(Base):
    """Who owned an account when: per-CSM KPIs survive reassignment."""

    __tablename__ = "account_ownership"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
