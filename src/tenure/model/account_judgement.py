"""Each account's current judgements (health, churn risk, LAER stage, license utilization) in one
narrow row, so that a list of thousands of accounts reads them by account id instead of probing
the 500,000-row score tables per account (tenure.portfolio.judgements writes and reads them).

The rows are a copy: they are read only while :class:`JudgementState` says they were built
from the current scoring days, the lifecycle model in force and every write since — each
write that changes a judgement (scores, metrics, stage histories) runs
:data:`JUDGEMENTS_CHANGED` in its own transaction, and a reader that finds the copy behind
reads the score tables as before."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenure.model.base import Base, Money


class AccountJudgement(Base):
    __tablename__ = "account_judgement"

    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    health_score: Mapped[int | None]
    health_band: Mapped[str | None] = mapped_column(sa.String(16))
    health_trend: Mapped[str | None] = mapped_column(sa.String(8))
    # tenure.risk.figures: the account's one churn probability, its ARR at risk and currency.
    churn_probability: Mapped[float | None] = mapped_column(sa.Float)
    arr_at_risk: Mapped[float | None] = mapped_column(Money)
    risk_currency: Mapped[str | None] = mapped_column(sa.String(16))
    laer_stage: Mapped[str | None] = mapped_column(sa.String(32))
    license_utilization: Mapped[float | None] = mapped_column(sa.Float)


class JudgementState(Base):
    """One row: how many judgement-changing writes there have been (``changes``) and what the
    stored judgements were built from — the count of writes then, the scoring days, the
    scorecard version shown and the lifecycle model in force."""

    __tablename__ = "judgement_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    changes: Mapped[int] = mapped_column(default=0, server_default="0")
    built_changes: Mapped[int | None]
    health_day: Mapped[date | None]
    scorecard: Mapped[str | None] = mapped_column(sa.String(64))
    scorecard_version: Mapped[str | None] = mapped_column(sa.String(32))
    risk_day: Mapped[date | None]
    model_version: Mapped[str | None] = mapped_column(sa.String(64))
    metrics_day: Mapped[date | None]
    lifecycle_model: Mapped[str | None] = mapped_column(sa.String(16))
    built_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


# Run by every write that changes what a judgement reads (health scores, churn risk scores,
# metric snapshots, lifecycle stage histories), in the writer's transaction: the stored
# judgements are behind from then until they are built again.
JUDGEMENTS_CHANGED = (
    sa.update(JudgementState)
    .values(changes=JudgementState.changes + 1)
    .execution_options(synchronize_session=False)
)
