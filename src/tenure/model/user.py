"""People who use Tenure: CSMs, their managers, admins and viewers — one table for all."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.auth.roles import UserRole
from tenure.model.base import Base, TimestampMixin, enum_column


class User(TimestampMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[UserRole] = enum_column(UserRole, default=UserRole.csm)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Their id in the CRM the book comes from (a Salesforce User Id): how an export's OwnerId
    # finds its owner. Set by `tenure import users`.
    external_id: Mapped[str | None] = mapped_column(sa.String(128), unique=True, index=True)
