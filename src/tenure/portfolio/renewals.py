"""Renewals by month, with ARR at stake per currency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.model import Account, User
from tenure.portfolio.freshness import freshness
from tenure.portfolio.rows import (
    arr_totals,
    current_contracts,
    filtered,
    rows_of,
    to_row,
    with_money,
)
from tenure.portfolio.schemas import AccountRow, PortfolioQuery, RenewalMonth, RenewalsReport
from tenure.store.events import EventStore


def renewing_between(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> list[AccountRow]:
    """Accounts whose next renewal falls in [start, end], soonest first, with their contract
    figures only (no judgements): what Today and Renewals list, cheap on a large book."""
    rows = [to_row(r, as_of) for r in _renewing(session, user, owner, start, end, as_of)]
    return with_money(session, rows, as_of)


def _renewing(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> Sequence[Any]:
    # The owner's accounts' contracts grouped once, then the renewal window on the group: a
    # third of the time of six correlated lookups per account (filter, sort and four columns).
    rows = rows_of(session)
    owned = filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
    contracts = current_contracts(owned)
    select = (
        sa.select(
            Account.id,
            Account.external_id,
            Account.name,
            Account.segment,
            Account.owner_id,
            rows.owner.name.label("owner_name"),
            rows.owner.is_active.is_(False).label("owner_left"),
            contracts.c.arr,
            contracts.c.currency,
            contracts.c.renewal_on,
            contracts.c.seats,
            *(sa.null().label(name) for name in JUDGEMENT_COLUMNS),
        )
        .join(contracts, contracts.c.account_id == Account.id)
        .outerjoin(rows.owner, rows.owner.id == Account.owner_id)
        .where(contracts.c.renewal_on >= start, contracts.c.renewal_on <= end)
        .order_by(contracts.c.renewal_on, Account.id)
    )
    return session.execute(select).all()


JUDGEMENT_COLUMNS = (
    "health_score",
    "health_band",
    "health_trend",
    "churn_probability",
    "arr_at_risk",
    "laer_stage",
)


def renewals(
    session: Session,
    user: User,
    as_of: date,
    events: EventStore | None,
    months: int = 12,
    owner: str | None = None,
    per_month: int = 25,
) -> RenewalsReport:
    """Renewals by month for the next ``months`` months, with ARR at stake per currency."""
    if not 1 <= months <= 36:
        raise InvalidInput(f"months: {months} is outside 1–36")
    end = _add_months(as_of.replace(day=1), months) - timedelta(days=1)
    # Rows grouped by month, each with its ARR per currency and in the reporting currency.
    by_month: dict[str, list[AccountRow]] = defaultdict(list)
    for row in renewing_between(session, user, owner, as_of, end, as_of):
        by_month[str(row.renewal_on)[:7]].append(row)
    report = []
    month = as_of.replace(day=1)
    for _ in range(months):
        key = month.strftime("%Y-%m")
        items = by_month.get(key, [])
        following = _add_months(month, 1)
        report.append(
            RenewalMonth(
                month=key,
                first_day=max(month, as_of),
                last_day=following - timedelta(days=1),
                accounts=len(items),
                arr=arr_totals(items),
                renewals=sorted(items, key=_largest_first)[:per_month],
            )
        )
        month = following
    return RenewalsReport(as_of=as_of, months=report, freshness=freshness(session, events))


def _largest_first(row: AccountRow) -> tuple[int, str, float]:
    """Largest ARR first in the reporting currency; those without a rate after, grouped by
    currency and largest first within it (never compared across currencies)."""
    converted = row.arr_converted.amount if row.arr_converted else None
    if converted is not None:
        return (0, "", -converted)
    return (1, row.currency or "", -(row.arr or 0.0))


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)
