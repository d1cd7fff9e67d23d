"""Today: a CSM's renewals, untouched accounts, CTAs and score changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import MULTIPLE_CURRENCIES
from tenure.model import Account, Touchpoint, User, UserRole
from tenure.playbooks.triage import snooze_range, triageable
from tenure.portfolio import signals
from tenure.portfolio.freshness import freshness
from tenure.portfolio.renewals import renewing_between
from tenure.portfolio.rows import (
    by_currency_of,
    conditions,
    currency_totals,
    full_rows,
    owner_ids,
    rows_of,
    rows_with_money,
    split_by_currency,
)
from tenure.portfolio.schemas import PortfolioQuery, SortKey, TodayRenewal, TodayReport
from tenure.store.events import EventStore

TODAY_RENEWAL_WINDOW_DAYS = 120
# Today lists this many of them, the soonest; the Portfolio lists them all (its link says so).
TODAY_RENEWALS_SHOWN = 50
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
    # The ARR at stake of every renewal; rows for the soonest alone (a team's 1,000 renewals
    # made a page of 1,000 rows, and most of its time).
    table = fx_service.rate_table(session, on=as_of)
    multiple = [f["id"] for f in renewing if f["currency"] == MULTIPLE_CURRENCIES]
    split = split_by_currency(session, multiple, as_of)
    renewal_arr = currency_totals(
        figure
        for f in renewing
        for figure in by_currency_of(f["currency"], f["arr"], split.get(f["id"], []))
    )
    shown = renewing[:TODAY_RENEWALS_SHOWN]
    last_touch = _last_touchpoints(session, [f["id"] for f in shown])
    renewals = rows_with_money(
        session,
        [{**f, "last_touchpoint_at": last_touch.get(f["id"])} for f in shown],
        as_of,
        TodayRenewal,
        table,
        split,
    )
    cutoff = datetime.combine(as_of - timedelta(days=UNTOUCHED_AFTER_DAYS), datetime.min.time())
    rows = rows_of(session, as_of)
    # One index probe per candidate account (touchpoint.account_id), not a scan of every
    # touchpoint.
    touched = sa.exists().where(
        Touchpoint.account_id == Account.id, Touchpoint.occurred_at >= cutoff
    )
    untouched = (
        rows.select(frozenset())
        # The touchpoint probe first (SQLite tests the conditions in the order written): one
        # index seek (touchpoint account_id, occurred_at) finds a recent touchpoint, and most
        # accounts have one, so few rows reach the churned test and the contract lookup (a
        # third of the time of testing churn first).
        .where(
            ~touched,
            *conditions(session, rows, PortfolioQuery(owner=owner), user, as_of),
            rows.arr_lookup.is_not(None),
        )
        .order_by(rows.sort_expression(SortKey.arr, as_of).desc(), Account.id)
        .limit(10)
    )
    ctas = signals.ctas_for(session, scope_owner_ids, as_of, table=table)
    snooze_from, snooze_default, snooze_to = snooze_range(as_of)
    return TodayReport(
        as_of=as_of,
        user_id=user.id,
        scope=scope,
        window_days=TODAY_RENEWAL_WINDOW_DAYS,
        renewals=renewals,
        renewals_total=len(renewing),
        renewal_arr=renewal_arr,
        untouched_accounts=full_rows(session, list(session.scalars(untouched)), as_of, table),
        ctas=ctas,
        triageable=triageable(session, user, ctas),
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
