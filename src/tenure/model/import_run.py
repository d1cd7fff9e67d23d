"""History of file imports, with each rejected file's row errors, for the admin page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, utcnow


class ImportRun(Base):
    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(32))
    file_name: Mapped[str] = mapped_column(sa.String(1000))
    mapping: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))  # succeeded | rejected
    rows: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    # Rows that updated a record first imported from another system (matched on an identity).
    matched: Mapped[int] = mapped_column(default=0, server_default="0")
    # Where two systems disagreed on a field, and which system's value was kept.
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
