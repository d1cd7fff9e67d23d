"""Lifecycle stage history (one row per change of an account's displayed stage, per lifecycle
model) and the lifecycle model the company works with."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class LifecycleStage(Base):
    __tablename__ = "lifecycle_stage"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "model", "effective_on", name="uq_lifecycle_stage_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # The lifecycle model the stage belongs to: laer, esg or clientsuccess. Every model's history
    # is kept, so switching the model in force shows its stages at once; health profiles read
    # LAER's.
    model: Mapped[str] = mapped_column(sa.String(16), default="laer", server_default="laer")
    effective_on: Mapped[date]
    # The model's stage key (LAER: land / adopt / expand / renew); null when no contract is active.
    stage: Mapped[str | None] = mapped_column(sa.String(32))
    year_index: Mapped[int] = mapped_column(default=0)
    # The facts that set the stage.
    reasons: Mapped[list[str]] = mapped_column(default=list)


class LifecycleSetting(TimestampMixin, Base):
    """The lifecycle model shown across Tenure (one row; absent = LAER)."""

    __tablename__ = "lifecycle_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(sa.String(16))
