"""Each account's current judgements stored in one narrow row (tenure.model.account_judgement):
the portfolio CSV of a team reads them by account id — one primary-key probe per account —
instead of the current day's rows of the score tables, the latest LAER stage and the day's
metrics (40 of its 70 ms of SQL at 10,000 accounts).

They are read only while current (:func:`current`): built after the last write that changes a
judgement (every such writer runs ``JUDGEMENTS_CHANGED`` in its transaction), from the scoring
days, scorecard version and lifecycle model in force now. Otherwise a list reads the score
tables as before, and the daily run or the next view builds them again (:func:`store`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Account, AccountJudgement, JudgementState
from tenure.model.base import utcnow
from tenure.portfolio import signals
from tenure.success.figures import unless_stored_meanwhile
from tenure.success.lifecycle_service import lifecycle_model_expression

STATE_ID = 1
# Rows per INSERT (SQLite allows 32,766 bound parameters; a row binds 9).
CHUNK = 2_000


# What the stored judgements are built from: fields of signals.CurrentDays and JudgementState.
BASIS = ("health_day", "scorecard", "scorecard_version", "risk_day", "model_version", "metrics_day")


def _basis(days: signals.CurrentDays) -> tuple[Any, ...]:
    return tuple(getattr(days, field) for field in BASIS)


def current(session: Session, days: signals.CurrentDays) -> bool:
    """Whether the stored judgements are those of ``days`` (the current scoring days, read by
    the request) with no judgement-changing write since they were built."""
    state = session.execute(
        sa.select(
            JudgementState.changes,
            JudgementState.built_changes,
            *(getattr(JudgementState, field) for field in BASIS),
            JudgementState.lifecycle_model,
            lifecycle_model_expression().label("model_in_force"),
        ).where(JudgementState.id == STATE_ID)
    ).first()
    return (
        state is not None
        and state.built_changes == state.changes
        and state.lifecycle_model == state.model_in_force
        and tuple(getattr(state, field) for field in BASIS) == _basis(days)
    )


def store(session: Session, days: signals.CurrentDays) -> int:
    """Build the stored judgements of ``days`` from the score tables (the daily run, or a view
    that found them behind); returns how many accounts. Left to the next view when another
    request builds them at the same moment or holds the write lock."""
    with unless_stored_meanwhile(session):
        return _store(session, days)
    return 0


def store_current(session: Session) -> int:
    """:func:`store` for the scoring days stored now (the daily run, the intraday refresh:
    after their writes, not the days the session read before them)."""
    return store(session, signals.current_days(session, again=True))


def _store(session: Session, days: signals.CurrentDays) -> int:
    # What they are built from is read before the judgements: a write committed in between
    # leaves them behind (read again), never ahead.
    state = session.execute(
        sa.select(JudgementState.changes, lifecycle_model_expression().label("model")).where(
            JudgementState.id == STATE_ID
        )
    ).first()
    model = state.model if state else session.scalar(sa.select(lifecycle_model_expression()))
    found = session.execute(judgements_select(days)).all()
    session.execute(sa.delete(AccountJudgement))
    rows = [
        {
            "account_id": r.account_id,
            "health_score": r.health_score,
            "health_band": r.health_band,
            "health_trend": r.health_trend,
            "churn_probability": r.churn_probability,
            "arr_at_risk": r.arr_at_risk,
            "risk_currency": r.risk_currency,
            "laer_stage": r.laer_stage,
            "license_utilization": signals.utilization_in(r.metrics),
        }
        for r in found
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(sa.insert(AccountJudgement), rows[start : start + CHUNK])
    basis = dict(zip(BASIS, _basis(days), strict=True), lifecycle_model=model, built_at=utcnow())
    if state is None:
        session.execute(
            sa.insert(JudgementState).values(id=STATE_ID, changes=0, built_changes=0, **basis)
        )
    else:
        session.execute(
            sa.update(JudgementState)
            .where(JudgementState.id == STATE_ID)
            .values(built_changes=state.changes, **basis)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return len(rows)


def judgements_select(days: signals.CurrentDays) -> sa.Select[Any]:
    """Every account's judgements as the account row reads them from the score tables
    (tenure.portfolio.rows), and its metric values of the day (utilization is read from them
    as the CSV reads it)."""
    health = signals.health_today(days) if days.health_day else None
    risk = signals.risk_today(days) if days.risk_day else None
    nothing = sa.null()
    select = sa.select(
        Account.id.label("account_id"),
        (health.c.score if health is not None else nothing).label("health_score"),
        (health.c.band if health is not None else nothing).label("health_band"),
        (health.c.trend if health is not None else nothing).label("health_trend"),
        (risk.c.probability if risk is not None else nothing).label("churn_probability"),
        (risk.c.arr_at_risk if risk is not None else nothing).label("arr_at_risk"),
        (risk.c.currency if risk is not None else nothing).label("risk_currency"),
        signals.stage_now().label("laer_stage"),
        signals.stored_metrics(days).label("metrics"),
    )
    if health is not None:
        select = select.outerjoin(health, health.c.account_id == Account.id)
    if risk is not None:
        select = select.outerjoin(risk, risk.c.account_id == Account.id)
    return select
