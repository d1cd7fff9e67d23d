"""The book of business as a list: the portfolio (paged by number or cursor), the risk list
with reasons, and the CSV export."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.errors import InvalidInput
from tenure.model import Account, User
from tenure.portfolio import signals
from tenure.portfolio.rows import (
    SORT_JOINS,
    as_date,
    filter_joins,
    filtered,
    full_rows,
    rows_of,
    with_utilization,
)
from tenure.portfolio.schemas import (
    AccountRow,
    PortfolioPage,
    PortfolioQuery,
    RiskPage,
    RiskRow,
    SortDirection,
    SortKey,
)
from tenure.risk.figures import churn_window

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
    counted = filtered(session, rows, query, user, as_of, joins)
    total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    key = rows.sort_expression(query.sort, as_of)
    descending = query.direction == SortDirection.desc
    narrow = filtered(
        session, rows, query, user, as_of, joins | SORT_JOINS.get(query.sort, frozenset())
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


def portfolio_export(
    session: Session, query: PortfolioQuery, user: User, as_of: date
) -> list[AccountRow]:
    """Every row the filters select, in the page's order (the CSV export)."""
    rows = rows_of(session, as_of)
    ids = list(session.scalars(export_ids(session, query, user, as_of)))
    return with_utilization(session, rows.days, full_rows(session, ids, as_of))


def export_ids(
    session: Session, query: PortfolioQuery, user: User | None, as_of: date
) -> sa.Select[Any]:
    """The ids of every account the filters select, in the page's order."""
    rows = rows_of(session, as_of)
    key = rows.sort_expression(query.sort, as_of)
    order = (
        (key.desc(), Account.id.desc())
        if query.direction == SortDirection.desc
        else (key.asc(), Account.id.asc())
    )
    joins = filter_joins(query) | SORT_JOINS.get(query.sort, frozenset())
    return filtered(session, rows, query, user, as_of, joins).order_by(*order)


def segments(session: Session) -> list[str]:
    found = session.scalars(
        sa.select(Account.segment).where(Account.segment.is_not(None)).distinct()
    ).all()
    return sorted(s for s in found if s)
