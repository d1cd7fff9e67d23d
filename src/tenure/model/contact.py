"""People at the customer, by level and by the roles they play in the relationship."""

from __future__ import annotations

import enum
from datetime import date

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
