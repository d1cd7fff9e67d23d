"""The growth pipeline: open new-business and expansion opportunities and their forecast.

The forecast weighs each open deal by its probability — expected amount = amount × probability —
and sums per expected-close month and quarter, per kind and per currency (never across
currencies). Renewals have their own risk-weighted forecast (portfolio/forecast.py); advocacy asks
carry no revenue. Deals whose expected close has passed are *overdue*, not silently moved; deals
without a close date, amount or probability are counted but not weighed, and said so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.accounts.advocacy import list_advocacy
from tenure.accounts.growth_schemas import AdvocacyRead, OpportunityRead
from tenure.accounts.opportunities import (
    list_opportunities,
    open_conditions,
    opportunity_key,
)
from tenure.errors import InvalidInput
from tenure.model import AdvocacyKind, Opportunity, OpportunityKind, OpportunityStatus
from tenure.money import minor_unit_digits
from tenure.portfolio.records import DAY, OPTIONAL_DAY, ROW_ID, TEXT, CursorPage, Keyset

FORECAST_KINDS = (OpportunityKind.new_business, OpportunityKind.expansion)
Bucket = Literal["month", "quarter", "overdue", "later", "undated"]
# The open deals in the groups a CS leader reads apart: the growth the forecast weighs, the CRM's
# renewal deals (their risk-weighted forecast is the Renewals page's) and advocacy asks
# (references, case studies, speaker slots: no revenue).
DealGroup = Literal["growth", "renewal", "advocacy"]
DEAL_GROUPS: dict[DealGroup, tuple[OpportunityKind, ...]] = {
    "growth": FORECAST_KINDS,
    "renewal": (OpportunityKind.renewal,),
    "advocacy": (OpportunityKind.advocacy,),
}


@dataclass(frozen=True)
class ForecastDeal:
    """An open deal, or ``deals`` of them alike in all but amount (``amount`` their sum) that
    close in the same month on the same side of the as-of day (``close_on`` one of theirs)."""

    kind: OpportunityKind
    currency: str
    amount: Decimal | None
    # Percent, 0–100.
    probability: Decimal | None
    close_on: date | None
    deals: int = 1


class ForecastRow(BaseModel):
    bucket: Bucket
    period: str = Field(description="2026-12, 2026-Q4, or the bucket's name")
    kind: OpportunityKind
    currency: str
    deals: int
    amount: Decimal = Field(description="Sum of the deals' amounts")
    expected: Decimal = Field(description="Sum of amount × probability")
    unweighted: int = Field(description="Deals without an amount or probability (not expected)")


class PipelineForecast(BaseModel):
    as_of: date
    months: int
    rows: list[ForecastRow]


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _bucket(close_on: date | None, as_of: date, months: int) -> tuple[Bucket, str]:
    if close_on is None:
        return "undated", "no close date"
    if close_on < as_of:
        return "overdue", "overdue"
    if _months_between(as_of, close_on) >= months:
        return "later", "later"
    return "month", close_on.strftime("%Y-%m")


def _cents(value: Decimal, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-minor_unit_digits(currency))
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def expansion_forecast(deals: Iterable[ForecastDeal], as_of: date, months: int) -> PipelineForecast:
    """Open deals' expected amounts by close month and quarter, kind and currency.

    >>> deal = ForecastDeal(OpportunityKind.expansion, "EUR", Decimal("1000"), Decimal("40"),
    ...                     date(2026, 2, 10))
    >>> [(r.period, r.expected) for r in expansion_forecast([deal], date(2026, 1, 5), 12).rows]
    [('2026-02', Decimal('400.00')), ('2026-Q1', Decimal('400.00'))]
    """
    groups: dict[tuple[Bucket, str, OpportunityKind, str], list[ForecastDeal]] = defaultdict(list)
    for deal in deals:
        if deal.kind not in FORECAST_KINDS:
            continue
        bucket, period = _bucket(deal.close_on, as_of, months)
        groups[(bucket, period, deal.kind, deal.currency)].append(deal)
        if bucket == "month":
            assert deal.close_on is not None
            groups[("quarter", _quarter(deal.close_on), deal.kind, deal.currency)].append(deal)
    order: list[Bucket] = ["overdue", "month", "quarter", "later", "undated"]
    rows = []
    for (bucket, period, kind, currency), group in sorted(
        groups.items(),
        key=lambda kv: (order.index(kv[0][0]), kv[0][1], FORECAST_KINDS.index(kv[0][2]), kv[0][3]),
    ):
        weighed = [d for d in group if d.amount is not None and d.probability is not None]
        expected = sum(
            (d.amount * d.probability / 100 for d in weighed),  # type: ignore[operator]
            Decimal(0),
        )
        counted = sum(d.deals for d in group)
        rows.append(
            ForecastRow(
                bucket=bucket,
                period=period,
                kind=kind,
                currency=currency,
                deals=counted,
                amount=_cents(sum((d.amount or Decimal(0) for d in group), Decimal(0)), currency),
                expected=_cents(expected, currency),
                unweighted=counted - sum(d.deals for d in weighed),
            )
        )
    return PipelineForecast(as_of=as_of, months=months, rows=rows)


def _decimal(value: float | None) -> Decimal | None:
    # Stored as NUMERIC(14, 2) / NUMERIC(5, 2): the float's shortest repr is the stored value.
    return None if value is None else Decimal(repr(value))


# Open deals the pipeline page and its JSON twin show at a time.
OPEN_DEALS_PER_PAGE = 100


class PipelineView(BaseModel):
    """The pipeline page and its JSON twin: open deals and their forecast."""

    as_of: date
    group: DealGroup = Field(
        description="The open deals listed: growth (new business and expansion), renewal deals "
        "or advocacy asks"
    )
    open: list[OpportunityRead] = Field(
        description=f"Page `page` of the group's open deals, {OPEN_DEALS_PER_PAGE} a page, "
        "soonest expected close first (every one: /api/v1/opportunities?status=open)"
    )
    open_deals: int = Field(description="How many deals of the group are open")
    groups: dict[DealGroup, int] = Field(description="How many deals are open in each group")
    page: int
    pages: int
    forecast: PipelineForecast


def open_deal_groups(
    session: Session, as_of: date, owner_id: int | None = None
) -> list[ForecastDeal]:
    """The open deals as the forecast weighs them, summed by the database: one group per kind,
    currency, probability, close month, side of ``as_of`` and whether the amount is known.

    Amounts are summed in cents as integers (stored with two decimals, NUMERIC(14, 2)), so the
    sum is exact; amount × probability is taken per group, in Python, as Decimal."""
    cents = sa.cast(sa.func.round(Opportunity.amount * 100), sa.BigInteger)
    close_on = Opportunity.close_on
    alike = (
        Opportunity.kind,
        Opportunity.currency,
        Opportunity.probability,
        Opportunity.amount.is_(None),
        close_on < as_of,
        sa.extract("year", close_on),
        sa.extract("month", close_on),
    )
    rows = session.execute(
        sa.select(
            Opportunity.kind,
            Opportunity.currency,
            Opportunity.probability,
            sa.func.sum(cents),
            sa.func.min(close_on),
            sa.func.count(),
        )
        .where(*open_conditions(owner_id))
        .group_by(*alike)
    ).all()
    return [
        ForecastDeal(
            kind,
            currency,
            None if summed is None else Decimal(int(summed)).scaleb(-2),
            _decimal(probability),
            first_close,
            deals,
        )
        for kind, currency, probability, summed, first_close, deals in rows
    ]


def pipeline_view(
    session: Session,
    as_of: date,
    months: int = 12,
    owner_id: int | None = None,
    page: int = 1,
    group: DealGroup = "growth",
) -> PipelineView:
    """The forecast of every open deal (summed by the database: :func:`open_deal_groups`), how
    many are open in each group, and one page of the group's open deals."""
    if page < 1:
        raise InvalidInput(f"page: {page} — pages start at 1")
    if group not in DEAL_GROUPS:
        raise InvalidInput(f"group: {group!r} — one of {', '.join(DEAL_GROUPS)}")
    groups = open_deal_groups(session, as_of, owner_id)
    forecast = expansion_forecast(groups, as_of, months)
    counts = {
        name: sum(g.deals for g in groups if g.kind in kinds) for name, kinds in DEAL_GROUPS.items()
    }
    open_deals = counts[group]
    shown = list_opportunities(
        session,
        status=OpportunityStatus.open,
        owner_id=owner_id,
        kinds=DEAL_GROUPS[group],
        limit=OPEN_DEALS_PER_PAGE,
        offset=(page - 1) * OPEN_DEALS_PER_PAGE,
    )
    return PipelineView(
        as_of=as_of,
        group=group,
        open=shown,
        open_deals=open_deals,
        groups=counts,
        page=page,
        pages=max(1, -(-open_deals // OPEN_DEALS_PER_PAGE)),
        forecast=forecast,
    )


# Deals soonest expected close first (none last), then by account name; advocacy newest first.
OPPORTUNITY_KEYS = Keyset(OPTIONAL_DAY, TEXT, ROW_ID)
ADVOCACY_KEYS = Keyset(DAY, ROW_ID)


def opportunity_page(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    account_id: int | None = None,
    status: OpportunityStatus | None = None,
    kind: OpportunityKind | None = None,
    owner_id: int | None = None,
) -> CursorPage[OpportunityRead]:
    """One page of :func:`list_opportunities`; ``next_cursor`` continues after its last deal."""
    shown, next_cursor = OPPORTUNITY_KEYS.page(
        lambda after, n: list_opportunities(
            session,
            account_id=account_id,
            status=status,
            kind=kind,
            owner_id=owner_id,
            after=after,
            limit=n,
        ),
        opportunity_key,
        limit=limit,
        cursor=cursor,
    )
    return CursorPage[OpportunityRead](items=shown, next_cursor=next_cursor, limit=limit)


def advocacy_page(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    account_id: int | None = None,
    kind: AdvocacyKind | None = None,
    since: date | None = None,
) -> CursorPage[AdvocacyRead]:
    """One page of :func:`list_advocacy`; ``next_cursor`` continues after its last record."""
    shown, next_cursor = ADVOCACY_KEYS.page(
        lambda after, n: list_advocacy(
            session, account_id=account_id, kind=kind, since=since, after=after, limit=n
        ),
        lambda record: (record.occurred_on, record.id),
        limit=limit,
        cursor=cursor,
    )
    return CursorPage[AdvocacyRead](items=shown, next_cursor=next_cursor, limit=limit)
