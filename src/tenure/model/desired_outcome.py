"""The customer's Desired Outcome: Required Outcome + Appropriate Experience, versioned."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin


class DesiredOutcome(TimestampMixin, Base):
    """One version; the one in force is the latest ``effective_from`` not after the day asked."""

    __tablename__ = "desired_outcome"
    __table_args__ = (sa.UniqueConstraint("account_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    effective_from: Mapped[date]
    required_outcome: Mapped[str] = mapped_column(sa.Text)
    # The measurable target: a rule {field, op, value} over the account's facts.
    target: Mapped[dict[str, Any]]
    touch_model: Mapped[str] = mapped_column(sa.String(32))
    # Appropriate Experience requirement checks: [{key, description, rule}].
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
