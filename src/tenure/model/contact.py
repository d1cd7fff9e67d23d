"""People at the customer, by level and by the roles they play in the relationship."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin, enum_column


class ContactLevel(enum.StrEnum):
    end_user = "end_user"
    manager = "manager"
    director_vp = "director_vp"
    executive = "executive"


class ContactRole(enum.StrEnum):
    champion = "champion"
    sponsor = "sponsor"
    commercial_buyer = "commercial_buyer"
    stakeholder = "stakeholder"
    end_user = "end_user"


class Contact(TimestampMixin, Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # Nullable: a Segment identify may arrive before the group call that names the account.
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    level: Mapped[ContactLevel | None] = enum_column(ContactLevel, nullable=True)
    roles: Mapped[list[str]] = mapped_column(default=list)
    joined_on: Mapped[date | None]
    left_on: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # Whom they report to (Salesforce ReportsToId): the lines on Account 360's relationship map.
    reports_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL")
    )
    # They asked for no e-mail (Salesforce HasOptedOutOfEmail, HubSpot unsubscribed): no survey,
    # message or digest is queued or sent to their address.
    email_opt_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Which source system last set each field ({"title": "hubspot"}): a lower-precedence source
    # never overwrites it (see ingest/identities.py).
    field_sources: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    # Imports match a person by e-mail address whatever its case (ingest/identities.py): without
    # this index each batch of a sync read every contact stored.
    __table_args__ = (sa.Index("ix_contact_email_lower", sa.func.lower(email)),)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_contact_updated_at", Contact.updated_at)
