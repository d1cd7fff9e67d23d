"""Event sources: each Segment-spec sender authenticates with its own write key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class Source(TimestampMixin, Base):
    __tablename__ = "event_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # Only a SHA-256 of the write key is stored; the key is shown once at creation.
    write_key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    write_key_prefix: Mapped[str] = mapped_column(sa.String(12))
    is_active: Mapped[bool] = mapped_column(default=True)
