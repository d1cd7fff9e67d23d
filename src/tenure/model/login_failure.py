"""Failed sign-ins, kept in the operational database so every server process sees the same
count: the login rate limit holds however many uvicorn workers serve the console."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base


class LoginFailure(Base):
    """One failed sign-in under one key (``email:…`` or ``client:…``); rows older than the
    limiter's window are pruned as new ones arrive."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_key_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(400))
    failed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
