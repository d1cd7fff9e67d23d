"""Metric values per account per as-of day: the history health scores and churn models read.

One row per (as_of, account): ``values`` maps each metric slug to its value (numbers, or the ARR
currency code), so adding a metric to the registry needs no migration.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, utcnow


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshot"
    __table_args__ = (sa.UniqueConstraint("as_of", "account_id", name="uq_metric_snapshot_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_metric_snapshot_computed_at", MetricSnapshot.computed_at)
