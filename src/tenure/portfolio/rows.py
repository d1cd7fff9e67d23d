"""The account row: one account with its current contracts, owner and today's judgements,
and the filters every list of the book shares."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tenure.accounts import fx_service
from tenure.accounts.arr import MULTIPLE_CURRENCIES, active_clause
from tenure.accounts.fx import RateTable, convert
from tenure.accounts.renewal import renewal_on_sql
from tenure.auth.permissions import team_member_ids
from tenure.errors import InvalidInput, NotFound
from tenure.model import Account, AccountJudgement, Contract, User
from tenure.portfolio import signals
from tenure.portfolio.schemas import (
    UTILIZATION_BANDS,
    AccountRow,
    ArrByCurrency,
    PortfolioQuery,
    SortKey,
    UtilizationBand,
)

FAR_FUTURE = date(9999, 12, 31)


# --- the account row: one account with its current contracts ------------------------------


def _contract_lookup(aggregate: Any, day: date) -> Any:
    return (
        sa.select(aggregate)
        .where(Contract.account_id == Account.id, active_clause(day))
        .correlate(Account)
        .scalar_subquery()
    )


def current_contracts(day: date, accounts: Sequence[int] | sa.Select[Any] | None = None) -> Any:
    """Per account (or for the given ids, or the ids a select returns): ARR, currency, next
    renewal (tenure.accounts.renewal: a monthly subscription renewing itself has none) and
    seats of its contracts active on ``day`` (tenure.accounts.arr: in force that day, whatever
    status an import stored). An account whose contracts are in several
    currencies has no one ARR: ``arr`` is NULL and ``currency`` 'multiple' (never a sum of
    dollars and euros); :func:`with_money` gives its figure per currency."""
    only = [Contract.account_id.in_(accounts)] if accounts is not None else []
    one_currency = sa.func.count(sa.distinct(Contract.currency)) == 1
    return (
        sa.select(
            Contract.account_id.label("account_id"),
            sa.case((one_currency, sa.func.sum(Contract.arr))).label("arr"),
            sa.case(
                (one_currency, sa.func.min(Contract.currency)), else_=MULTIPLE_CURRENCIES
            ).label("currency"),
            sa.func.min(renewal_on_sql()).label("renewal_on"),
            sa.func.sum(Contract.licensed_seats).label("seats"),
        )
        .where(active_clause(day), *only)
        .group_by(Contract.account_id)
        .subquery("current_contract")
    )


# Expressions without parameters, built once: the owner's user row joined to an account (an
# alias, so a filter on users cannot clash) and the account's LAER stage.
OWNER = aliased(User, name="owner")
STAGE_NOW = signals.stage_now()


def converted_arr(day: date) -> Any:
    """An account's current ARR in the reporting currency at the rates of ``day`` (correlated
    to Account): 0 without contracts, NULL when one of its currencies has no rate."""
    rate = fx_service.rate_expression(Contract.currency, day)
    return (
        sa.select(
            sa.case(
                (sa.func.count(rate) < sa.func.count(), sa.null()),
                else_=sa.func.coalesce(sa.func.sum(Contract.arr * rate), 0.0),
            )
        )
        .where(Contract.account_id == Account.id, active_clause(day))
        .correlate(Account)
        .scalar_subquery()
    )


def rows_of(session: Session, as_of: date, account_ids: Sequence[int] | None = None) -> Rows:
    """The row expressions of the current scoring days and the contracts active on ``as_of``,
    for the whole book or these accounts."""
    days = signals.current_days(session)
    if account_ids is not None:
        return Rows(days, as_of, account_ids)
    return _book_rows(days, as_of)


@lru_cache(maxsize=8)
def _book_rows(days: signals.CurrentDays, as_of: date) -> Rows:
    # Building the expressions costs a request 2–4 ms of CPU; they depend only on the scoring
    # days and the day and are never changed after construction (every select built from them
    # is new).
    return Rows(days, as_of)


class Rows:
    """The account-row select and the expressions filters and sorts refer to."""

    def __init__(
        self, days: signals.CurrentDays, as_of: date, account_ids: Sequence[int] | None = None
    ) -> None:
        self.days = days
        self._aggregate(current_contracts(as_of, account_ids))
        self.owner = OWNER
        self.health = signals.health_today(days, account_ids) if days.health_day else None
        self.risk = signals.risk_today(days, account_ids) if days.risk_day else None
        self.stage = STAGE_NOW
        self.utilization_cte = signals.utilization_today(days) if days.metrics_day else None
        self.utilization = (
            self.utilization_cte.c.utilization if self.utilization_cte is not None else sa.null()
        )
        # The same figures as correlated lookups (index on contract.account_id), for filtering
        # and sorting: cheaper than aggregating every contract when a filter narrows the book.
        self.arr_lookup = _contract_lookup(sa.func.sum(Contract.arr), as_of)
        self.renewal_lookup = _contract_lookup(sa.func.min(renewal_on_sql()), as_of)
        nothing = sa.null()
        self.health_score = self.health.c.score if self.health is not None else nothing
        self.health_band = self.health.c.band if self.health is not None else nothing
        self.health_trend = self.health.c.trend if self.health is not None else nothing
        self.probability = self.risk.c.probability if self.risk is not None else nothing
        self.arr_at_risk = self.risk.c.arr_at_risk if self.risk is not None else nothing
        self.risk_currency = self.risk.c.currency if self.risk is not None else nothing
        # Whether the judgements above are read from the stored copy (:meth:`stored`).
        self.judged = False

    def _aggregate(self, contracts: Any) -> None:
        self.contracts = contracts
        self.arr = sa.case(
            (contracts.c.currency == MULTIPLE_CURRENCIES, sa.null()),
            else_=sa.func.coalesce(contracts.c.arr, 0.0),
        )
        self.renewal_on = contracts.c.renewal_on

    def of_accounts(self, accounts: sa.Select[Any], as_of: date) -> Rows:
        """These expressions with only the contracts of the accounts ``accounts`` returns
        aggregated (the judgements still read for the whole book): a team's export aggregates
        a third of the book's contracts, and reuses the rest of the book's expressions."""
        narrowed = copy.copy(self)
        narrowed._aggregate(current_contracts(as_of, accounts))
        return narrowed

    def stored(self) -> Rows:
        """These expressions with the judgements (health, churn risk, LAER stage) read from
        their stored copy (tenure.portfolio.judgements; the caller checked it is current): one
        primary-key probe per account instead of the day's score rows and stage history."""
        stored = copy.copy(self)
        stored.__dict__.pop("sort_expressions", None)
        judged = AccountJudgement
        stored.judged = True
        stored.health_score = judged.health_score
        stored.health_band = judged.health_band
        stored.health_trend = judged.health_trend
        stored.probability = judged.churn_probability
        stored.arr_at_risk = judged.arr_at_risk
        stored.risk_currency = judged.risk_currency
        stored.stage = judged.laer_stage
        return stored

    def sort_expression(self, key: SortKey, day: date) -> Any:
        """The sort key; ARR and ARR at risk rank in the reporting currency at the rates of
        ``day`` (euros are never compared with dollars), those without a rate last."""
        if key == SortKey.arr:
            return sa.func.coalesce(converted_arr(day), -1.0)
        if key == SortKey.arr_at_risk and self.risk is not None:
            rate = fx_service.rate_expression(self.risk_currency, day)
            return sa.func.coalesce(self.arr_at_risk * rate, -1.0)
        return self.sort_expressions[key]

    @cached_property
    def sort_expressions(self) -> dict[SortKey, Any]:
        return {
            SortKey.name: sa.func.lower(Account.name),
            SortKey.renewal_on: sa.func.coalesce(self.renewal_lookup, FAR_FUTURE),
            SortKey.segment: sa.func.coalesce(Account.segment, ""),
            SortKey.owner: sa.func.coalesce(self.owner.name, ""),
            # Unscored accounts sort as -1: after every score when descending.
            SortKey.health: sa.func.coalesce(self.health_score, -1),
            SortKey.risk: sa.func.coalesce(self.probability, -1.0),
            SortKey.arr_at_risk: sa.null(),  # no risk scores: every row alike
            # Unmeasured accounts sort as -1: first ascending, last descending.
            SortKey.utilization: sa.func.coalesce(self.utilization, -1.0),
        }

    def select(self, joins: frozenset[str] | None = None, *, full: bool = False) -> sa.Select[Any]:
        """The full account row; with ``joins``, only ``Account.id`` and the joins named
        (contracts, owner, health, risk, utilization) — what a filter, a count or a sort needs —
        or, with ``full`` as well, the full row with those joins added."""
        full = full or joins is None
        joins = (joins or frozenset()) | (ROW_JOINS if full else frozenset())
        select = sa.select(*self.row_columns()) if full else sa.select(Account.id)
        if "contracts" in joins:
            select = select.outerjoin(self.contracts, self.contracts.c.account_id == Account.id)
        if "owner" in joins:
            select = select.outerjoin(self.owner, self.owner.id == Account.owner_id)
        if self.judged:
            # Always: a filter on the stage reads it too.
            select = select.outerjoin(AccountJudgement, AccountJudgement.account_id == Account.id)
        else:
            if "health" in joins and self.health is not None:
                select = select.outerjoin(self.health, self.health.c.account_id == Account.id)
            if "risk" in joins and self.risk is not None:
                select = select.outerjoin(self.risk, self.risk.c.account_id == Account.id)
        if "utilization" in joins and self.utilization_cte is not None:
            cte = self.utilization_cte
            select = select.outerjoin(cte, cte.c.account_id == Account.id)
        return select

    def row_columns(self) -> list[Any]:
        # In the order row_fields unpacks them.
        return [
            Account.id,
            Account.external_id,
            Account.name,
            Account.segment,
            Account.owner_id,
            self.owner.name.label("owner_name"),
            # An owner inactive in the team (left the company): the account needs a new one.
            self.owner.is_active.is_(False).label("owner_left"),
            self.arr.label("arr"),
            self.contracts.c.currency,
            self.renewal_on.label("renewal_on"),
            self.contracts.c.seats,
            self.health_score.label("health_score"),
            self.health_band.label("health_band"),
            self.health_trend.label("health_trend"),
            self.probability.label("churn_probability"),
            self.arr_at_risk.label("arr_at_risk"),
            self.stage.label("laer_stage"),
        ]


# The joins of the full account row.
ROW_JOINS = frozenset({"contracts", "owner", "health", "risk"})
SORT_JOINS: dict[SortKey, frozenset[str]] = {
    SortKey.owner: frozenset({"owner"}),
    SortKey.health: frozenset({"health"}),
    SortKey.risk: frozenset({"risk"}),
    SortKey.arr_at_risk: frozenset({"risk"}),
    SortKey.utilization: frozenset({"utilization"}),
}


def filter_joins(query: PortfolioQuery) -> frozenset[str]:
    joins = {"health"} if query.band else set()
    if query.utilization or query.utilization_min is not None or query.utilization_max is not None:
        joins.add("utilization")
    return frozenset(joins)


def _utilization_filter(rows: Rows, query: PortfolioQuery) -> list[Any]:
    """Band and min–max conditions (both may apply); ``unknown`` = no utilization measured."""
    value = rows.utilization
    if query.utilization == UtilizationBand.unknown:
        return [value.is_(None)]
    low, high = (
        UTILIZATION_BANDS.get(query.utilization, (None, None))
        if query.utilization
        else (None, None)
    )
    conditions = []
    if low is not None:
        conditions.append(value >= low)
    if high is not None:
        conditions.append(value < high)
    if query.utilization_min is not None:
        conditions.append(value >= query.utilization_min)
    if query.utilization_max is not None:
        conditions.append(value <= query.utilization_max)
    return conditions


def to_row(row: Any, as_of: date) -> AccountRow:
    return AccountRow(**row_fields(row, as_of))


def row_fields(row: Any, as_of: date) -> dict[str, Any]:
    """An account row's fields from a row of :meth:`Rows.select` (its columns in order,
    perhaps more after them): unpacked, not looked up by name, as a CSV export does it for
    thousands of rows."""
    (
        id_,
        external_id,
        name,
        segment,
        owner_id,
        owner_name,
        owner_left,
        arr,
        currency,
        renewal_on,
        seats,
        health_score,
        health_band,
        health_trend,
        churn_probability,
        arr_at_risk,
        laer_stage,
        *_,
    ) = row
    renewal_on = as_date(renewal_on)
    return dict(
        id=id_,
        external_id=external_id,
        name=name,
        segment=segment,
        owner_id=owner_id,
        owner_name=owner_name,
        owner_left=bool(owner_left),
        arr=None if currency == MULTIPLE_CURRENCIES else float(arr or 0.0),
        currency=currency,
        renewal_on=renewal_on,
        days_to_renewal=(renewal_on - as_of).days if renewal_on else None,
        licensed_seats=int(seats) if seats is not None else None,
        health_score=health_score,
        health_band=health_band,
        health_trend=health_trend,
        churn_probability=float(churn_probability) if churn_probability is not None else None,
        arr_at_risk=float(arr_at_risk) if arr_at_risk is not None else None,
        laer_stage=laer_stage,
    )


def with_utilization(
    session: Session, days: signals.CurrentDays, rows: list[AccountRow]
) -> list[AccountRow]:
    found = signals.utilization_of(session, days, [r.id for r in rows])
    return [r.model_copy(update={"license_utilization": found.get(r.id)}) for r in rows]


def as_date(value: Any) -> date | None:
    # SQLite returns aggregates of DATE columns as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def owner_ids(session: Session, user: User | None, owner: str) -> set[int] | None:
    """Resolve an owner filter; None means 'unassigned'. 'me' and 'team' need the reader."""
    if owner in ("me", "team") and user is None:
        raise InvalidInput(f"owner {owner!r}: name the user (an e-mail or id) instead")
    if owner == "me":
        assert user is not None
        return {user.id}
    if owner == "team":
        assert user is not None
        return team_member_ids(session, user)
    if owner == "none":
        return None
    return {int(owner)}


def churned_clause(as_of: date) -> sa.ColumnElement[bool]:
    """Accounts that churned by ``as_of``: they had contracts and none is in force that day or
    starts later (a prospect, with no contract yet, is not churned)."""
    return sa.and_(
        sa.exists().where(Contract.account_id == Account.id, Contract.starts_on <= as_of),
        ~sa.exists().where(
            Contract.account_id == Account.id,
            sa.or_(active_clause(as_of), Contract.starts_on > as_of),
        ),
    )


def filtered(
    session: Session,
    rows: Rows,
    query: PortfolioQuery,
    user: User | None,
    as_of: date,
    joins: frozenset[str] | None = None,
) -> sa.Select[Any]:
    return rows.select(joins).where(*conditions(session, rows, query, user, as_of))


def conditions(
    session: Session, rows: Rows, query: PortfolioQuery, user: User | None, as_of: date
) -> list[Any]:
    """The filters of ``query`` as conditions on the account-row select of ``rows`` (with the
    joins :func:`filter_joins` names)."""
    found = account_conditions(session, query, user)
    if query.band:
        found.append(rows.health_band == query.band)
    if query.stage:
        found.append(rows.stage == query.stage)
    found += _utilization_filter(rows, query)
    if not query.churned:
        found.append(sa.not_(churned_clause(as_of)))
    start, end = query.renewal_from, query.renewal_to
    if query.renewal_within_days is not None:
        start = max(start or as_of, as_of)
        window_end = as_of + timedelta(days=query.renewal_within_days)
        end = min(end or window_end, window_end)
    if start is not None:
        found.append(rows.renewal_lookup >= start)
    if end is not None:
        found.append(rows.renewal_lookup <= end)
    return found


def account_conditions(session: Session, query: PortfolioQuery, user: User | None) -> list[Any]:
    """The filters of ``query`` on the account's own columns: name or id, segment, owner."""
    found: list[Any] = []
    if query.q:
        pattern = f"%{query.q.strip().lower()}%"
        found.append(
            sa.or_(
                sa.func.lower(Account.name).like(pattern),
                sa.func.lower(Account.external_id).like(pattern),
            )
        )
    if query.segment:
        found.append(Account.segment == query.segment)
    if query.owner:
        ids = owner_ids(session, user, query.owner)
        found.append(Account.owner_id.is_(None) if ids is None else Account.owner_id.in_(ids))
    return found


# IN lists of at most this many ids (SQLite allows 32,766 bound parameters).
ID_CHUNK = 5_000


def full_rows(
    session: Session, ids: Sequence[int], as_of: date, table: RateTable | None = None
) -> list[AccountRow]:
    """The complete rows of these accounts, in the order given (judgements read for them only),
    their money converted with ``table`` (the rates of ``as_of`` when not given)."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        of_chunk = rows_of(session, as_of, chunk).select().where(Account.id.in_(chunk))
        found.update((r.id, r) for r in session.execute(of_chunk).all())
    fields = [row_fields(found[i], as_of) for i in ids]
    return rows_with_money(session, fields, as_of, AccountRow, table)


R = TypeVar("R", bound=AccountRow)


def rows_with_money(
    session: Session,
    fields: list[dict[str, Any]],
    day: date,
    make: type[R],
    table: RateTable | None = None,
    split: Mapping[int, list[tuple[str, float]]] | None = None,
) -> list[R]:
    """Rows of ``make`` from their fields (:func:`row_fields`, and any more ``make`` has), each
    made once with its money (:func:`with_money`; no copy per row: Today and a family list
    hundreds); ``split``: the multi-currency accounts' ARR per currency, when already read."""
    table = table or fx_service.rate_table(session, on=day)
    if split is None:
        multiple = [f["id"] for f in fields if f["currency"] == MULTIPLE_CURRENCIES]
        split = split_by_currency(session, multiple, day)
    return [
        make(
            **f,
            **_money(f["currency"], f["arr"], f["arr_at_risk"], split.get(f["id"], []), table, day),
        )
        for f in fields
    ]


def split_by_currency(
    session: Session, account_ids: list[int], day: date
) -> dict[int, list[tuple[str, float]]]:
    split: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for start in range(0, len(account_ids), ID_CHUNK):
        chunk = account_ids[start : start + ID_CHUNK]
        found = session.execute(
            sa.select(Contract.account_id, Contract.currency, sa.func.sum(Contract.arr))
            .where(active_clause(day), Contract.account_id.in_(chunk))
            .group_by(Contract.account_id, Contract.currency)
            .order_by(Contract.account_id, Contract.currency)
        )
        for account_id, currency, arr in found:
            split[account_id].append((currency, round(float(arr), 2)))
    return split


def by_currency_of(
    currency: str | None, arr: float | None, split: list[tuple[str, float]]
) -> list[tuple[str, float]]:
    """An account's ARR per currency: its one figure, or ``split`` when it pays in several
    currencies (or has no contract in force: then none)."""
    if currency not in (None, "", MULTIPLE_CURRENCIES) and arr is not None:
        return [(currency, arr)]
    return split


def arr_by_currency(
    session: Session, accounts: Collection[int] | None, day: date
) -> dict[int, list[tuple[str, float]]]:
    """ARR per currency (currency, ARR) of these accounts (None: every account), as
    :func:`with_money` gives each row's ``arr_by_currency`` — without reading the rows (accounts
    with no contract in force are left out). The whole book's contracts are grouped in one read
    (cheaper than repeating the filters that chose the accounts)."""
    contracts = current_contracts(day)
    found = [
        r
        for r in session.execute(
            sa.select(contracts.c.account_id, contracts.c.arr, contracts.c.currency)
        )
        if accounts is None or r.account_id in accounts
    ]
    multiple = [r.account_id for r in found if r.currency == MULTIPLE_CURRENCIES]
    split = split_by_currency(session, multiple, day)
    return {
        r.account_id: by_currency_of(
            r.currency,
            None if r.currency == MULTIPLE_CURRENCIES else float(r.arr or 0.0),
            split.get(r.account_id, []),
        )
        for r in found
    }


def with_money(
    session: Session, rows: list[AccountRow], day: date, table: RateTable | None = None
) -> list[AccountRow]:
    """Each row's ARR per currency (two figures for an account paying in two) and its ARR and
    ARR at risk in the reporting currency at the rates of ``day``, each saying its rate dates
    (or which rate is missing)."""
    table = table or fx_service.rate_table(session, on=day)
    multiple = [r.id for r in rows if r.currency == MULTIPLE_CURRENCIES]
    split = split_by_currency(session, multiple, day)
    return [
        row.model_copy(
            update=_money(row.currency, row.arr, row.arr_at_risk, split.get(row.id, []), table, day)
        )
        for row in rows
    ]


def _money(
    currency: str | None,
    arr: float | None,
    arr_at_risk: float | None,
    split: list[tuple[str, float]],
    table: RateTable,
    day: date,
) -> dict[str, Any]:
    """The money fields of a row (see :func:`with_money`)."""
    by_currency = [
        ArrByCurrency(currency=c, arr=a) for c, a in by_currency_of(currency, arr, split)
    ]
    amounts = {c.currency: c.arr for c in by_currency}
    money: dict[str, Any] = {
        "arr_by_currency": by_currency,
        "arr_converted": convert(amounts, table, day) if amounts else None,
    }
    if currency not in (None, "", MULTIPLE_CURRENCIES) and arr_at_risk is not None:
        money["arr_at_risk_converted"] = convert({currency: arr_at_risk}, table, day)
    return money


def currency_totals(figures: Iterable[tuple[str, float]]) -> list[ArrByCurrency]:
    """These (currency, ARR) figures added up per currency, in currency order (never summed
    across currencies)."""
    totals: dict[str, float] = defaultdict(float)
    for currency, arr in figures:
        totals[currency] += arr
    return [ArrByCurrency(currency=c, arr=round(v, 2)) for c, v in sorted(totals.items())]


def account_row(
    session: Session, account_id: int, as_of: date, table: RateTable | None = None
) -> AccountRow:
    """One account's row, its money converted with ``table`` (the rates of ``as_of`` when not
    given)."""
    rows = rows_of(session, as_of, [account_id])
    found = session.execute(rows.select().where(Account.id == account_id)).first()
    if found is None:
        raise NotFound(f"no account with id {account_id}")
    money = with_money(session, [to_row(found, as_of)], as_of, table)
    return with_utilization(session, rows.days, money)[0]
