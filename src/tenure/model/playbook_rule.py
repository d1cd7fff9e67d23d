"""Rules made on the console's rule builder, kept beside the rules file (which stays as it is)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, JSONType, TimestampMixin


class PlaybookRule(TimestampMixin, Base):
    __tablename__ = "playbook_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The rule as the rules file would hold it (tenure.playbooks.rules.Rule, JSON).
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
