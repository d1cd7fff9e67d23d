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

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tenure.accounts.growth_schemas import OpportunityRead
from tenure.accounts.opportunities import list_opportunities
from tenure.model import OpportunityKind, OpportunityStatus
from tenure.money import minor_unit_digits

FORECAST_KINDS = (OpportunityKind.new_business, OpportunityKind.expansion)
Bucket = Literal["month", "quarter", "overdue", "later", "undated"]


@dataclass(frozen=True)
class ForecastDeal:
    kind: OpportunityKind
    currency: str
    amount: Decimal | None
    # Percent, 0–100.
    probability: Decimal | None
    close_on: date | None


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
        rows.append(
            ForecastRow(
                bucket=bucket,
                period=period,
                kind=kind,
                currency=currency,
                deals=len(group),
                amount=_cents(sum((d.amount or Decimal(0) for d in group), Decimal(0)), currency),
                expected=_cents(expected, currency),
                unweighted=len(group) - len(weighed),
            )
        )
    return PipelineForecast(as_of=as_of, months=months, rows=rows)


def _decimal(value: float | None) -> Decimal | None:
    # Stored as NUMERIC(14, 2) / NUMERIC(5, 2): the float's shortest repr is the stored value.
    return None if value is None else Decimal(repr(value))


class PipelineView(BaseModel):
    """The pipeline page and its JSON twin: open deals and their forecast."""

    as_of: date
    open: list[OpportunityRead]
    forecast: PipelineForecast


def pipeline_view(
    session: Session, as_of: date, months: int = 12, owner_id: int | None = None
) -> PipelineView:
    open_deals = list_opportunities(session, status=OpportunityStatus.open, owner_id=owner_id)
    forecast = expansion_forecast(
        (
            ForecastDeal(
                o.kind, o.currency, _decimal(o.amount), _decimal(o.probability), o.close_on
            )
            for o in open_deals
        ),
        as_of,
        months,
    )
    return PipelineView(as_of=as_of, open=open_deals, forecast=forecast)
