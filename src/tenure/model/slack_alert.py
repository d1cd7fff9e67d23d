"""Slack alerts waiting to be posted, posted, or given up on: the outbox of Slack messages.

One row per account, as-of date and destination (a channel, or a CSM's direct messages found by
their e-mail), written in the daily run's transaction with what caused it; posted afterwards in
short claim → post → mark transactions, as the e-mail outbox does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin


class SlackAlert(TimestampMixin, Base):
    __tablename__ = "slack_alert"
    __table_args__ = (sa.Index("ix_slack_alert_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<as_of>:<account id>:<destination>": a re-run of the day queues nothing new.
    dedupe_key: Mapped[str] = mapped_column(sa.String(400), unique=True)
    as_of: Mapped[date] = mapped_column(index=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    # What happened, one key per event ("health_red:12:2026-12-06", "cta:88:4"): an event
    # already alerted is never alerted again, whichever day's run finds it.
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Where it goes: a channel as the admin named it (#cs-alerts or C0123…), or a CSM's e-mail,
    # looked up in Slack when it is posted.
    channel: Mapped[str | None] = mapped_column(sa.String(200))
    user_email: Mapped[str | None] = mapped_column(sa.String(320))
    text: Mapped[str] = mapped_column(sa.Text)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # pending | sending | sent | failed (the e-mail outbox's states)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Where Slack put it (channel or DM id, message ts): the message can be found again.
    posted_channel: Mapped[str | None] = mapped_column(sa.String(64))
    posted_ts: Mapped[str | None] = mapped_column(sa.String(64))
