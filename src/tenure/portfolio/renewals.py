"""Renewals by month: the risk-weighted forecast and each renewal with its category, health,
churn probability and last touch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import active_clause
from tenure.accounts.fx import RateTable, convert
from tenure.accounts.renewal import RENEWING_COLUMNS, bookings, renewal_on_sql
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, Contract, Opportunity, RenewalOutcome, Touchpoint, User
from tenure.portfolio import forecast as forecast_module
from tenure.portfolio import signals
from tenure.portfolio.forecast import (
    CategorizedRenewal,
    ForecastCategory,
    Forecasted,
    Renewal,
    add_months,
    categorized,
    forecast,
    month_of,
    period_totals,
    quarter_of,
)
from tenure.portfolio.freshness import freshness
from tenure.portfolio.rows import (
    ID_CHUNK,
    OWNER,
    current_contracts,
    filtered,
    owner_ids,
    row_fields,
    rows_of,
)
from tenure.portfolio.schemas import (
    ArrByCurrency,
    PortfolioQuery,
    RenewalMonth,
    RenewalRow,
    RenewalsReport,
)
from tenure.risk.figures import probability_for_renewal
from tenure.store.events import EventStore
from tenure.success import figures
from tenure.success.lifecycle_service import renewing_before_value


def _renewing_owner(owner: str | None) -> PortfolioQuery:
    """The owner's accounts, churned ones not left out by the account filter: a renewal is of a
    contract in force, and an account with one is never churned — so the churned test (two
    contract lookups per account, a third of a team's renewals query) is not made."""
    return PortfolioQuery(owner=owner, churned=True)


def renewing_between(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> list[dict[str, Any]]:
    """The fields (rows.row_fields) of the accounts whose next renewal falls in [start, end],
    soonest first, with their contract figures only (no judgements): what Today lists, cheap on
    a large book — rows made of the few shown (rows.rows_with_money)."""
    return [row_fields(r, as_of) for r in _renewing(session, user, owner, start, end, as_of)]


def _renewing(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> Sequence[Any]:
    # The owner's accounts' contracts grouped once, then the renewal window on the group: a
    # third of the time of six correlated lookups per account (filter, sort and four columns).
    rows = rows_of(session, as_of)
    owned = filtered(session, rows, _renewing_owner(owner), user, as_of, frozenset())
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
    ``listed_months`` (YYYY-MM, months of the window; the page lists a month's renewals when it
    is opened, the API one ``month`` when asked)."""
    return _report(session, user, as_of, events, months, owner, per_month, listed_months, None)


def renewal_month(
    session: Session,
    user: User | None,
    as_of: date,
    events: EventStore | None,
    month: str,
    months: int = 12,
    owner: str | None = None,
    per_month: int = 25,
) -> RenewalMonth:
    """One month of :func:`renewals` (YYYY-MM, of the window): its totals, forecast and largest
    renewals, as the console opens it. Only that month's renewals of the stored forecast are
    read: the other months' totals and the quarters are not added up (most of its time)."""
    report = _report(session, user, as_of, events, months, owner, per_month, {month}, month)
    (found,) = [m for m in report.months if m.month == month]
    return found


def _report(
    session: Session,
    user: User | None,
    as_of: date,
    events: EventStore | None,
    months: int,
    owner: str | None,
    per_month: int,
    listed_months: Collection[str] | None,
    only: str | None,
) -> RenewalsReport:
    """:func:`renewals`; with ``only`` a month, that month's figures alone (the others empty,
    no quarter) when the stored forecast is read."""
    if not 1 <= months <= 36:
        raise InvalidInput(f"months: {months} is outside 1–36")
    first = as_of.replace(day=1)
    end = add_months(first, months) - timedelta(days=1)
    month_keys = [month_of(add_months(first, i)) for i in range(months)]
    outside = sorted(set(listed_months or ()) - set(month_keys))
    if outside:
        raise NotFound(f"{outside[0]} is not one of the next {months} months")
    stored = _stored(session, as_of)
    by_month: dict[str, list[Forecasted]] = defaultdict(list)
    shown: dict[str, list[CategorizedRenewal]] = {}
    extra: dict[tuple[int, date, int], Due] = {}
    if stored is not None:
        # The daily run's categorised renewals, this owner's in the window: the totals read no
        # renewal, check no booking and judge nothing again.
        start = None if only is None else add_months(first, month_keys.index(only))
        last = end if start is None else add_months(start, 1) - timedelta(days=1)
        inside: list[StoredRenewal] = _stored_inside(session, user, owner, stored, last, start)
        quarter_keys = list(dict.fromkeys(quarter_of(add_months(first, i)) for i in range(months)))
        month_totals = period_totals(inside, month_of, month_keys)
        quarter_totals = [] if only else period_totals(inside, quarter_of, quarter_keys)
        stored_by_month: dict[str, list[StoredRenewal]] = defaultdict(list)
        for r in inside:
            stored_by_month[month_of(r.renewal_on)].append(r)
        for key, month_rows in stored_by_month.items():
            by_month[key].extend(month_rows)
        # A listed month's largest renewals are chosen from the stored ones; those alone are
        # read, checked for a booking and categorised again for their rows.
        chosen = {
            key: _largest(stored_by_month[key], per_month)
            for key in month_keys
            if listed_months is None or key in listed_months
        }
        terms = [r for rows in chosen.values() for r in rows]
        due = (
            renewals_due(
                session,
                user,
                owner,
                as_of,
                end,
                accounts=sorted({r.account_id for r in terms}),
                contract_ids=[r.contract_id for r in terms],
            )
            if terms
            else []
        )
        extra = {d.renewal_id: d for d in due}
        categorized_now = {_key(r): r for r in categorized([d.renewal for d in due])}
        shown = {
            key: [categorized_now[_key(r)] for r in rows if _key(r) in categorized_now]
            for key, rows in chosen.items()
        }
    else:
        due = renewals_due(session, user, owner, as_of, end)
        report = forecast([d.renewal for d in due], first, months)
        month_totals, quarter_totals = report.months, report.quarters
        extra = {d.renewal_id: d for d in due}
        for row in report.renewals:
            by_month[month_of(row.renewal_on)].append(row)
        shown = {
            key: _largest(rows, per_month)
            for key, rows in _categorized_by_month(report.renewals).items()
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
                forecast=[p for p in month_totals if p.period == key],
                renewals=[
                    _row(r, extra[_key(r)], as_of, touched, rates, before_value) for r in listed
                ],
            )
        )
    return RenewalsReport(
        as_of=as_of,
        months=out,
        quarters=quarter_totals,
        at_risk_probability=forecast_module.AT_RISK_PROBABILITY,
        commit_probability=forecast_module.COMMIT_PROBABILITY,
        freshness=freshness(session, events),
    )


R = TypeVar("R", bound=Forecasted)


def _largest(rows: list[R], per_month: int) -> list[R]:
    """A month's largest renewals, listed on its page (the soonest first among equal ARR)."""
    return sorted(rows, key=lambda r: (-r.arr, r.renewal_on))[:per_month]


def _categorized_by_month(
    rows: list[CategorizedRenewal],
) -> dict[str, list[CategorizedRenewal]]:
    found: dict[str, list[CategorizedRenewal]] = defaultdict(list)
    for row in rows:
        found[month_of(row.renewal_on)].append(row)
    return found


# The forecast of every renewal due in the next STORED_MONTHS months of the whole book, as the
# daily run categorised it: the Renewals page's totals read it instead of reading, checking for a
# booking and judging 3,000 renewals a request (two thirds of its time at 10,000 accounts).
RENEWAL_FORECAST = "renewal_forecast"
STORED_MONTHS = 36


class StoredRenewal(NamedTuple):
    """A renewal of the stored forecast: what the totals read, whose account it is, and which
    contract term (to list it)."""

    owner_id: int | None
    renewal_on: date
    arr: float
    currency: str
    category: ForecastCategory
    expected_arr: float | None
    account_id: int
    contract_id: int | None


def _forecast_code() -> str:
    return figures.code_digest(
        "tenure.portfolio.renewals",
        "tenure.portfolio.forecast",
        "tenure.accounts.renewal",
        "tenure.risk.figures",
    )


def _inputs(session: Session) -> str:
    """What the forecast read, cheaply fingerprinted: the scoring days shown, and each table's
    row count and last change (a contract booked, an owner changed, a renewal won since the
    daily run show at once)."""
    found = figures.table_changes(session, Contract, Account, Opportunity)
    return figures.digest(signals.current_days(session), found)


def store_renewal_forecast(session: Session, as_of: date) -> dict[str, Any]:
    """The daily run's step: the whole book's renewals of the next STORED_MONTHS months
    categorised and stored for the Renewals page's totals."""
    rows = _compute_stored(session, as_of)
    return {"renewals": len(rows)}


def _compute_stored(session: Session, as_of: date) -> list[list[Any]]:
    first = as_of.replace(day=1)
    end = add_months(first, STORED_MONTHS) - timedelta(days=1)
    inputs = _inputs(session)
    due = renewals_due(session, None, None, as_of, end)
    owner_of = {d.renewal_id: d.owner_id for d in due}
    report = forecast([d.renewal for d in due], first, STORED_MONTHS)
    rows = [
        [
            owner_of[_key(r)],
            r.renewal_on.isoformat(),
            r.arr,
            r.currency,
            r.category.value,
            r.expected_arr,
            r.account_id,
            r.contract_id,
        ]
        for r in report.renewals
    ]
    data = {"inputs": inputs, "renewals": rows}
    figures.write_snapshot(session, RENEWAL_FORECAST, _forecast_code(), as_of, data)
    return rows


def _stored(session: Session, as_of: date) -> list[StoredRenewal] | None:
    """The stored forecast when it is of ``as_of`` and nothing it read changed since; computed
    and stored again when it is older or its inputs changed (None for an earlier day: the
    page computes that day's)."""
    stored = figures.read_snapshot(session, RENEWAL_FORECAST, _forecast_code())
    if stored is not None and stored[1] > as_of:
        return None
    if stored is None or stored[1] < as_of or stored[0].get("inputs") != _inputs(session):
        return _parsed(_compute_stored(session, as_of))
    return _parsed_once(stored[0]["renewals"])


# The stored forecast's rows made StoredRenewals once per stored forecast (10,000 of them cost
# a request 7–20 ms): figures.read_snapshot hands out the same decoded rows until a write
# replaces them, and a replacing write's rows are another list, so the rows kept here are those
# of the forecast read (compared by identity; the list is held, so its id cannot be reused).
_PARSED: tuple[list[list[Any]], list[StoredRenewal]] | None = None


def _parsed_once(stored: list[list[Any]]) -> list[StoredRenewal]:
    global _PARSED
    kept = _PARSED
    if kept is not None and kept[0] is stored:
        return kept[1]
    parsed = _parsed(stored)
    _PARSED = (stored, parsed)
    return parsed


def _parsed(stored: list[list[Any]]) -> list[StoredRenewal]:
    categories = {c.value: c for c in ForecastCategory}
    days: dict[str, date] = {}
    parsed = []
    for owner_id, on, arr, currency, category, expected, account_id, contract_id in stored:
        day = days.get(on)
        if day is None:
            day = days[on] = date.fromisoformat(on)
        kind = categories[category]
        parsed.append(
            StoredRenewal(owner_id, day, arr, currency, kind, expected, account_id, contract_id)
        )
    return parsed


def _stored_inside(
    session: Session,
    user: User | None,
    owner: str | None,
    stored: list[StoredRenewal],
    end: date,
    start: date | None = None,
) -> list[StoredRenewal]:
    """The stored renewals of the owner's accounts due by ``end`` (from ``start`` on, when
    given), in the stored order (the forecast's: the totals add them up in the same order as
    when computed)."""
    ids = owner_ids(session, user, owner) if owner else set()
    first = start or date.min
    return [
        r
        for r in stored
        if first <= r.renewal_on <= end
        and (not owner or (r.owner_id is None if ids is None else r.owner_id in ids))
    ]


def _per_currency(rows: list[Forecasted]) -> list[ArrByCurrency]:
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row.currency] += row.arr
    return [ArrByCurrency(currency=c, arr=round(v, 2)) for c, v in sorted(totals.items())]


@dataclass(frozen=True)
class Due:
    """A contract term up for renewal, as the forecast reads it, with what the page adds."""

    renewal: Renewal
    contract_id: int
    owner_id: int | None
    owner_name: str | None
    segment: str | None
    health_score: int | None

    @property
    def renewal_id(self) -> tuple[int, date, int]:
        return (self.renewal.account_id, self.renewal.renewal_on, self.contract_id)


def _key(row: CategorizedRenewal | StoredRenewal) -> tuple[int, date, int]:
    return (row.account_id, row.renewal_on, row.contract_id or 0)


def renewals_due(
    session: Session,
    user: User | None,
    owner: str | None,
    as_of: date,
    end: date,
    *,
    accounts: Sequence[int] | None = None,
    contract_ids: Collection[int | None] | None = None,
    start: date | None = None,
) -> list[Due]:
    """The contract terms active on ``as_of`` coming up for renewal by ``end``
    (tenure.accounts.renewal) of the owner's accounts (or of the ``accounts`` given, and then
    only the contracts ``contract_ids`` when given), with the churn probability as it bears on
    that renewal (none beyond the model's reach; tenure.risk.figures), health band, and
    whether the renewal is booked; from ``start`` on when it is later than ``as_of``."""
    # These accounts' judgements only: the whole book's current scores materialised for one
    # account's renewal cost Account 360 a third of its time.
    if accounts is None:
        rows = rows_of(session, as_of)
        owned: Any = filtered(session, rows, _renewing_owner(owner), user, as_of, frozenset())
        health, risk = rows.health, rows.risk
    else:
        # The health and risk of the day alone, not a whole account row's expressions (its
        # contract aggregate cost 7 ms to build for a page's 300 renewals).
        days = signals.current_days(session)
        owned = accounts
        health = signals.health_today(days, accounts) if days.health_day else None
        risk = signals.risk_today(days, accounts) if days.risk_day else None
    judgements = (
        (health.c.score.label("health_score"), health.c.band.label("health_band"))
        if health is not None
        else (sa.null().label("health_score"), sa.null().label("health_band"))
    )
    chances = (
        (risk.c.window_probability, risk.c.renewal_probability, risk.c.horizon_days)
        if risk is not None
        else (
            sa.null().label("window_probability"),
            sa.null().label("renewal_probability"),
            sa.null().label("horizon_days"),
        )
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
            Account.owner_id,
            OWNER.name.label("owner_name"),
            *judgements,
            *chances,
        )
        .join(Account, Account.id == Contract.account_id)
        .outerjoin(OWNER, OWNER.id == Account.owner_id)
        .where(Contract.account_id.in_(owned), active_clause(as_of))
        .where(renews_on >= max(start or as_of, as_of), renews_on <= end)
    )
    if contract_ids is not None:
        select = select.where(Contract.id.in_([c for c in contract_ids if c is not None]))
    if health is not None:
        select = select.outerjoin(health, health.c.account_id == Account.id)
    if risk is not None:
        select = select.outerjoin(risk, risk.c.account_id == Account.id)
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
        due.append(Due(renewal, contract.id, r.owner_id, r.owner_name, r.segment, r.health_score))
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
