"""Engagement messages through their whole loop: drafted with a goal and a way to check it,
approved by a person, sent through the outbox, logged as a touchpoint, and N days later checked.

The goal is checked by a measure named with the message: a metric reaching a target (``metric``,
``comparison`` at_least/at_most, ``target``) or a success-plan milestone reached (``milestone``,
its key) within ``check_after_days`` of sending.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class MessageStatus(enum.StrEnum):
    draft = "draft"
    sent = "sent"
    # The draft was thrown away (kept: a dropped draft is part of the record).
    discarded = "discarded"


class EngagementMessage(TimestampMixin, Base):
    __tablename__ = "engagement_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id a message imported from Tenure's own file came with (None: drafted here).
    external_id: Mapped[str | None] = mapped_column(sa.String(128), unique=True, index=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    # The message template (success.messages.Moment) the report groups by.
    moment: Mapped[str] = mapped_column(sa.String(32))
    goal: Mapped[str] = mapped_column(sa.String(500))
    # How the goal is checked: a metric against a target, or a milestone reached.
    metric: Mapped[str | None] = mapped_column(sa.String(64))
    comparison: Mapped[str | None] = mapped_column(sa.String(16))
    target: Mapped[float | None]
    milestone: Mapped[str | None] = mapped_column(sa.String(64))
    check_after_days: Mapped[int]
    recipient: Mapped[str] = mapped_column(sa.String(320))
    sender: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = enum_column(MessageStatus, default=MessageStatus.draft)
    drafted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    sent_on: Mapped[date | None]
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    touchpoint_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("touchpoint.id", ondelete="SET NULL")
    )
    # The metric's value on the day it was sent, to show the move.
    baseline: Mapped[float | None]
    check_on: Mapped[date | None] = mapped_column(index=True)
    checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # True: goal met; False: not met; None after the check: nothing to measure it with.
    goal_met: Mapped[bool | None]
    # The value seen at the check (metric goals) and in words.
    measured: Mapped[float | None]
    result: Mapped[str | None] = mapped_column(sa.Text)
