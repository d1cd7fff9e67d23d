"""What the console and REST API keep: API tokens, the audit log, saved views, account teams."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin, enum_column, utcnow


class ApiToken(TimestampMixin, Base):
    """A bearer token acting as its user; only a SHA-256 of the secret is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the token, shown in lists so people can tell tokens apart.
    token_prefix: Mapped[str] = mapped_column(sa.String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Every token ends: a forgotten one in an old script stops working on its own.
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class AuditLog(Base):
    """Who changed what, when, with the record before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # "web", "api" or "cli": where the change came from.
    via: Mapped[str] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class SavedView(TimestampMixin, Base):
    """A named set of portfolio filters a user comes back to."""

    __tablename__ = "saved_view"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_saved_view_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    # The portfolio query string (filters and sort), as the page's URL carries it.
    query: Mapped[str] = mapped_column(sa.String(2000))


class AccountTeamRole(enum.StrEnum):
    account_executive = "account_executive"
    account_manager = "account_manager"
    implementation_lead = "implementation_lead"
    csm = "csm"
    support_lead = "support_lead"
    # Growth roles: the hunter sells new business, the farmer grows the account (expansion).
    hunter = "hunter"
    farmer = "farmer"


class AccountTeamMember(Base):
    """The people around an account besides its owner: sales, services and support."""

    __tablename__ = "account_team"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "role", "user_id", name="uq_account_team_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[AccountTeamRole] = enum_column(AccountTeamRole)
    since: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
