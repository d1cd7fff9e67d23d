"""Interactions between the CS team and the customer, with who attended."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenure.model.base import Base, TimestampMixin, enum_column
from tenure.model.contact import Contact


class TouchpointKind(enum.StrEnum):
    meeting = "meeting"
    call = "call"
    email = "email"
    qbr = "qbr"
    ebr = "ebr"
    note = "note"


touchpoint_attendee = sa.Table(
    "touchpoint_attendee",
    Base.metadata,
    sa.Column(
        "touchpoint_id", sa.ForeignKey("touchpoint.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("contact_id", sa.ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True),
)


class Touchpoint(TimestampMixin, Base):
    __tablename__ = "touchpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # Indexed with occurred_at (below): "a touchpoint since that day?" is one index seek.
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[TouchpointKind] = enum_column(TouchpointKind, default=TouchpointKind.meeting)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    attendees: Mapped[list[Contact]] = relationship(secondary=touchpoint_attendee)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_touchpoint_updated_at", Touchpoint.updated_at)
sa.Index("ix_touchpoint_account_id_occurred_at", Touchpoint.account_id, Touchpoint.occurred_at)
