"""Today: a CSM's renewals, untouched accounts, CTAs and score changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import Account, Cta, Touchpoint, User, UserRole
from tenure.playbooks.triage import may_triage, snooze_range
from tenure.portfolio import signals
from tenure.portfolio.freshness import freshness
from tenure.portfolio.renewals import renewing_between
from tenure.portfolio.rows import arr_totals, filtered, full_rows, owner_ids, rows_of
from tenure.portfolio.schemas import PortfolioQuery, SortKey, TodayRenewal, TodayReport
from tenure.store.events import EventStore

TODAY_RENEWAL_WINDOW_DAYS = 120
# An account nobody has talked to in this long shows on Today as "no touchpoint".
UNTOUCHED_AFTER_DAYS = 90


def today_scope(user: User, requested: str | None) -> str:
    if requested in {"mine", "team", "all"}:
        return requested
    return {UserRole.csm: "mine", UserRole.manager: "team"}.get(user.role, "all")


def today(
    session: Session,
    user: User,
    as_of: date,
    events: EventStore | None,
    scope: str | None = None,
) -> TodayReport:
    """A CSM's day: their renewals in the next 120 days and accounts nobody has talked to."""
    scope = today_scope(user, scope)
    owner = {"mine": "me", "team": "team", "all": None}[scope]
    scope_owner_ids = owner_ids(session, user, owner) if owner else None
    renewing = renewing_between(
        session, user, owner, as_of, as_of + timedelta(days=TODAY_RENEWAL_WINDOW_DAYS), as_of
    )
    last_touch = _last_touchpoints(session, [r.id for r in renewing])
    cutoff = datetime.combine(as_of - timedelta(days=UNTOUCHED_AFTER_DAYS), datetime.min.time())
    rows = rows_of(session, as_of)
    # One index probe per candidate account (touchpoint.account_id), not a scan of every
    # touchpoint.
    touched = sa.exists().where(
        Touchpoint.account_id == Account.id, Touchpoint.occurred_at >= cutoff
    )
    untouched = (
        filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
        # The touchpoint probe first: it stops at the first recent touchpoint, and most
        # accounts have one, so few rows reach the contract lookup (half the time).
        .where(~touched, rows.arr_lookup.is_not(None))
        .order_by(rows.sort_expression(SortKey.arr, as_of).desc(), Account.id)
        .limit(10)
    )
    ctas = signals.ctas_for(session, scope_owner_ids, as_of)
    snooze_from, snooze_default, snooze_to = snooze_range(as_of)
    return TodayReport(
        as_of=as_of,
        user_id=user.id,
        scope=scope,
        window_days=TODAY_RENEWAL_WINDOW_DAYS,
        renewals=[
            TodayRenewal(**r.model_dump(), last_touchpoint_at=last_touch.get(r.id))
            for r in renewing
        ],
        renewal_arr=arr_totals(renewing),
        untouched_accounts=full_rows(session, list(session.scalars(untouched)), as_of),
        ctas=ctas,
        triageable=[c.id for c in ctas if may_triage(session, user, session.get_one(Cta, c.id))],
        snooze_from=snooze_from,
        snooze_default=snooze_default,
        snooze_to=snooze_to,
        score_changes=signals.score_changes(session, rows.days, scope_owner_ids),
        freshness=freshness(session, events),
    )


def _last_touchpoints(session: Session, account_ids: list[int]) -> dict[int, datetime]:
    if not account_ids:
        return {}
    result = session.execute(
        sa.select(Touchpoint.account_id, sa.func.max(Touchpoint.occurred_at))
        .where(Touchpoint.account_id.in_(account_ids))
        .group_by(Touchpoint.account_id)
    ).all()
    return {account_id: at for account_id, at in result}
