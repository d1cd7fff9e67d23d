"""Portfolio read models and the few writes the console makes on accounts.

Every function takes the session first and ``as_of`` (today's date) as an argument; services
flush and never commit — the request or command owns the transaction.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tenure.accounts.schemas import TouchpointRead
from tenure.accounts.service import touchpoint_read
from tenure.auth import audit
from tenure.auth.permissions import (
    Actor,
    can_edit_account,
    require_account_editor,
    require_role,
    team_member_ids,
)
from tenure.errors import InvalidInput, NotFound
from tenure.model import (
    Account,
    AccountOwnership,
    Contact,
    Contract,
    ContractStatus,
    DailyRun,
    ImportRun,
    SavedView,
    SurveyResponse,
    Ticket,
    Touchpoint,
    User,
    UserRole,
)
from tenure.model.base import utcnow
from tenure.portfolio import signals
from tenure.portfolio.pages import pages_for
from tenure.portfolio.schemas import (
    UTILIZATION_BANDS,
    Account360,
    AccountRow,
    ArrByCurrency,
    ArrPoint,
    ContactCard,
    ContractLine,
    Freshness,
    OwnerChoice,
    OwnershipSpan,
    PaletteEntry,
    PortfolioPage,
    PortfolioQuery,
    ReassignRequest,
    ReassignResult,
    RenewalMonth,
    RenewalsReport,
    RiskPage,
    RiskRow,
    SavedViewRead,
    SortDirection,
    SortKey,
    TimelineItem,
    TodayRenewal,
    TodayReport,
    TouchpointLog,
    UtilizationBand,
)
from tenure.portfolio.team import team_seats
from tenure.store.events import EventStore

TODAY_RENEWAL_WINDOW_DAYS = 120
# An account nobody has talked to in this long shows on Today as "no touchpoint".
UNTOUCHED_AFTER_DAYS = 90
FAR_FUTURE = date(9999, 12, 31)


# --- the account row: one account with its current contracts ------------------------------


def _contract_lookup(aggregate: Any) -> Any:
    return (
        sa.select(aggregate)
        .where(Contract.account_id == Account.id, Contract.status == ContractStatus.active)
        .correlate(Account)
        .scalar_subquery()
    )


def _current_contracts(accounts: Sequence[int] | sa.Select[Any] | None = None) -> Any:
    """Per account (or for the given ids, or the ids a select returns): ARR, currency, next
    renewal and seats of its active contracts."""
    only = [Contract.account_id.in_(accounts)] if accounts is not None else []
    return (
        sa.select(
            Contract.account_id.label("account_id"),
            sa.func.sum(Contract.arr).label("arr"),
            sa.func.min(Contract.currency).label("currency"),
            sa.func.min(Contract.ends_on).label("renewal_on"),
            sa.func.sum(Contract.licensed_seats).label("seats"),
        )
        .where(Contract.status == ContractStatus.active, *only)
        .group_by(Contract.account_id)
        .subquery("current_contract")
    )


# Expressions without parameters, built once: the owner's user row joined to an account (an
# alias, so a filter on users cannot clash), the account's LAER stage, ARR and next renewal.
OWNER = aliased(User, name="owner")
STAGE_NOW = signals.stage_now()
ARR_LOOKUP = _contract_lookup(sa.func.sum(Contract.arr))
RENEWAL_LOOKUP = _contract_lookup(sa.func.min(Contract.ends_on))


def _rows(session: Session, account_ids: Sequence[int] | None = None) -> _Rows:
    """The row expressions of the current scoring days, for the whole book or these accounts."""
    days = signals.current_days(session)
    if account_ids is not None:
        return _Rows(days, account_ids)
    return _book_rows(days)


@lru_cache(maxsize=8)
def _book_rows(days: signals.CurrentDays) -> _Rows:
    # Building the expressions costs a request 2–4 ms of CPU; they depend only on the scoring
    # days and are never changed after construction (every select built from them is new).
    return _Rows(days)


class _Rows:
    """The account-row select and the expressions filters and sorts refer to."""

    def __init__(self, days: signals.CurrentDays, account_ids: Sequence[int] | None = None) -> None:
        self.days = days
        self.contracts = _current_contracts(account_ids)
        self.owner = OWNER
        self.health = signals.health_today(days, account_ids) if days.health_day else None
        self.risk = signals.risk_today(days, account_ids) if days.risk_day else None
        self.stage = STAGE_NOW
        self.utilization_cte = signals.utilization_today(days) if days.metrics_day else None
        self.utilization = (
            self.utilization_cte.c.utilization if self.utilization_cte is not None else sa.null()
        )
        self.arr = sa.func.coalesce(self.contracts.c.arr, 0.0)
        self.renewal_on = self.contracts.c.renewal_on
        # The same figures as correlated lookups (index on contract.account_id), for filtering
        # and sorting: cheaper than aggregating every contract when a filter narrows the book.
        self.arr_lookup = ARR_LOOKUP
        self.renewal_lookup = RENEWAL_LOOKUP
        nothing = sa.null()
        self.health_score = self.health.c.score if self.health is not None else nothing
        self.health_band = self.health.c.band if self.health is not None else nothing
        self.probability = self.risk.c.probability if self.risk is not None else nothing
        self.arr_at_risk = self.risk.c.arr_at_risk if self.risk is not None else nothing

    @cached_property
    def sort_expressions(self) -> dict[SortKey, Any]:
        return {
            SortKey.name: sa.func.lower(Account.name),
            SortKey.arr: sa.func.coalesce(self.arr_lookup, 0.0),
            SortKey.renewal_on: sa.func.coalesce(self.renewal_lookup, FAR_FUTURE),
            SortKey.segment: sa.func.coalesce(Account.segment, ""),
            SortKey.owner: sa.func.coalesce(self.owner.name, ""),
            # Unscored accounts sort as -1: after every score when descending.
            SortKey.health: sa.func.coalesce(self.health_score, -1),
            SortKey.risk: sa.func.coalesce(self.probability, -1.0),
            SortKey.arr_at_risk: sa.func.coalesce(self.arr_at_risk, -1.0),
            # Unmeasured accounts sort as -1: first ascending, last descending.
            SortKey.utilization: sa.func.coalesce(self.utilization, -1.0),
        }

    def select(self, joins: frozenset[str] | None = None) -> sa.Select[Any]:
        """The full account row; with ``joins``, only ``Account.id`` and the joins named
        (contracts, owner, health, risk) — what a filter, a count or a sort needs."""
        if joins is None:
            joins = frozenset({"contracts", "owner", "health", "risk"})
            columns: list[Any] = [
                Account.id,
                Account.external_id,
                Account.name,
                Account.segment,
                Account.owner_id,
                self.owner.name.label("owner_name"),
                self.arr.label("arr"),
                self.contracts.c.currency,
                self.renewal_on.label("renewal_on"),
                self.contracts.c.seats,
                self.health_score.label("health_score"),
                self.health_band.label("health_band"),
                (self.health.c.trend if self.health is not None else sa.null()).label(
                    "health_trend"
                ),
                self.probability.label("churn_probability"),
                self.arr_at_risk.label("arr_at_risk"),
                self.stage.label("laer_stage"),
            ]
        else:
            columns = [Account.id]
        select = sa.select(*columns)
        if "contracts" in joins:
            select = select.outerjoin(self.contracts, self.contracts.c.account_id == Account.id)
        if "owner" in joins:
            select = select.outerjoin(self.owner, self.owner.id == Account.owner_id)
        if "health" in joins and self.health is not None:
            select = select.outerjoin(self.health, self.health.c.account_id == Account.id)
        if "risk" in joins and self.risk is not None:
            select = select.outerjoin(self.risk, self.risk.c.account_id == Account.id)
        if "utilization" in joins and self.utilization_cte is not None:
            cte = self.utilization_cte
            select = select.outerjoin(cte, cte.c.account_id == Account.id)
        return select


SORT_JOINS: dict[SortKey, frozenset[str]] = {
    SortKey.owner: frozenset({"owner"}),
    SortKey.health: frozenset({"health"}),
    SortKey.risk: frozenset({"risk"}),
    SortKey.arr_at_risk: frozenset({"risk"}),
    SortKey.utilization: frozenset({"utilization"}),
}


def _filter_joins(query: PortfolioQuery) -> frozenset[str]:
    joins = {"health"} if query.band else set()
    if query.utilization or query.utilization_min is not None or query.utilization_max is not None:
        joins.add("utilization")
    return frozenset(joins)


def _utilization_filter(rows: _Rows, query: PortfolioQuery) -> list[Any]:
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


def _row(row: Any, as_of: date) -> AccountRow:
    renewal_on = _as_date(row.renewal_on)
    return AccountRow(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        segment=row.segment,
        owner_id=row.owner_id,
        owner_name=row.owner_name,
        arr=float(row.arr or 0.0),
        currency=row.currency,
        renewal_on=renewal_on,
        days_to_renewal=(renewal_on - as_of).days if renewal_on else None,
        licensed_seats=int(row.seats) if row.seats is not None else None,
        health_score=row.health_score,
        health_band=row.health_band,
        health_trend=row.health_trend,
        churn_probability=row.churn_probability,
        arr_at_risk=float(row.arr_at_risk) if row.arr_at_risk is not None else None,
        laer_stage=row.laer_stage,
    )


def _with_utilization(
    session: Session, days: signals.CurrentDays, rows: list[AccountRow]
) -> list[AccountRow]:
    found = signals.utilization_of(session, days, [r.id for r in rows])
    return [r.model_copy(update={"license_utilization": found.get(r.id)}) for r in rows]


def _as_date(value: Any) -> date | None:
    # SQLite returns aggregates of DATE columns as text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def owner_ids(session: Session, user: User, owner: str) -> set[int] | None:
    """Resolve an owner filter; None means 'unassigned'."""
    if owner == "me":
        return {user.id}
    if owner == "team":
        return team_member_ids(session, user)
    if owner == "none":
        return None
    return {int(owner)}


def _filtered(
    session: Session,
    rows: _Rows,
    query: PortfolioQuery,
    user: User,
    as_of: date,
    joins: frozenset[str] | None = None,
) -> sa.Select[Any]:
    select = rows.select(joins)
    if query.q:
        pattern = f"%{query.q.strip().lower()}%"
        select = select.where(
            sa.or_(
                sa.func.lower(Account.name).like(pattern),
                sa.func.lower(Account.external_id).like(pattern),
            )
        )
    if query.segment:
        select = select.where(Account.segment == query.segment)
    if query.band:
        select = select.where(rows.health_band == query.band)
    if query.stage:
        select = select.where(rows.stage == query.stage)
    select = select.where(*_utilization_filter(rows, query))
    if query.owner:
        ids = owner_ids(session, user, query.owner)
        select = select.where(
            Account.owner_id.is_(None) if ids is None else Account.owner_id.in_(ids)
        )
    start, end = query.renewal_from, query.renewal_to
    if query.renewal_within_days is not None:
        start = max(start or as_of, as_of)
        window_end = as_of + timedelta(days=query.renewal_within_days)
        end = min(end or window_end, window_end)
    if start is not None:
        select = select.where(rows.renewal_lookup >= start)
    if end is not None:
        select = select.where(rows.renewal_lookup <= end)
    return select


# --- cursors: keyset pagination on (sort value, id) ------------------------------------------


def _encode_cursor(query: PortfolioQuery, value: Any, row_id: int) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    raw = json.dumps([query.sort.value, query.direction.value, value, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(query: PortfolioQuery, cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort, direction, value, row_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned") from error
    if (sort, direction) != (query.sort.value, query.direction.value):
        raise InvalidInput(
            f"cursor: it was made for sort={sort} direction={direction}; keep the sort "
            "unchanged while paging"
        )
    try:
        if query.sort == SortKey.renewal_on:
            value = date.fromisoformat(value)
        elif query.sort in (SortKey.arr, SortKey.risk, SortKey.arr_at_risk, SortKey.utilization):
            value = float(value)
        elif query.sort == SortKey.health:
            value = int(value)
        else:
            value = str(value)
        return value, int(row_id)
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned") from error


def _cursor_value(value: Any, query: PortfolioQuery) -> Any:
    return _as_date(value) if query.sort == SortKey.renewal_on else value


def portfolio(session: Session, query: PortfolioQuery, user: User, as_of: date) -> PortfolioPage:
    """The filtered, sorted book of business; a page number or a cursor selects the slice.

    Two steps keep a page fast on a large book: the ids of the page are found with only the
    joins the filters and the sort need, then the full rows of those ids are read.
    """
    rows = _rows(session)
    filter_joins = _filter_joins(query)
    counted = _filtered(session, rows, query, user, as_of, filter_joins)
    total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    key = rows.sort_expressions[query.sort]
    descending = query.direction == SortDirection.desc
    narrow = _filtered(
        session, rows, query, user, as_of, filter_joins | SORT_JOINS.get(query.sort, frozenset())
    )
    if query.cursor:
        value, row_id = _decode_cursor(query, query.cursor)
        after = (
            sa.or_(key < value, sa.and_(key == value, Account.id < row_id))
            if descending
            else sa.or_(key > value, sa.and_(key == value, Account.id > row_id))
        )
        narrow = narrow.where(after)
    else:
        narrow = narrow.offset((query.page - 1) * query.limit)
    order = (key.desc(), Account.id.desc()) if descending else (key.asc(), Account.id.asc())
    found = session.execute(
        narrow.add_columns(key.label("sort_value")).order_by(*order).limit(query.limit + 1)
    ).all()
    shown = found[: query.limit]
    page_rows = full_rows(session, [r.id for r in shown], as_of)
    # The cursor carries the sort value exactly as the database computed it.
    last = shown[-1] if shown else None
    next_cursor = (
        _encode_cursor(query, _cursor_value(last.sort_value, query), last.id)
        if last is not None and len(found) > query.limit
        else None
    )
    return PortfolioPage(
        items=_with_utilization(session, rows.days, page_rows),
        total=total,
        page=query.page,
        limit=query.limit,
        next_cursor=next_cursor,
        as_of=as_of,
    )


def risk_list(session: Session, query: PortfolioQuery, user: User, as_of: date) -> RiskPage:
    """The portfolio ranked by churn risk (highest first unless asked otherwise), with reasons."""
    page = portfolio(session, query, user, as_of)
    days = signals.current_days(session)
    details = signals.risk_details(session, days, [r.id for r in page.items])
    items = []
    for row in page.items:
        risk = details.get(row.id)
        items.append(
            RiskRow(
                **row.model_dump(),
                renewal_probability=risk.renewal_probability if risk else None,
                in_alert_set=bool(risk and risk.in_alert_set),
                reasons=list(risk.reasons) if risk else [],
            )
        )
    return RiskPage(
        items=items,
        total=page.total,
        page=page.page,
        limit=page.limit,
        next_cursor=page.next_cursor,
        as_of=as_of,
        model_version=days.model_version,
        scored_on=days.risk_day,
    )


def portfolio_export(
    session: Session, query: PortfolioQuery, user: User, as_of: date
) -> list[AccountRow]:
    """Every row the filters select, in the page's order (the CSV export)."""
    rows = _rows(session)
    key = rows.sort_expressions[query.sort]
    order = (
        (key.desc(), Account.id.desc())
        if query.direction == SortDirection.desc
        else (key.asc(), Account.id.asc())
    )
    joins = _filter_joins(query) | SORT_JOINS.get(query.sort, frozenset())
    ids = list(
        session.scalars(_filtered(session, rows, query, user, as_of, joins).order_by(*order))
    )
    return _with_utilization(session, rows.days, full_rows(session, ids, as_of))


# IN lists of at most this many ids (SQLite allows 32,766 bound parameters).
ID_CHUNK = 5_000


def full_rows(session: Session, ids: Sequence[int], as_of: date) -> list[AccountRow]:
    """The complete rows of these accounts, in the order given (judgements read for them only)."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        of_chunk = _rows(session, chunk).select().where(Account.id.in_(chunk))
        found.update((r.id, r) for r in session.execute(of_chunk).all())
    return [_row(found[i], as_of) for i in ids]


def segments(session: Session) -> list[str]:
    found = session.scalars(
        sa.select(Account.segment).where(Account.segment.is_not(None)).distinct()
    ).all()
    return sorted(s for s in found if s)


def owner_choices(session: Session) -> list[OwnerChoice]:
    users = session.scalars(
        sa.select(User)
        .where(User.is_active.is_(True), User.role != UserRole.viewer)
        .order_by(User.name)
    ).all()
    return [OwnerChoice(id=u.id, name=u.name, role=u.role) for u in users]


def search_accounts(session: Session, text: str, limit: int = 10) -> list[tuple[int, str, str]]:
    """(id, name, external id) of accounts whose name or id contains ``text``; prefixes first."""
    needle = text.strip().lower()
    if not needle:
        return []
    name = sa.func.lower(Account.name)
    select = (
        sa.select(Account.id, Account.name, Account.external_id)
        .where(sa.or_(name.like(f"%{needle}%"), sa.func.lower(Account.external_id) == needle))
        .order_by(sa.case((name.like(f"{needle}%"), 0), else_=1), name)
        .limit(limit)
    )
    return [(r.id, r.name, r.external_id) for r in session.execute(select).all()]


# --- freshness ------------------------------------------------------------------------------


def events_through(events: EventStore | None) -> date | None:
    """The last day with stored (compacted) events; partition folder names carry the dates, so
    no event file is opened."""
    if events is None or not events.parquet_dir.exists():
        return None
    days = [p.name.split("=", 1)[1] for p in events.parquet_dir.glob("event_date=*")]
    return date.fromisoformat(max(days)) if days else None


def freshness(session: Session, events: EventStore | None) -> Freshness:
    last_import = session.execute(
        sa.select(ImportRun.finished_at, ImportRun.file_name)
        .where(ImportRun.finished_at.is_not(None))
        .order_by(ImportRun.finished_at.desc())
        .limit(1)
    ).first()
    daily = session.execute(
        sa.select(DailyRun.as_of, DailyRun.status, DailyRun.finished_at)
        .order_by(DailyRun.as_of.desc())
        .limit(1)
    ).first()
    return Freshness(
        last_daily_run_on=daily.as_of if daily else None,
        last_daily_run_status=daily.status if daily else None,
        last_daily_run_at=daily.finished_at if daily else None,
        last_import_at=last_import.finished_at if last_import else None,
        last_import_file=last_import.file_name if last_import else None,
        events_through=events_through(events),
        # The most recently recorded touchpoint (primary key order: no scan of the table).
        last_touchpoint_at=session.scalar(
            sa.select(Touchpoint.created_at).order_by(Touchpoint.id.desc()).limit(1)
        ),
    )


def reading_day(session: Session, events: EventStore | None, today: date) -> date:
    """The day the pages read the book as of: the last day the data covers, never after today.

    The latest of the last successful daily run, the latest health scores, metric snapshots and
    stored events; today when there is none. A page then never mixes one day's scores with another
    day's calendar — "renews in 30 days" is counted from the day the scores describe.
    """
    days = signals.current_days(session)
    last_run = session.scalar(
        sa.select(sa.func.max(DailyRun.as_of)).where(DailyRun.status == "succeeded")
    )
    known = [d for d in (last_run, days.health_day, days.metrics_day, events_through(events)) if d]
    return min(max(known), today) if known else today


# --- today and renewals ---------------------------------------------------------------------


def today_scope(user: User, requested: str | None) -> str:
    if requested in {"mine", "team", "all"}:
        return requested
    return {UserRole.csm: "mine", UserRole.manager: "team"}.get(user.role, "all")


def _arr_totals(rows: Sequence[Any]) -> list[ArrByCurrency]:
    """ARR per currency of rows with ``arr`` and ``currency`` (never summed across currencies)."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        if row.currency:
            totals[row.currency] += row.arr
    return [ArrByCurrency(currency=c, arr=round(v, 2)) for c, v in sorted(totals.items())]


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
    rows = _rows(session)
    # One index probe per candidate account (touchpoint.account_id), not a scan of every
    # touchpoint.
    touched = sa.exists().where(
        Touchpoint.account_id == Account.id, Touchpoint.occurred_at >= cutoff
    )
    untouched = (
        _filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
        # The touchpoint probe first: it stops at the first recent touchpoint, and most
        # accounts have one, so few rows reach the contract lookup (half the time).
        .where(~touched, rows.arr_lookup.is_not(None))
        .order_by(rows.arr_lookup.desc(), Account.id)
        .limit(10)
    )
    return TodayReport(
        as_of=as_of,
        user_id=user.id,
        scope=scope,
        window_days=TODAY_RENEWAL_WINDOW_DAYS,
        renewals=[
            TodayRenewal(**r.model_dump(), last_touchpoint_at=last_touch.get(r.id))
            for r in renewing
        ],
        renewal_arr=_arr_totals(renewing),
        untouched_accounts=full_rows(session, list(session.scalars(untouched)), as_of),
        ctas=signals.ctas_for(session, scope_owner_ids),
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


def renewing_between(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> list[AccountRow]:
    """Accounts whose next renewal falls in [start, end], soonest first, with their contract
    figures only (no judgements): what Today and Renewals list, cheap on a large book."""
    return [_row(r, as_of) for r in _renewing(session, user, owner, start, end, as_of)]


def _renewing(
    session: Session, user: User, owner: str | None, start: date, end: date, as_of: date
) -> Sequence[Any]:
    # The owner's accounts' contracts grouped once, then the renewal window on the group: a
    # third of the time of six correlated lookups per account (filter, sort and four columns).
    rows = _rows(session)
    owned = _filtered(session, rows, PortfolioQuery(owner=owner), user, as_of, frozenset())
    contracts = _current_contracts(owned)
    select = (
        sa.select(
            Account.id,
            Account.external_id,
            Account.name,
            Account.segment,
            Account.owner_id,
            rows.owner.name.label("owner_name"),
            sa.func.coalesce(contracts.c.arr, 0.0).label("arr"),
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
    # Plain rows grouped by month; only each month's largest become AccountRow models.
    by_month: dict[str, list[Any]] = defaultdict(list)
    for row in _renewing(session, user, owner, as_of, end, as_of):
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
                arr=_arr_totals(items),
                renewals=[_row(r, as_of) for r in sorted(items, key=lambda r: -r.arr)[:per_month]],
            )
        )
        month = following
    return RenewalsReport(as_of=as_of, months=report, freshness=freshness(session, events))


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


# --- Account 360 ------------------------------------------------------------------------------

TimelineSource = Callable[[Session, int], list[TimelineItem]]


def _touchpoint_items(session: Session, account_id: int) -> list[TimelineItem]:
    result = session.execute(
        sa.select(Touchpoint, User.name)
        .outerjoin(User, User.id == Touchpoint.user_id)
        .where(Touchpoint.account_id == account_id)
        .order_by(Touchpoint.occurred_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=t.occurred_at,
            kind="touchpoint",
            title=f"{t.kind.value}: {t.subject or '(no subject)'}",
            detail=t.notes,
            by=by,
            data={"id": t.id, "touchpoint_kind": t.kind.value},
        )
        for t, by in result
    ]


def _ticket_items(session: Session, account_id: int) -> list[TimelineItem]:
    tickets = session.scalars(
        sa.select(Ticket)
        .where(Ticket.account_id == account_id)
        .order_by(Ticket.opened_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=t.opened_at,
            kind="ticket",
            title=f"ticket ({t.priority.value}): {t.subject or t.external_id}",
            detail=(f"closed {t.closed_at:%Y-%m-%d}" if t.closed_at else "open")
            + (f" · {t.category}" if t.category else ""),
            data={"id": t.id, "priority": t.priority.value},
        )
        for t in tickets
    ]


def _survey_items(session: Session, account_id: int) -> list[TimelineItem]:
    result = session.execute(
        sa.select(SurveyResponse, Contact.name)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(SurveyResponse.account_id == account_id)
        .order_by(SurveyResponse.responded_at.desc())
        .limit(100)
    ).all()
    return [
        TimelineItem(
            at=s.responded_at,
            kind="survey",
            title=f"{s.kind.value.upper()} {s.score}",
            detail=s.comment,
            by=contact,
            data={"id": s.id, "score": s.score, "survey_kind": s.kind.value},
        )
        for s, contact in result
    ]


# Other domains (health, playbooks, success) append their own sources: milestones, stage
# changes, CTAs. Each returns the account's most recent items.
TIMELINE_SOURCES: list[TimelineSource] = [
    _touchpoint_items,
    _ticket_items,
    _survey_items,
    signals.stage_items,
    signals.cta_items,
    signals.milestone_items,
]


def timeline(session: Session, account_id: int, limit: int = 150) -> list[TimelineItem]:
    items = [item for source in TIMELINE_SOURCES for item in source(session, account_id)]
    return sorted(items, key=lambda i: _aware(i.at), reverse=True)[:limit]


def _aware(at: datetime) -> datetime:
    # SQLite drops the zone of stored timestamps; every stored time is UTC.
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account with id {account_id}")
    return account


def account_row(session: Session, account_id: int, as_of: date) -> AccountRow:
    rows = _rows(session, [account_id])
    found = session.execute(rows.select().where(Account.id == account_id)).first()
    if found is None:
        raise NotFound(f"no account with id {account_id}")
    return _with_utilization(session, rows.days, [_row(found, as_of)])[0]


def _relationship_order(contact: Contact) -> tuple[bool, bool, str]:
    key_role = bool({"champion", "sponsor"} & set(contact.roles or []))
    return (not key_role, contact.left_on is None, (contact.name or "").lower())


LEVEL_ORDER = ["executive", "director_vp", "manager", "end_user", "unknown"]


def account_360(session: Session, account_id: int, user: User, as_of: date) -> Account360:
    account = get_account(session, account_id)
    health = signals.account_health(session, account)
    contacts = session.scalars(
        sa.select(Contact).where(Contact.account_id == account_id).order_by(Contact.name)
    ).all()
    by_level: dict[str, list[ContactCard]] = {level: [] for level in LEVEL_ORDER}
    # Champions and sponsors first, then who left, then everyone else by name.
    for contact in sorted(contacts, key=_relationship_order):
        level = contact.level.value if contact.level else "unknown"
        by_level[level].append(ContactCard.model_validate(contact))
    contracts = session.scalars(
        sa.select(Contract).where(Contract.account_id == account_id).order_by(Contract.starts_on)
    ).all()
    ownership = session.execute(
        sa.select(AccountOwnership, User.name)
        .outerjoin(User, User.id == AccountOwnership.user_id)
        .where(AccountOwnership.account_id == account_id)
        .order_by(AccountOwnership.started_at)
    ).all()
    return Account360(
        account=account_row(session, account_id, as_of),
        industry=account.industry,
        region=account.region,
        employee_count=account.employee_count,
        created_on=account.created_on,
        onboarded_on=account.onboarded_on,
        contacts_by_level={k: v for k, v in by_level.items() if v},
        contracts=[
            ContractLine.model_validate(
                {
                    **{k: getattr(c, k) for k in ContractLine.model_fields},
                    "billing_period": c.billing_period.value,
                    "status": c.status.value,
                    "renewal_outcome": c.renewal_outcome.value if c.renewal_outcome else None,
                }
            )
            for c in contracts
        ],
        arr_history=arr_history(contracts, as_of),
        arr_history_currency=contracts[-1].currency if contracts else None,
        timeline=timeline(session, account_id),
        ownership=[
            OwnershipSpan(
                user_id=o.user_id, user_name=name, started_at=o.started_at, ended_at=o.ended_at
            )
            for o, name in ownership
        ],
        team=team_seats(session, account_id),
        can_edit=can_edit_account(session, user, account),
        health=health,
        health_history=signals.health_history(session, account_id, health.scorecard)
        if health
        else [],
        churn_risk=signals.account_risk(session, account),
        usage_history=signals.usage_history(session, account_id),
        stage=signals.account_stage(session, account_id),
        open_ctas=signals.open_ctas(session, account_id),
        success_plan=signals.success_plan(session, account, as_of),
        desired_outcome=signals.desired_outcome(session, account, as_of),
    )


def arr_history(contracts: Sequence[Contract], as_of: date) -> list[ArrPoint]:
    """ARR in force on each day a contract starts or ends, up to ``as_of``: a step series.

    A contract counts from ``starts_on`` through ``ends_on``; only contracts in the currency of the
    latest one are summed (ARR is never added across currencies). Pending contracts are left out.
    The series ends on ``as_of`` with the ARR in force then: a term ending later is not a loss
    yet. Example, as of 2025-06-30: 100 from Jan–Dec 2024 then 120 from Jan 2025 →
    (2024-01-01, 100), (2025-01-01, 120), (2025-06-30, 120).
    """
    if not contracts:
        return []
    currency = max(contracts, key=lambda c: (c.starts_on, c.id)).currency
    terms = [
        (c.starts_on, c.ends_on, float(c.arr))
        for c in contracts
        if c.currency == currency and c.status != ContractStatus.pending
    ]
    changes = {start for start, _, _ in terms} | {end + timedelta(days=1) for _, end, _ in terms}
    days = sorted({day for day in changes if day < as_of} | {as_of})
    return [
        ArrPoint(on=day, arr=round(sum(arr for start, end, arr in terms if start <= day <= end), 2))
        for day in days
    ]


# --- saved views --------------------------------------------------------------------------------


def saved_views(session: Session, user: User) -> list[SavedViewRead]:
    views = session.scalars(
        sa.select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)
    ).all()
    return [SavedViewRead.model_validate(v) for v in views]


def save_view(session: Session, name: str, query: str, actor: Actor) -> SavedViewRead:
    """Save (or overwrite) a named portfolio view of the actor's."""
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the view a name")
    if len(name) > 120 or len(query) > 2000:
        raise InvalidInput("name or query too long (120 / 2000 characters at most)")
    PortfolioQuery.model_validate(dict(parse_qsl(query)))  # refuse a query the page would refuse
    view = session.scalar(
        sa.select(SavedView).where(SavedView.user_id == actor.id, SavedView.name == name)
    )
    before = audit.snapshot(view) if view else None
    if view is None:
        view = SavedView(user_id=actor.id, name=name, query=query)
        session.add(view)
    else:
        view.query = query
    session.flush()
    audit.record(
        session,
        actor,
        "saved_view.save",
        "saved_view",
        view.id,
        before=before,
        after=audit.snapshot(view),
    )
    return SavedViewRead.model_validate(view)


def delete_view(session: Session, view_id: int, actor: Actor) -> None:
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != actor.id:
        raise NotFound(f"no saved view {view_id} of yours")
    before = audit.snapshot(view)
    session.delete(view)
    session.flush()
    audit.record(session, actor, "saved_view.delete", "saved_view", view_id, before=before)


# --- writes -----------------------------------------------------------------------------------


def log_touchpoint(
    session: Session, account_id: int, data: TouchpointLog, actor: Actor
) -> TouchpointRead:
    """Record a meeting, call, email or note on an account (its owner, team, manager or admin)."""
    account = get_account(session, account_id)
    require_account_editor(session, actor.user, account)
    attendees = []
    if data.attendee_ids:
        attendees = list(
            session.scalars(
                sa.select(Contact).where(
                    Contact.id.in_(data.attendee_ids), Contact.account_id == account_id
                )
            ).all()
        )
        missing = set(data.attendee_ids) - {c.id for c in attendees}
        if missing:
            raise InvalidInput(
                f"attendee_ids: contact(s) {sorted(missing)} are not contacts of {account.name!r}"
            )
    touchpoint = Touchpoint(
        external_id=f"tenure-{uuid.uuid4().hex}",
        account_id=account_id,
        kind=data.kind,
        occurred_at=data.occurred_at or utcnow(),
        subject=data.subject.strip(),
        notes=(data.notes or "").strip() or None,
        user_id=actor.id,
        attendees=attendees,
    )
    session.add(touchpoint)
    session.flush()
    after = audit.snapshot(touchpoint)
    after["attendee_ids"] = [c.id for c in attendees]
    audit.record(session, actor, "touchpoint.create", "touchpoint", touchpoint.id, after=after)
    return touchpoint_read(touchpoint)


def reassign_owner(
    session: Session, request: ReassignRequest, actor: Actor, now: datetime
) -> ReassignResult:
    """Give accounts a new owner, closing the previous ownership span (kept for per-CSM KPIs)."""
    require_role(actor.user, UserRole.admin, UserRole.manager)
    new_owner = session.get(User, request.owner_id)
    if new_owner is None or not new_owner.is_active:
        raise InvalidInput(f"owner_id {request.owner_id}: no active user with that id")
    if new_owner.role == UserRole.viewer:
        raise InvalidInput(f"owner_id {request.owner_id}: {new_owner.email} is a viewer")
    if actor.role == UserRole.manager and new_owner.id not in team_member_ids(session, actor.user):
        raise InvalidInput(f"owner_id {request.owner_id}: {new_owner.email} is not on your team")
    accounts = session.scalars(sa.select(Account).where(Account.id.in_(request.account_ids))).all()
    missing = set(request.account_ids) - {a.id for a in accounts}
    if missing:
        raise NotFound(f"account_ids: no account(s) with id {sorted(missing)}")
    for account in accounts:
        if account.owner_id is not None:
            require_account_editor(session, actor.user, account)
    reassigned, unchanged = [], []
    for account in sorted(accounts, key=lambda a: a.id):
        if account.owner_id == new_owner.id:
            unchanged.append(account.id)
            continue
        before = {"owner_id": account.owner_id}
        session.execute(
            sa.update(AccountOwnership)
            .where(AccountOwnership.account_id == account.id, AccountOwnership.ended_at.is_(None))
            .values(ended_at=now)
        )
        session.add(AccountOwnership(account_id=account.id, user_id=new_owner.id, started_at=now))
        account.owner_id = new_owner.id
        audit.record(
            session,
            actor,
            "account.reassign",
            "account",
            account.id,
            before=before,
            after={"owner_id": new_owner.id},
        )
        reassigned.append(account.id)
    session.flush()
    return ReassignResult(reassigned=reassigned, unchanged=unchanged, owner_id=new_owner.id)


def palette(session: Session, text: str, user: User, limit: int = 10) -> list[PaletteEntry]:
    """Pages and accounts matching ``text``: what the command palette offers."""
    needle = text.strip().lower()
    entries = [
        PaletteEntry(label=p.label, url=p.url, kind="page", hint=p.api_url)
        for p in pages_for(user.role)
        if needle in p.label.lower()
    ]
    entries += [
        PaletteEntry(label=name, url=f"/accounts/{account_id}", kind="account", hint=external_id)
        for account_id, name, external_id in search_accounts(session, text, limit)
    ]
    return entries[:limit]
