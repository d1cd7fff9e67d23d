"""LAER stage history: one row per change of an account's displayed stage."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base


class LifecycleStage(Base):
    __tablename__ = "lifecycle_stage"
    __table_args__ = (sa.UniqueConstraint("account_id", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    effective_on: Mapped[date]
    # land / adopt / expand / renew; null when no contract is active.
    stage: Mapped[str | None] = mapped_column(sa.String(16))
    year_index: Mapped[int] = mapped_column(default=0)
    # The facts that set the stage.
    reasons: Mapped[list[str]] = mapped_column(default=list)
