"""The handoff of a customer along the account team: sales → services (implementation) → CSM.

Each row is one recorded handoff: who handed the customer to whom, the Desired Outcome and the
fit answers captured at that moment, and the fit judgement they gave. The latest row says who
holds the customer now; the rows together are the handoff history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, enum_column, utcnow


class HandoffStep(enum.StrEnum):
    sales_to_services = "sales_to_services"
    services_to_csm = "services_to_csm"
    # Low-touch customers skip implementation: sales hands straight to the CSM.
    sales_to_csm = "sales_to_csm"


class AccountHandoff(Base):
    __tablename__ = "account_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The CRM's id of an imported handoff (a re-import updates it); None when recorded here.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[HandoffStep] = enum_column(HandoffStep)
    from_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    to_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    handed_off_on: Mapped[date]
    # The Desired Outcome version this handoff recorded or confirmed (None: none in force).
    desired_outcome_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("desired_outcome.id", ondelete="SET NULL")
    )
    # The fit answers as captured (the facts `handoff.<key>` of fit.yaml) …
    fit_answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # … and what they gave: Success Potential (None = unknown) and the fit band, with reasons.
    success_potential: Mapped[bool | None]
    fit_band: Mapped[str] = mapped_column(sa.String(16))
    fit_reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
