"""Advocacy delivered by a customer: referrals, references, success stories, talks."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class AdvocacyKind(enum.StrEnum):
    referral = "referral"
    reference = "reference"
    success_story = "success_story"
    case_study = "case_study"
    # A speaker slot: the customer presents at a conference, webinar or user group.
    speaker = "speaker"


class Referral(TimestampMixin, Base):
    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The CRM's id of an imported record (a re-import updates it); None when recorded here.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AdvocacyKind] = enum_column(AdvocacyKind, default=AdvocacyKind.referral)
    occurred_on: Mapped[date]
    # For referrals: the customer it brought in, once it signed.
    referred_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    # What it is, in a line ("Case study: 30% faster month-end close", "Pulse 2026 keynote").
    title: Mapped[str | None] = mapped_column(sa.String(255))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
