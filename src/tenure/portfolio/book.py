"""The book of business as a list: the portfolio (paged by number or cursor), the risk list
with reasons, and the CSV export."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service
from tenure.accounts.arr import MULTIPLE_CURRENCIES
from tenure.accounts.fx import RateTable, converted_figures
from tenure.errors import InvalidInput
from tenure.model import Account, AccountJudgement, User
from tenure.portfolio import judgements, signals
from tenure.portfolio.rows import (
    SORT_JOINS,
    Rows,
    account_conditions,
    as_date,
    by_currency_of,
    conditions,
    filter_joins,
    filtered,
    full_rows,
    row_fields,
    rows_of,
    split_by_currency,
    with_utilization,
)
from tenure.portfolio.schemas import (
    PortfolioPage,
    PortfolioQuery,
    RiskPage,
    RiskRow,
    SortDirection,
    SortKey,
)
from tenure.risk.figures import churn_window
from tenure.success.lifecycle_variants import stage_label

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
    return as_date(value) if query.sort == SortKey.renewal_on else value


def portfolio(session: Session, query: PortfolioQuery, user: User, as_of: date) -> PortfolioPage:
    """The filtered, sorted book of business; a page number or a cursor selects the slice.

    Two steps keep a page fast on a large book: the ids of the page are found with only the
    joins the filters and the sort need, then the full rows of those ids are read.
    """
    rows = rows_of(session, as_of)
    joins = filter_joins(query)
    key = rows.sort_expression(query.sort, as_of)
    descending = query.direction == SortDirection.desc
    narrow = filtered(
        session, rows, query, user, as_of, joins | SORT_JOINS.get(query.sort, frozenset())
    )
    # A page number: the page's query counts every row it selects (a window over the rows
    # before OFFSET and LIMIT; the sort joins add no row), so the filters run once, not twice.
    counting = not query.cursor
    if query.cursor:
        value, row_id = _decode_cursor(query, query.cursor)
        after = (
            sa.or_(key < value, sa.and_(key == value, Account.id < row_id))
            if descending
            else sa.or_(key > value, sa.and_(key == value, Account.id > row_id))
        )
        narrow = narrow.where(after)
    else:
        narrow = narrow.offset((query.page - 1) * query.limit).add_columns(
            sa.func.count().over().label("total")
        )
    order = (key.desc(), Account.id.desc()) if descending else (key.asc(), Account.id.asc())
    found = session.execute(
        narrow.add_columns(key.label("sort_value")).order_by(*order).limit(query.limit + 1)
    ).all()
    if counting and found:
        total = found[0].total
    else:  # a cursor, or a page past the end
        counted = filtered(session, rows, query, user, as_of, joins)
        total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
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
        items=with_utilization(session, rows.days, page_rows),
        total=total,
        page=query.page,
        limit=query.limit,
        next_cursor=next_cursor,
        as_of=as_of,
    )


def _window(risk: Any) -> str | None:
    if risk is None:
        return None
    return churn_window(
        risk.horizon_days, risk.lead_days, risk.next_renewal_on, risk.renewal_probability
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
                churn_window=_window(risk),
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


class PortfolioCsvRow(NamedTuple):
    """An account of the CSV export, in the table's order and columns (a plain tuple: a team's
    export holds thousands): every currency's ARR apart ("USD 100000.0; EUR 50000.0"), the
    total in the reporting currency only with its rates' dates (or the missing ones), the
    stage in the words of the lifecycle model in force, as the table shows it."""

    external_id: str
    name: str
    segment: str | None
    owner_name: str | None
    arr: float | None
    currency: str | None
    arr_by_currency: str
    arr_in_reporting_currency: float | None
    reporting_currency: str | None
    rate_dates: str | None
    missing_rates: str | None
    renewal_on: str | None
    health_score: int | None
    health_band: str | None
    churn_probability: float | None
    arr_at_risk: float | None
    days_to_renewal: int | None
    laer_stage: str | None
    license_utilization: float | None


def portfolio_csv(
    session: Session, query: PortfolioQuery, user: User, as_of: date
) -> list[PortfolioCsvRow]:
    """Every row the filters select, in the page's order (the CSV export): the full rows read
    by the export's own query in one statement, each written as its CSV values — the figures
    a page's :class:`AccountRow` holds, without making thousands of models.

    The judgements are read from their stored copy when it is current (tenure.portfolio.
    judgements), else from the score tables — and the copy is built for the next export."""
    rows = rows_of(session, as_of)
    narrowed = account_conditions(session, query, user)
    if narrowed:
        # A filter on the accounts' own columns (a team, a segment) narrows the contracts to
        # aggregate: a team's third of the book costs a third.
        rows = rows.of_accounts(sa.select(Account.id).where(*narrowed), as_of)
    stored = judgements.current(session, rows.days)
    if stored:
        rows = rows.stored()
        utilization = AccountJudgement.license_utilization
    else:
        utilization = signals.stored_metrics(rows.days)
    joins = filter_joins(query) | SORT_JOINS.get(query.sort, frozenset())
    # Core rows (no ORM loading: plain columns) of the export's own query, in its order.
    found = (
        session.connection()
        .execute(
            rows.select(joins, full=True)
            .add_columns(utilization.label("utilization"))
            .where(*conditions(session, rows, query, user, as_of))
            .order_by(*_order(rows, query, as_of))
        )
        .all()
    )
    table = fx_service.rate_table(session, on=as_of)
    split = split_by_currency(
        session, [r.id for r in found if r.currency == MULTIPLE_CURRENCIES], as_of
    )
    # The last column: the stored utilization, or the day's metric values to read it from.
    utilization_of = (lambda value: value) if stored else signals.utilization_in
    csv_rows = [_csv_row(r, split, table, as_of, utilization_of(r[-1])) for r in found]
    if not stored:
        judgements.store(session, rows.days)
    return csv_rows


def _csv_row(
    row: Any,
    split: dict[int, list[tuple[str, float]]],
    table: RateTable,
    as_of: date,
    utilization: float | None,
) -> PortfolioCsvRow:
    fields = row_fields(row, as_of)
    by_currency = by_currency_of(fields["currency"], fields["arr"], split.get(fields["id"], []))
    amount, rate_dates, missing = (
        converted_figures(dict(by_currency), table, as_of) if by_currency else (None, [], [])
    )
    renewal_on = fields["renewal_on"]
    stage = fields["laer_stage"]
    return PortfolioCsvRow(
        fields["external_id"],
        fields["name"],
        fields["segment"],
        fields["owner_name"],
        fields["arr"],
        fields["currency"],
        "; ".join([f"{currency} {arr}" for currency, arr in by_currency]),
        amount,
        table.reporting_currency if by_currency else None,
        " ".join(d.isoformat() for d in rate_dates) if by_currency else None,
        " ".join(missing) if by_currency else None,
        renewal_on.isoformat() if renewal_on else None,
        fields["health_score"],
        fields["health_band"],
        fields["churn_probability"],
        fields["arr_at_risk"],
        fields["days_to_renewal"],
        stage_label(stage) if stage else None,
        utilization,
    )


def export_ids(
    session: Session, query: PortfolioQuery, user: User | None, as_of: date
) -> sa.Select[Any]:
    """The ids of every account the filters select, in the page's order."""
    rows = rows_of(session, as_of)
    joins = filter_joins(query) | SORT_JOINS.get(query.sort, frozenset())
    return filtered(session, rows, query, user, as_of, joins).order_by(*_order(rows, query, as_of))


def _order(rows: Rows, query: PortfolioQuery, as_of: date) -> tuple[Any, Any]:
    key = rows.sort_expression(query.sort, as_of)
    if query.direction == SortDirection.desc:
        return key.desc(), Account.id.desc()
    return key.asc(), Account.id.asc()


def segments(session: Session) -> list[str]:
    found = session.scalars(
        sa.select(Account.segment).where(Account.segment.is_not(None)).distinct()
    ).all()
    return sorted(s for s in found if s)
