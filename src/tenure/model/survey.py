"""Survey answers: NPS (0–10) and CSAT (1–5), each from a contact on a date."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class SurveyKind(enum.StrEnum):
    nps = "nps"
    csat = "csat"


class SurveyResponse(TimestampMixin, Base):
    __tablename__ = "survey_response"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'nps' AND score BETWEEN 0 AND 10) "
            "OR (kind = 'csat' AND score BETWEEN 1 AND 5)",
            name="score_in_scale",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    kind: Mapped[SurveyKind] = enum_column(SurveyKind, default=SurveyKind.nps)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    responded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_survey_response_updated_at", SurveyResponse.updated_at)
