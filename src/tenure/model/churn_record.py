"""Every lost or downgraded customer, classified: suggested from data, confirmed by the CSM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class ChurnRecord(TimestampMixin, Base):
    __tablename__ = "churn_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contract.id", ondelete="SET NULL"), unique=True
    )
    # "churned" or "downgraded".
    kind: Mapped[str] = mapped_column(sa.String(16))
    churned_on: Mapped[date]
    notice_on: Mapped[date | None]
    # None: the notice came before Tenure watched the base — nothing could have foreseen it.
    foreseen: Mapped[bool | None]
    # Success Potential at signing: True good fit, False bad fit, null unknown.
    fit_at_signing: Mapped[bool | None]
    avoidable: Mapped[bool | None]
    cause_side: Mapped[str] = mapped_column(sa.String(32))
    churn_class: Mapped[str] = mapped_column(sa.String(32))
    internal_reason: Mapped[str] = mapped_column(sa.String(64))
    # What the customer said, kept apart from the internal reason.
    stated_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # The data's suggestion with its reasons, kept even after the CSM changes the class.
    suggestion: Mapped[dict[str, Any]]
    confirmed: Mapped[bool] = mapped_column(default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    root_cause_review: Mapped[str | None] = mapped_column(sa.Text)
