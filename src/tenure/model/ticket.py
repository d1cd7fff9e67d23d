"""Support tickets: a sentiment and friction signal for health."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class TicketPriority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Ticket(TimestampMixin, Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    priority: Mapped[TicketPriority] = enum_column(TicketPriority, default=TicketPriority.normal)
    category: Mapped[str | None] = mapped_column(sa.String(128))
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_ticket_updated_at", Ticket.updated_at)
