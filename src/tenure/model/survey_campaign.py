"""NPS/CSAT campaigns and the unique link each surveyed contact receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin, enum_column
from tenure.model.survey import SurveyKind


class SurveyCampaign(TimestampMixin, Base):
    __tablename__ = "survey_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[SurveyKind] = enum_column(SurveyKind)
    question: Mapped[str] = mapped_column(sa.String(500))
    # {"segments": [...], "roles": [...], "levels": [...]}: empty lists mean everyone.
    audience: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    min_interval_days: Mapped[int] = mapped_column(default=90)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SurveyLink(TimestampMixin, Base):
    __tablename__ = "survey_link"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_campaign.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id", ondelete="CASCADE"))
    # A random value inside the signed token: a link cannot be forged from ids alone.
    nonce: Mapped[str] = mapped_column(sa.String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    response_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_response.id", ondelete="SET NULL")
    )
