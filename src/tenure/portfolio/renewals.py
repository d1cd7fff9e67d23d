"""Renewals by month: the risk-weighted forecast and each renewal with its category, health,
churn probability and last touch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import active_clause
from tenure.accounts.fx import RateTable, convert
from tenure.accounts.renewal import RENEWING_COLUMNS, bookings, renewal_on_sql
from tenure.errors import InvalidInput
from tenure.model import Account, Contract, RenewalOutcome, Touchpoint, User
from tenure.portfolio.forecast import CategorizedRenewal, Renewal, add_months, forecast, month_of
from tenure.portfolio.freshness import freshness
from tenure.portfolio.rows import (
    ID_CHUNK,
    current_contracts,
    filtered,
    rows_of,
    to_row,
    with_money,
)
from tenure.portfolio.schemas import (
    AccountRow,
    ArrByCurrency,
    PortfolioQuery,
    RenewalMonth,
    RenewalRow,
    RenewalsReport,
)
from tenure.risk.figures import probability_for_renewal
from tenure.store.events import EventStore
from tenure.success.lifecycle_service import renewing_before_value


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
    rows = rows_of(session, as_of)
    owned = filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
    contracts = current_contracts(as_of, owned)
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
    user: User | None,
    as_of: date,
    events: EventStore | None,
    months: int = 12,
    owner: str | None = None,
    per_month: int = 25,
    listed_months: Collection[str] | None = None,
) -> RenewalsReport:
    """Renewals by month for the next ``months`` months: the risk-weighted forecast per month
    and quarter per currency (tenure.portfolio.forecast) and each month's largest renewals with
    their category, health, churn probability and last touch — for every month, or only for
    ``listed_months`` (YYYY-MM; the page lists a month's renewals when it is opened)."""
    if not 1 <= months <= 36:
        raise InvalidInput(f"months: {months} is outside 1–36")
    first = as_of.replace(day=1)
    end = add_months(first, months) - timedelta(days=1)
    due = renewals_due(session, user, owner, as_of, end)
    report = forecast([d.renewal for d in due], first, months)
    extra = {d.renewal_id: d for d in due}
    by_month: dict[str, list[CategorizedRenewal]] = defaultdict(list)
    for row in report.renewals:
        by_month[month_of(row.renewal_on)].append(row)
    shown = {
        key: sorted(rows, key=lambda r: (-r.arr, r.renewal_on))[:per_month]
        for key, rows in by_month.items()
        if listed_months is None or key in listed_months
    }
    listed_ids = sorted({r.account_id for rows in shown.values() for r in rows})
    touched = last_touchpoints(session, listed_ids)
    before_value = renewing_before_value(session, listed_ids, as_of)
    rates = fx_service.rate_table(session, on=as_of)
    out = []
    for index in range(months):
        month = add_months(first, index)
        key = month_of(month)
        items = by_month.get(key, [])
        listed = sorted(shown.get(key, []), key=lambda r: (r.renewal_on, -r.arr))
        out.append(
            RenewalMonth(
                month=key,
                first_day=max(month, as_of),
                last_day=add_months(month, 1) - timedelta(days=1),
                accounts=len(items),
                arr=_per_currency(items),
                forecast=[p for p in report.months if p.period == key],
                renewals=[
                    _row(r, extra[_key(r)], as_of, touched, rates, before_value) for r in listed
                ],
            )
        )
    return RenewalsReport(
        as_of=as_of,
        months=out,
        quarters=report.quarters,
        at_risk_probability=report.at_risk_probability,
        commit_probability=report.commit_probability,
        freshness=freshness(session, events),
    )


def _per_currency(rows: list[CategorizedRenewal]) -> list[ArrByCurrency]:
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row.currency] += row.arr
    return [ArrByCurrency(currency=c, arr=round(v, 2)) for c, v in sorted(totals.items())]


@dataclass(frozen=True)
class Due:
    """A contract term up for renewal, as the forecast reads it, with what the page adds."""

    renewal: Renewal
    contract_id: int
    owner_name: str | None
    segment: str | None
    health_score: int | None

    @property
    def renewal_id(self) -> tuple[int, date, int]:
        return (self.renewal.account_id, self.renewal.renewal_on, self.contract_id)


def _key(row: CategorizedRenewal) -> tuple[int, date, int]:
    return (row.account_id, row.renewal_on, row.contract_id or 0)


def renewals_due(
    session: Session,
    user: User | None,
    owner: str | None,
    as_of: date,
    end: date,
    *,
    account_id: int | None = None,
) -> list[Due]:
    """The contract terms active on ``as_of`` coming up for renewal by ``end``
    (tenure.accounts.renewal) of the owner's accounts (or of the one account ``account_id``),
    with the churn probability as it bears on that renewal (none beyond the model's reach;
    tenure.risk.figures), health band, and whether the renewal is booked."""
    # One account's judgements only: the whole book's current scores materialised for one
    # account's renewal cost Account 360 a third of its time.
    rows = rows_of(session, as_of, None if account_id is None else [account_id])
    owned: Any = (
        [account_id]
        if account_id is not None
        else filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
    )
    renews_on = renewal_on_sql()
    select = (
        sa.select(
            # Plain rows, not Contract objects: loading 3,000 of them was half the page's CPU.
            *RENEWING_COLUMNS,
            Contract.arr,
            Contract.currency,
            Contract.notice_on,
            Contract.payment_overdue,
            Account.name,
            Account.segment,
            rows.owner.name.label("owner_name"),
            rows.health_score.label("health_score"),
            rows.health_band.label("health_band"),
            *(
                (
                    rows.risk.c.window_probability,
                    rows.risk.c.renewal_probability,
                    rows.risk.c.horizon_days,
                )
                if rows.risk is not None
                else (
                    sa.null().label("window_probability"),
                    sa.null().label("renewal_probability"),
                    sa.null().label("horizon_days"),
                )
            ),
        )
        .join(Account, Account.id == Contract.account_id)
        .outerjoin(rows.owner, rows.owner.id == Account.owner_id)
        .where(Contract.account_id.in_(owned), active_clause(as_of))
        .where(renews_on >= as_of, renews_on <= end)
    )
    if rows.health is not None:
        select = select.outerjoin(rows.health, rows.health.c.account_id == Account.id)
    if rows.risk is not None:
        select = select.outerjoin(rows.risk, rows.risk.c.account_id == Account.id)
    found = session.execute(select).all()
    booked = bookings(session, found, as_of)
    due = []
    for contract in found:
        r = contract
        lost = contract.renewal_outcome == RenewalOutcome.churned
        renewal = Renewal(
            account_id=contract.account_id,
            account_name=r.name,
            renewal_on=contract.ends_on,
            arr=float(contract.arr),
            currency=contract.currency,
            churn_probability=probability_for_renewal(
                r.window_probability,
                r.renewal_probability,
                r.horizon_days,
                as_of,
                contract.ends_on,
            ),
            health_band=r.health_band,
            booked=contract.id in booked,
            notice_on=(contract.notice_on or contract.outcome_on or contract.ends_on)
            if lost
            else None,
            past_due=contract.payment_overdue,
            contract_id=contract.id,
            booking=booked.get(contract.id),
        )
        due.append(Due(renewal, contract.id, r.owner_name, r.segment, r.health_score))
    return due


def _row(
    row: CategorizedRenewal,
    due: Due,
    as_of: date,
    touched: dict[int, datetime],
    rates: RateTable,
    before_value: set[int],
) -> RenewalRow:
    return RenewalRow(
        **row.model_dump(),
        owner_name=due.owner_name,
        segment=due.segment,
        days_to_renewal=(row.renewal_on - as_of).days,
        health_score=due.health_score,
        last_touchpoint_at=touched.get(row.account_id),
        arr_converted=convert({row.currency: row.arr}, rates, as_of),
        before_value_realized=row.account_id in before_value,
    )


def last_touchpoints(session: Session, account_ids: list[int]) -> dict[int, datetime]:
    """Each account's latest touchpoint (meeting, call, e-mail, QBR…)."""
    found: dict[int, datetime] = {}
    for start in range(0, len(account_ids), ID_CHUNK):
        rows = session.execute(
            sa.select(Touchpoint.account_id, sa.func.max(Touchpoint.occurred_at))
            .where(Touchpoint.account_id.in_(account_ids[start : start + ID_CHUNK]))
            .group_by(Touchpoint.account_id)
        )
        found.update((account_id, at) for account_id, at in rows)
    return found
