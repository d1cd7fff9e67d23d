"""Live connections to a customer's other systems (CRM, billing, support, chat), their per-object
sync cursors and the record of each sync run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin


class Connection(TimestampMixin, Base):
    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    # salesforce | hubspot | stripe | zendesk | slack: one connection per vendor.
    vendor: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # Where the vendor's API answers (a Salesforce instance, a Zendesk subdomain's URL…).
    base_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Fernet token (key derived from the secret key); never shown, logged or audited.
    credentials: Mapped[str] = mapped_column(sa.Text)
    # Not secret: the objects to sync, a mapping per object, write-back fields.
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)


class SyncCursor(Base):
    """How far one object of one connection has been read; moved only after its batch commits."""

    __tablename__ = "sync_cursor"
    __table_args__ = (sa.UniqueConstraint("connection_id", "object"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("connection.id", ondelete="CASCADE"), index=True
    )
    object: Mapped[str] = mapped_column(sa.String(64))
    cursor: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class SyncRun(Base):
    """One sync of one connection: per object its counts and error, the API use, the duration."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("connection.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16))  # running | succeeded | partial | failed
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # {"Account": {"read": 120, "inserted": 3, "updated": 1, "unchanged": 116, "rejected": 0,
    #  "deleted": 0, "error": null}, ...}
    objects: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What the vendor reported about its limits (Salesforce: daily API requests used / allowed).
    api_usage: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
