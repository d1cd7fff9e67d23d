"""The record of each daily run: as-of date, timing, counts and errors per step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType


class DailyRun(Base):
    __tablename__ = "daily_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=1)
    # [{"name": "rules", "seconds": 1.2, "counts": {...}, "error": null}, ...]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
