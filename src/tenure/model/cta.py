"""Calls to action: work for the CS team raised by rules, with the facts that fired them.

One open CTA per (rule, account): ``open_key`` holds the dedupe key while the CTA is open and is
cleared on close, so a unique constraint enforces it on every backend (NULLs never collide).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenure.model.base import Base, JSONType, Money, TimestampMixin, enum_column, utcnow


class CtaType(enum.StrEnum):
    risk = "risk"
    opportunity = "opportunity"
    lifecycle = "lifecycle"
    renewal = "renewal"
    advocacy = "advocacy"


class CtaPriority(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class CtaStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    snoozed = "snoozed"
    closed = "closed"


class CtaOutcome(enum.StrEnum):
    success = "success"
    no_action_needed = "no_action_needed"
    failed = "failed"


class Cta(TimestampMixin, Base):
    __tablename__ = "cta"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    rule_version: Mapped[int]
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    open_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[CtaType] = enum_column(CtaType)
    priority: Mapped[CtaPriority] = enum_column(CtaPriority)
    title: Mapped[str] = mapped_column(sa.String(300))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[CtaStatus] = enum_column(CtaStatus, default=CtaStatus.open)
    opened_on: Mapped[date]
    due_on: Mapped[date]
    last_fired_on: Mapped[date]
    fire_count: Mapped[int] = mapped_column(default=1)
    snoozed_until: Mapped[date | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    facts_signature: Mapped[str] = mapped_column(sa.String(16))
    arr_at_risk: Mapped[float | None] = mapped_column(Money)
    # The currency of ``arr_at_risk`` (the account's ARR currency when the CTA was raised).
    arr_at_risk_currency: Mapped[str | None] = mapped_column(sa.String(16))
    acknowledged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    escalated_on: Mapped[date | None]
    escalated_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    closed_on: Mapped[date | None]
    outcome: Mapped[CtaOutcome | None] = enum_column(CtaOutcome, nullable=True)
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    closed_automatically: Mapped[bool] = mapped_column(default=False)

    steps: Mapped[list[CtaStep]] = relationship(
        back_populates="cta", order_by="CtaStep.position", cascade="all, delete-orphan"
    )


class CtaStep(Base):
    """One step of the CTA's playbook checklist."""

    __tablename__ = "cta_step"
    __table_args__ = (sa.UniqueConstraint("cta_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cta_id: Mapped[int] = mapped_column(sa.ForeignKey("cta.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    due_on: Mapped[date]
    template: Mapped[str | None] = mapped_column(sa.String(100))
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    cta: Mapped[Cta] = relationship(back_populates="steps")


class CtaEvent(Base):
    """The CTA's history: created, updated, acknowledged, snoozed, escalated, closed."""

    __tablename__ = "cta_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    cta_id: Mapped[int] = mapped_column(sa.ForeignKey("cta.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    on_date: Mapped[date]
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class RuleEvaluation(Base):
    """One rule firing (or auto-close) on one account on one as-of date, and what was decided.

    Unique per (as_of, rule, account): re-running a day finds its decisions already made.
    """

    __tablename__ = "rule_evaluation"
    __table_args__ = (sa.UniqueConstraint("as_of", "rule_key", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    rule_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    rule_version: Mapped[int]
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(sa.String(16))
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    cta_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cta.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    arr_at_risk: Mapped[float | None] = mapped_column(Money)
    rank: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    daily_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("daily_run.id", ondelete="SET NULL")
    )
