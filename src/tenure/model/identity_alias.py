"""Segment ``alias`` calls: an earlier id (often anonymous) that is the same person as a user.

Metrics use it to attribute pre-signup usage; recorded once per (previous id, user id) pair.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, utcnow


class IdentityAlias(Base):
    __tablename__ = "identity_alias"
    __table_args__ = (sa.UniqueConstraint("previous_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    previous_id: Mapped[str] = mapped_column(sa.String(256), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(256), index=True)
    # The event source (Segment write key's name) that sent the alias.
    source: Mapped[str] = mapped_column(sa.String(128))
    aliased_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, nullable=False
    )
