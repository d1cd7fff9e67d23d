"""The risk-weighted renewal forecast: each renewal in a forecast category, and the ARR expected
to renew per month and quarter, per currency.

A renewal (a contract term ending in the window) falls in one category, the first that applies:

- **at risk** — the customer announced a cancellation (a known loss: nothing is expected to
  renew), or its payment is overdue, or its health is red, or P(churn at this renewal) is at
  least :data:`AT_RISK_PROBABILITY` (the default churn-risk rule's threshold, so a renewal at
  risk here is one that rule calls at risk);
- **commit** — the renewal is already booked (a successor contract or a won renewal
  opportunity), or P(churn) is at most :data:`COMMIT_PROBABILITY`;
- **upside** — the rest: likely to renew, not yet certain enough to commit. A renewal the churn
  model has not scored is upside too (unless at risk by another reason), its ARR said apart as
  *not scored* rather than weighted by a guess.

**Expected ARR** = ARR × (1 − P(churn at this renewal)); a booked renewal expects its ARR, a
known loss none. Figures are never summed across currencies: every period is one row per
currency.

>>> june = date(2026, 6, 15)
>>> book = [
...     Renewal(1, "Acme", june, 100.0, "USD", churn_probability=0.05),
...     Renewal(2, "Bolt", june, 200.0, "USD", churn_probability=0.5),
...     Renewal(3, "Cask", june, 50.0, "EUR", booked=True),
... ]
>>> [(r.category.value, r.expected_arr) for r in categorized(book)]
[('commit', 95.0), ('at_risk', 100.0), ('commit', 50.0)]
>>> eur, usd = forecast(book, date(2026, 6, 1), months=1).months
>>> (usd.period, usd.currency, usd.arr, usd.expected_arr)
('2026-06', 'USD', 300.0, 195.0)
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pydantic import BaseModel

from tenure.words import chance

# P(churn at the renewal) at or above which a renewal is at risk: the threshold of the default
# rule 'churn_risk_before_renewal' (default_rules.yaml), so the forecast and the CTAs agree.
AT_RISK_PROBABILITY = 0.3
# P(churn) at or below which an unbooked renewal is committed: one in ten renewals at this risk
# is lost, about the loss rate of renewals a team calls certain.
COMMIT_PROBABILITY = 0.1


class ForecastCategory(enum.StrEnum):
    commit = "commit"
    upside = "upside"
    at_risk = "at_risk"


CATEGORY_WORDS = {
    ForecastCategory.commit: "Commit",
    ForecastCategory.upside: "Upside",
    ForecastCategory.at_risk: "At risk",
}


@dataclass(frozen=True)
class Renewal:
    """One contract term coming up for renewal, with what is known about it."""

    account_id: int
    account_name: str
    renewal_on: date
    arr: float
    currency: str
    # P(churn at this renewal): the one churn probability (tenure.risk.figures); None = unscored.
    churn_probability: float | None = None
    health_band: str | None = None
    # A successor contract or a won renewal opportunity is on file (tenure.accounts.renewal),
    # and how it was booked, in words.
    booked: bool = False
    booking: str | None = None
    # The day the customer announced it will not renew (a cancellation at the period end).
    notice_on: date | None = None
    # The subscription's payment is overdue (Stripe past_due/unpaid): ARR, flagged at risk.
    past_due: bool = False
    # The contract's id, when the renewal is a stored contract term.
    contract_id: int | None = None


class CategorizedRenewal(BaseModel):
    contract_id: int | None
    account_id: int
    account_name: str
    renewal_on: date
    arr: float
    currency: str
    churn_probability: float | None
    health_band: str | None
    category: ForecastCategory
    # Why this category, in words a CSM uses.
    reason: str
    # ARR × (1 − P(churn)); None when the renewal is not scored.
    expected_arr: float | None


class CategoryTotal(BaseModel):
    category: ForecastCategory
    renewals: int
    arr: float
    expected_arr: float


class ForecastPeriod(BaseModel):
    """One month ("2026-06") or quarter ("2026-Q2") in one currency."""

    period: str
    currency: str
    renewals: int
    arr: float
    # Risk-weighted: what is expected to renew of the scored and booked renewals.
    expected_arr: float
    # ARR of renewals the churn model has not scored (not weighted, not in expected_arr).
    unscored_arr: float
    categories: list[CategoryTotal]


class RenewalForecast(BaseModel):
    first_month: date
    months_ahead: int
    at_risk_probability: float = AT_RISK_PROBABILITY
    commit_probability: float = COMMIT_PROBABILITY
    months: list[ForecastPeriod]
    quarters: list[ForecastPeriod]
    renewals: list[CategorizedRenewal]


def categorize(renewal: Renewal) -> tuple[ForecastCategory, str]:
    """The renewal's forecast category and the reason, in words."""
    p = renewal.churn_probability
    if renewal.notice_on is not None:
        return ForecastCategory.at_risk, f"cancellation announced on {renewal.notice_on}"
    if renewal.booked:
        return ForecastCategory.commit, renewal.booking or "renewal booked"
    if renewal.past_due:
        return ForecastCategory.at_risk, "payment overdue"
    if p is not None and p >= AT_RISK_PROBABILITY:
        return ForecastCategory.at_risk, f"{chance(p)} chance of churn"
    if renewal.health_band == "red":
        return ForecastCategory.at_risk, "health is red"
    if p is None:
        return ForecastCategory.upside, "not scored by the churn model"
    if p <= COMMIT_PROBABILITY:
        return ForecastCategory.commit, f"{chance(p)} chance of churn"
    return ForecastCategory.upside, f"{chance(p)} chance of churn"


def expected(renewal: Renewal) -> float | None:
    """ARR expected to renew: ARR × (1 − P(churn)); all of it when booked, none after notice."""
    if renewal.notice_on is not None:
        return 0.0
    if renewal.booked:
        return renewal.arr
    if renewal.churn_probability is None:
        return None
    return round(renewal.arr * (1.0 - renewal.churn_probability), 2)


def categorized(renewals: Iterable[Renewal]) -> list[CategorizedRenewal]:
    """Each renewal with its category, reason and expected ARR, in the given order."""
    out = []
    for r in renewals:
        category, reason = categorize(r)
        out.append(
            CategorizedRenewal(
                contract_id=r.contract_id,
                account_id=r.account_id,
                account_name=r.account_name,
                renewal_on=r.renewal_on,
                arr=r.arr,
                currency=r.currency,
                churn_probability=r.churn_probability,
                health_band=r.health_band,
                category=category,
                reason=reason,
                expected_arr=expected(r),
            )
        )
    return out


def month_of(day: date) -> str:
    return f"{day.year:04}-{day.month:02}"  # strftime's "%Y-%m", a quarter of its time


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


class Forecasted(Protocol):
    """What the totals read of a categorised renewal (a CategorizedRenewal, or the stored
    forecast's row: tenure.portfolio.renewals)."""

    @property
    def renewal_on(self) -> date: ...
    @property
    def arr(self) -> float: ...
    @property
    def currency(self) -> str: ...
    @property
    def category(self) -> ForecastCategory: ...
    @property
    def expected_arr(self) -> float | None: ...


def period_totals(
    rows: Sequence[Forecasted], period_of: Callable[[date], str], periods: Sequence[str]
) -> list[ForecastPeriod]:
    """Totals per (period, currency) in period order, then currency; a period with no renewal in
    a currency has no row."""
    grouped: dict[tuple[str, str], list[Forecasted]] = defaultdict(list)
    # A year's 6,000 renewals fall on a few hundred days: each day's period is named once.
    period_by_day: dict[date, str] = {}
    for r in rows:
        period = period_by_day.get(r.renewal_on)
        if period is None:
            period = period_by_day[r.renewal_on] = period_of(r.renewal_on)
        grouped[(period, r.currency)].append(r)
    order = {p: i for i, p in enumerate(periods)}
    keys = sorted(grouped, key=lambda key: (order[key[0]], key[1]))
    return [_totals(period, currency, grouped[(period, currency)]) for period, currency in keys]


def _totals(period: str, currency: str, items: list[Forecasted]) -> ForecastPeriod:
    # Each category's members in one pass, in the items' order (so they add up as before).
    by_category: dict[ForecastCategory, list[Forecasted]] = {c: [] for c in ForecastCategory}
    for r in items:
        by_category[r.category].append(r)
    categories = [
        CategoryTotal(
            category=category,
            renewals=len(members),
            arr=round(sum(r.arr for r in members), 2),
            expected_arr=round(sum(r.expected_arr or 0.0 for r in members), 2),
        )
        for category, members in by_category.items()
    ]
    return ForecastPeriod(
        period=period,
        currency=currency,
        renewals=len(items),
        arr=round(sum(r.arr for r in items), 2),
        expected_arr=round(sum(r.expected_arr or 0.0 for r in items), 2),
        unscored_arr=round(sum(r.arr for r in items if r.expected_arr is None), 2),
        categories=categories,
    )


def forecast(renewals: Iterable[Renewal], first_month: date, months: int = 12) -> RenewalForecast:
    """The forecast of renewals due in ``months`` months from ``first_month``'s month: per month
    and per quarter, per currency, by category; renewals outside the window are left out."""
    start = first_month.replace(day=1)
    end = add_months(start, months)
    inside = sorted(
        (r for r in renewals if start <= r.renewal_on < end),
        # The contract last: two terms of an account renewing alike keep one order, so the
        # stored forecast lists a team's renewals as computing them does.
        key=lambda r: (r.renewal_on, -r.arr, r.account_id, r.contract_id or 0),
    )
    rows = categorized(inside)
    month_keys = [month_of(add_months(start, i)) for i in range(months)]
    quarter_keys = list(dict.fromkeys(quarter_of(add_months(start, i)) for i in range(months)))
    return RenewalForecast(
        first_month=start,
        months_ahead=months,
        months=period_totals(rows, month_of, month_keys),
        quarters=period_totals(rows, quarter_of, quarter_keys),
        renewals=rows,
    )
