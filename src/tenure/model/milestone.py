"""Success plans: milestone templates per segment, one plan per account, its milestones."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, TimestampMixin


class MilestoneTemplate(TimestampMixin, Base):
    __tablename__ = "milestone_template"
    __table_args__ = (sa.UniqueConstraint("segment", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    segment: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int]
    # "success" (customer-centric) or "functional" (product-centric).
    type: Mapped[str] = mapped_column(sa.String(16))
    # "customer" or "vendor": who is accountable for reaching it.
    owner: Mapped[str] = mapped_column(sa.String(16))
    due_days: Mapped[int]
    # Completion from data: a rule {field, op, value}; null for milestones marked by hand.
    rule: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    first_value: Mapped[bool] = mapped_column(default=False)
    # "expansion" or "advocacy": the ask opened when reached.
    opens: Mapped[str | None] = mapped_column(sa.String(16))
    config_version: Mapped[int] = mapped_column(default=1)


class SuccessPlan(TimestampMixin, Base):
    __tablename__ = "success_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), unique=True
    )
    segment: Mapped[str] = mapped_column(sa.String(64))
    started_on: Mapped[date]


class Milestone(TimestampMixin, Base):
    __tablename__ = "milestone"
    __table_args__ = (sa.UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("success_plan.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("milestone_template.id", ondelete="SET NULL")
    )
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(16))
    owner: Mapped[str] = mapped_column(sa.String(16))
    due_on: Mapped[date]
    reached_on: Mapped[date | None]
    # "data" (a rule saw it) or "hand" (a CSM marked it).
    reached_by: Mapped[str | None] = mapped_column(sa.String(8))
    evidence: Mapped[str | None] = mapped_column(sa.Text)


# What stored figures fingerprint (tenure.success.figures): its last change, read at once.
sa.Index("ix_milestone_updated_at", Milestone.updated_at)
