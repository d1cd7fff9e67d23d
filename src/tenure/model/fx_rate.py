"""Dated exchange rates into the reporting currency, and the reporting currency itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class FxRate(TimestampMixin, Base):
    """On ``rate_on``, one ``currency`` unit was worth ``rate`` units of ``reporting_currency``."""

    __tablename__ = "fx_rate"
    __table_args__ = (sa.UniqueConstraint("reporting_currency", "currency", "rate_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporting_currency: Mapped[str] = mapped_column(sa.String(3))
    currency: Mapped[str] = mapped_column(sa.String(3))
    rate_on: Mapped[date]
    rate: Mapped[Decimal] = mapped_column(sa.Numeric(24, 10))


class ReportingCurrency(TimestampMixin, Base):
    """The one currency figures are converted into (one row; absent = the default, USD)."""

    __tablename__ = "reporting_currency"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
