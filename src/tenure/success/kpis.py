"""Customer-success KPIs per period, segment and CSM, with their formulas.

"Customer Success is NOT a metric" and the best KPI depends on the company's stage [pub]; the set
and the formulas below are Tenure's defaults [default], grouped as the source groups CS-driven
growth: keep them longer (logo churn, GRR, renewal rate), get them to buy more (NRR, expansion ARR),
plus licence utilization, feature adoption, time to value and NPS.

Period = [start, end). An account's ARR on a day is the one definition of
:mod:`tenure.accounts.arr` (contracts in force that day, not pending, not cancelled before it; a
contract ending on the day another starts is replaced by it).
The **cohort** is the accounts with ARR > 0 on ``start``; ``start ARR`` is their ARR on ``start``
and ``end ARR`` their ARR on the period's last day (``end − 1 day``). ARR figures and ratios are
computed **per currency** and never summed across currencies; beside them, ``reporting`` gives
one figure per KPI in the reporting currency, every currency converted at the rates of the
period's last day (constant currency: an exchange-rate move is not expansion or churn), saying
the rates' dates — and no ARR figure at all, naming the currency, when a rate is missing.

- NRR = Σ end ARR ÷ Σ start ARR (cohort only; new customers excluded).
  Example: A 100→120, B 100→0 → NRR = 120 ÷ 200 = 0.60.
- GRR = Σ min(end ARR, start ARR) ÷ Σ start ARR. Example above: (100 + 0) ÷ 200 = 0.50.
- Expansion ARR = Σ max(end ARR − start ARR, 0). Example above: 20.
- ARR churn = Σ start ARR of cohort accounts with end ARR = 0 ÷ Σ start ARR. Example: 100 ÷ 200.
- Logo churn = cohort accounts with end ARR = 0 ÷ cohort accounts. Example: 1 ÷ 2.
- Renewal rate = contracts ending in the period that renewed (renewed, expanded or downgraded)
  ÷ contracts ending in the period with a known outcome.
- Licence utilization = Σ active users ÷ Σ licensed seats, over accounts with seats
  (active = trailing 28 days, ENGINEERING.md). Example: 8/10 and 2/10 seats → 10 ÷ 20 = 0.50.
- Feature adoption = mean over accounts of (features used ÷ features available).
- Time to value = median days from an account's first signature to its first value, over the
  accounts that reached first value in the period (a quarter's figure is that quarter's
  onboardings: it neither repeats every account's nor reads first values after the period).
  Example: first value 10 and 40 days after signing, both in the period → 25.
- NPS = 100 × (promoters − detractors) ÷ responses in the period (promoter ≥ 9, detractor ≤ 6).
- New customers = accounts whose first signature falls in the period; good-fit share = new
  customers in the ``good`` fit band at signing ÷ new customers (unknown fit stays in the
  denominator); referred = new customers brought by a referral (effective CAC: expansion.py).
- Bookings, new business apart from expansion (hunters' and farmers' work): per kind and
  currency, deals won in the period (closed on a day in it), their amount, deals lost, and the win
  rate = won ÷ (won + lost). Example: 2 expansions won for 30 and 10 EUR, 1 lost → 40 EUR, 2/3.
"""

from __future__ import annotations

import enum
import functools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, Field

from tenure.accounts.arr import active_on, arr_on
from tenure.accounts.fx import RateTable, RateUsed
from tenure.errors import InvalidInput

RENEWED = frozenset({"renewed", "expanded", "downgraded"})


class GroupBy(enum.StrEnum):
    all = "all"
    segment = "segment"
    csm = "csm"
    # One row per group of companies: the account at the head of each family and all below it.
    top_parent = "top_parent"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput(f"period end {self.end} must be after its start {self.start}")

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """``2025``, ``2025-Q3``, ``2025-07`` or ``2025-01-01..2025-06-30`` (inclusive end)."""
    try:
        if ".." in text:
            first, last = text.split("..", 1)
            return Period(date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1))
        if "-Q" in text.upper():
            year_text, quarter_text = text.upper().split("-Q")
            q = int(quarter_text)
            if not 1 <= q <= 4:
                raise ValueError(quarter_text)
            start = date(int(year_text), 3 * q - 2, 1)
            return Period(start, _add_months(start, 3))
        if len(text) == 7:
            y, m = (int(part) for part in text.split("-"))
            return Period(date(y, m, 1), _add_months(date(y, m, 1), 1))
        y = int(text)
        return Period(date(y, 1, 1), date(y + 1, 1, 1))
    except ValueError as error:
        raise InvalidInput(
            f"period {text!r}: use 2025, 2025-Q3, 2025-07 or 2025-01-01..2025-06-30"
        ) from error


@dataclass(frozen=True)
class ContractFact:
    account_id: int
    currency: str
    starts_on: date
    ends_on: date
    arr: float
    renewal_outcome: str | None = None
    status: str = "active"
    outcome_on: date | None = None
    # A subscription renewing by itself past ends_on until cancelled (tenure.accounts.arr).
    auto_renews: bool = False


@dataclass(frozen=True)
class AccountFact:
    account_id: int
    segment: str | None = None
    csm: str | None = None
    active_users: int | None = None
    licensed_seats: int | None = None
    # Share of the catalog's features the account used (the metrics' feature breadth).
    feature_share: float | None = None
    first_contract_on: date | None = None
    first_value_on: date | None = None
    fit_band: str | None = None
    referred: bool = False
    # The name of the account heading the account's family (its own without a parent).
    top_parent: str | None = None


@dataclass(frozen=True)
class NpsAnswer:
    account_id: int
    score: int
    responded_on: date


@dataclass(frozen=True)
class DealFact:
    account_id: int
    kind: str
    won: bool
    currency: str
    amount: float | None
    closed_on: date


class BookingKpis(BaseModel):
    kind: str
    currency: str
    won_deals: int
    won_amount: float
    lost_deals: int
    win_rate: float | None


BOOKING_KINDS = ("new_business", "expansion")


def bookings(deals: Sequence[DealFact], period: Period) -> list[BookingKpis]:
    """Won and lost new-business and expansion deals of the period, per kind and currency.

    >>> p = Period(date(2026, 1, 1), date(2026, 4, 1))
    >>> won = [DealFact(1, "expansion", True, "EUR", a, date(2026, 2, 1)) for a in (30.0, 10.0)]
    >>> lost = DealFact(2, "expansion", False, "EUR", 99.0, date(2026, 3, 1))
    >>> [(b.won_amount, b.win_rate) for b in bookings([*won, lost], p)]
    [(40.0, 0.6666666666666666)]
    """
    groups: dict[tuple[str, str], list[DealFact]] = defaultdict(list)
    for deal in deals:
        if deal.kind in BOOKING_KINDS and period.start <= deal.closed_on < period.end:
            groups[(deal.kind, deal.currency)].append(deal)
    rows = []
    for (kind, currency), group in sorted(
        groups.items(), key=lambda kv: (BOOKING_KINDS.index(kv[0][0]), kv[0][1])
    ):
        won = [d for d in group if d.won]
        rows.append(
            BookingKpis(
                kind=kind,
                currency=currency,
                won_deals=len(won),
                # Stored to the cent: summed in cents so no float error creeps in.
                won_amount=sum(round((d.amount or 0) * 100) for d in won) / 100,
                lost_deals=len(group) - len(won),
                win_rate=_ratio(len(won), len(group)),
            )
        )
    return rows


class CurrencyKpis(BaseModel):
    currency: str
    cohort_accounts: int
    start_arr: float
    end_arr: float
    expansion_arr: float
    contraction_arr: float
    churned_arr: float
    churned_accounts: int
    nrr: float | None
    grr: float | None
    arr_churn: float | None
    logo_churn: float | None


class ReportingKpis(BaseModel):
    """The KPIs as one figure each in the reporting currency (see the module)."""

    currency: str
    rates: list[RateUsed]
    missing: list[str]
    cohort_accounts: int
    churned_accounts: int
    logo_churn: float | None
    # ARR figures: null when a currency of the cohort has no rate (``missing``).
    start_arr: float | None
    end_arr: float | None
    expansion_arr: float | None
    contraction_arr: float | None
    churned_arr: float | None
    nrr: float | None
    grr: float | None
    arr_churn: float | None


class KpiRow(BaseModel):
    group: str
    period: str
    by_currency: list[CurrencyKpis]
    reporting: ReportingKpis | None = None
    renewals_due: int
    renewed: int
    renewal_rate: float | None
    license_utilization: float | None
    feature_adoption: float | None
    time_to_value_days: float | None
    nps: float | None
    nps_responses: int
    new_customers: int
    good_fit_new: int
    good_fit_share: float | None
    referred_new: int
    bookings: list[BookingKpis] = []


class KpiReport(BaseModel):
    period: str
    by: GroupBy
    rows: list[KpiRow]
    computed_on: date | None = Field(
        None, description="The day of the data these stored figures were computed on"
    )
    groups: int | None = Field(
        None, description="Groups in the report when ``rows`` holds only a page of them"
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _currency_kpis(
    start: dict[tuple[int, str], float], end: dict[tuple[int, str], float]
) -> list[CurrencyKpis]:
    out = []
    for currency in sorted({cur for _, cur in start}):
        cohort = {acc: v for (acc, cur), v in start.items() if cur == currency and v > 0}
        ends = {acc: end.get((acc, currency), 0.0) for acc in cohort}
        start_arr = sum(cohort.values())
        end_arr = sum(ends.values())
        churned = [acc for acc in cohort if ends[acc] <= 0]
        churned_arr = sum(cohort[acc] for acc in churned)
        expansion = sum(max(ends[a] - cohort[a], 0.0) for a in cohort)
        contraction = sum(max(cohort[a] - ends[a], 0.0) for a in cohort if a not in churned)
        retained = sum(min(ends[a], cohort[a]) for a in cohort)
        out.append(
            CurrencyKpis(
                currency=currency,
                cohort_accounts=len(cohort),
                start_arr=start_arr,
                end_arr=end_arr,
                expansion_arr=expansion,
                contraction_arr=contraction,
                churned_arr=churned_arr,
                churned_accounts=len(churned),
                nrr=_ratio(end_arr, start_arr),
                grr=_ratio(retained, start_arr),
                arr_churn=_ratio(churned_arr, start_arr),
                logo_churn=_ratio(len(churned), len(cohort)),
            )
        )
    return out


def _reporting_kpis(
    start: dict[tuple[int, str], float],
    end: dict[tuple[int, str], float],
    rates: RateTable,
    day: date,
) -> ReportingKpis:
    """Per account (not per currency): its start and end ARR in the reporting currency; a
    logo churns when all its ARR is gone, whatever the rates."""
    cohort = {acc for (acc, _), v in start.items() if v > 0}
    paying_at_end = {acc for (acc, _), v in end.items() if v > 0}
    churned = cohort - paying_at_end
    # Every currency the cohort paid in at the start or the end (one taken up during the
    # period needs its rate too).
    currencies = sorted({cur for (acc, cur) in [*start, *end] if acc in cohort})
    used: dict[str, float] = {}
    rate_list: list[RateUsed] = []
    missing: list[str] = []
    for currency in currencies:
        if currency == rates.reporting_currency:
            used[currency] = 1.0
        elif (found := rates.rate(currency, day)) is None:
            missing.append(currency)
        else:
            used[currency] = float(found[1])
            rate_list.append(RateUsed(currency=currency, rate=used[currency], rate_on=found[0]))
    logos = {
        "currency": rates.reporting_currency,
        "rates": rate_list,
        "missing": missing,
        "cohort_accounts": len(cohort),
        "churned_accounts": len(churned),
        "logo_churn": _ratio(len(churned), len(cohort)),
    }
    if missing:
        return ReportingKpis(
            **logos,
            start_arr=None,
            end_arr=None,
            expansion_arr=None,
            contraction_arr=None,
            churned_arr=None,
            nrr=None,
            grr=None,
            arr_churn=None,
        )
    begin: dict[int, float] = defaultdict(float)
    finish: dict[int, float] = defaultdict(float)
    for (acc, cur), value in start.items():
        if acc in cohort:
            begin[acc] += value * used[cur]
    for (acc, cur), value in end.items():
        if acc in cohort:
            finish[acc] += value * used[cur]
    start_arr = sum(begin.values())
    end_arr = sum(finish[a] for a in cohort)
    churned_arr = sum(begin[a] for a in churned)
    return ReportingKpis(
        **logos,
        start_arr=round(start_arr, 2),
        end_arr=round(end_arr, 2),
        expansion_arr=round(sum(max(finish[a] - begin[a], 0.0) for a in cohort), 2),
        contraction_arr=round(
            sum(max(begin[a] - finish[a], 0.0) for a in cohort if a not in churned), 2
        ),
        churned_arr=round(churned_arr, 2),
        nrr=_ratio(end_arr, start_arr),
        grr=_ratio(sum(min(finish[a], begin[a]) for a in cohort), start_arr),
        arr_churn=_ratio(churned_arr, start_arr),
    )


def nps(scores: Sequence[int]) -> float | None:
    """100 × (promoters − detractors) ÷ responses. ``nps([10, 9, 7, 3]) == 25.0``."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def _group_kpis(
    group: str,
    period: Period,
    accounts: Sequence[AccountFact],
    contracts: Sequence[ContractFact],
    answers: Sequence[NpsAnswer],
    deals: Sequence[DealFact] = (),
    rates: RateTable | None = None,
) -> KpiRow:
    start = arr_on(contracts, period.start)
    end = arr_on(contracts, period.last_day)
    due = [c for c in contracts if period.start <= c.ends_on < period.end and c.renewal_outcome]
    renewed = sum(1 for c in due if c.renewal_outcome in RENEWED)
    seated = [a for a in accounts if a.licensed_seats and a.active_users is not None]
    adoption = [a.feature_share for a in accounts if a.feature_share is not None]
    ttv = [
        (a.first_value_on - a.first_contract_on).days
        for a in accounts
        if a.first_value_on
        and a.first_contract_on
        and period.start <= a.first_value_on < period.end
    ]
    scores = [n.score for n in answers if period.start <= n.responded_on < period.end]
    new = [
        a
        for a in accounts
        if a.first_contract_on and period.start <= a.first_contract_on < period.end
    ]
    good_new = sum(1 for a in new if a.fit_band == "good")
    return KpiRow(
        group=group,
        period=period.label,
        by_currency=_currency_kpis(start, end),
        reporting=_reporting_kpis(start, end, rates, period.last_day) if rates else None,
        renewals_due=len(due),
        renewed=renewed,
        renewal_rate=_ratio(renewed, len(due)),
        license_utilization=_ratio(
            sum(a.active_users or 0 for a in seated), sum(a.licensed_seats or 0 for a in seated)
        ),
        feature_adoption=statistics.fmean(adoption) if adoption else None,
        time_to_value_days=float(statistics.median(ttv)) if ttv else None,
        nps=nps(scores),
        nps_responses=len(scores),
        new_customers=len(new),
        good_fit_new=good_new,
        good_fit_share=_ratio(good_new, len(new)),
        referred_new=sum(1 for a in new if a.referred),
        bookings=bookings(deals, period),
    )


class _OfAccount(Protocol):
    @property
    def account_id(self) -> int: ...


R = TypeVar("R", bound=_OfAccount)


def _by_group(records: Sequence[R], group_of: dict[int, str]) -> dict[str, list[R]]:
    out: dict[str, list[R]] = defaultdict(list)
    for record in records:
        if (group := group_of.get(record.account_id)) is not None:
            out[group].append(record)
    return out


def compute_kpis(
    period: Period,
    accounts: Sequence[AccountFact],
    contracts: Sequence[ContractFact],
    answers: Sequence[NpsAnswer] = (),
    by: GroupBy = GroupBy.all,
    deals: Sequence[DealFact] = (),
    rates: RateTable | None = None,
) -> KpiReport:
    """Every KPI for the period, overall or per segment / CSM / top parent (accounts without one:
    "(none)"); per top parent, a family's NRR, GRR and logo churn are its members' together.
    Groups come A–Z; families the largest first (most accounts), then A–Z — a book can have
    thousands, and the groups of companies are what a reader looks for at the top.

    The module's example — A 100 → 120, B 100 → 0:

    >>> a1 = ContractFact(1, "USD", date(2024, 1, 1), date(2025, 6, 30), 100.0, "expanded")
    >>> a2 = ContractFact(1, "USD", date(2025, 7, 1), date(2026, 6, 30), 120.0)
    >>> b = ContractFact(2, "USD", date(2024, 1, 1), date(2025, 6, 30), 100.0, "churned")
    >>> year = Period(date(2025, 1, 1), date(2026, 1, 1))
    >>> report = compute_kpis(year, [AccountFact(1), AccountFact(2)], [a1, a2, b])
    >>> usd = report.rows[0].by_currency[0]
    >>> (usd.nrr, usd.grr, usd.expansion_arr, usd.logo_churn, report.rows[0].renewal_rate)
    (0.6, 0.5, 20.0, 0.5, 0.5)
    """

    def key(account: AccountFact) -> str:
        if by is GroupBy.all:
            return "all"
        value = {
            GroupBy.segment: account.segment,
            GroupBy.csm: account.csm,
            GroupBy.top_parent: account.top_parent,
        }[by]
        return value or "(none)"

    groups: dict[str, list[AccountFact]] = defaultdict(list)
    group_of: dict[int, str] = {}
    for account in accounts:
        group_of[account.account_id] = name = key(account)
        groups[name].append(account)
    # Each record to its account's group in one pass (10,000 families would otherwise scan every
    # contract once per family); records of accounts not given belong to no group.
    group_contracts = _by_group(contracts, group_of)
    group_answers = _by_group(answers, group_of)
    group_deals = _by_group(deals, group_of)
    rows = [
        _group_kpis(
            name,
            period,
            groups[name],
            group_contracts[name],
            group_answers[name],
            group_deals[name],
            rates,
        )
        for name in sorted(
            groups,
            key=lambda g: (-len(groups[g]), g) if by is GroupBy.top_parent else (0, g),
        )
    ]
    return KpiReport(period=period.label, by=by, rows=rows)


# --- cohort retention --------------------------------------------------------------------------


class CohortCurve(BaseModel):
    """One start-quarter cohort in one currency: retention at each month since its accounts
    started, for as many months as every account in it has lived through."""

    cohort: str  # "2025-Q1": the calendar quarter of the accounts' first contract start
    currency: str
    accounts: int
    start_arr: float
    months: list[int]
    logo_retention: list[float]
    arr_retention: list[float | None]


class CohortRetention(BaseModel):
    as_of: date
    max_months: int
    cohorts: list[CohortCurve]
    years: list[CohortCurve] = Field(
        default_factory=list, description="The cohorts pooled by start year, per currency"
    )
    years_all_currencies: list[CohortCurve] = Field(
        default_factory=list,
        description="Logo retention pooled by start year across currencies (no ARR)",
    )
    computed_on: date | None = Field(
        None, description="The day of the data these stored curves were computed on"
    )


def add_months_clamped(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day: 2025-01-31 + 1 → 2025-02-28."""
    first = _add_months(date(day.year, day.month, 1), months)
    last_day = (_add_months(first, 1) - timedelta(days=1)).day
    return first.replace(day=min(day.day, last_day))


# Accounts share start days (a few a day on a big book): each month's day is computed once.
_month_day = functools.lru_cache(maxsize=1 << 16)(add_months_clamped)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def cohort_retention(
    contracts: Sequence[ContractFact], as_of: date, *, max_months: int = 24
) -> CohortRetention:
    """Logo and ARR retention by start-quarter cohort over months since start.

    An account starts on its first contract's ``starts_on``; its cohort is that quarter and the
    currency of its ARR that day (ARR is never summed across currencies). At month *m* each
    account is looked at on its own start + *m* months (clamped to the month's end):
    - logo retention = accounts with ARR > 0 that day ÷ accounts in the cohort;
    - ARR retention = Σ ARR that day ÷ Σ ARR on the start days (net: expansion counts).
    A cohort's curve stops at the last month every one of its accounts has reached by ``as_of``,
    so each point has the whole cohort as its denominator.

    >>> year = [ContractFact(1, "USD", date(2025, 1, 1), date(2025, 12, 31), 100.0),
    ...         ContractFact(2, "USD", date(2025, 2, 1), date(2025, 7, 31), 100.0)]
    >>> curve = cohort_retention(year, date(2025, 9, 1)).cohorts[0]
    >>> (curve.cohort, curve.months[-1], curve.logo_retention[6], curve.arr_retention[6])
    ('2025-Q1', 7, 0.5, 0.5)
    """
    if max_months < 0:
        raise InvalidInput(f"max_months: {max_months} is negative")
    by_account: dict[int, list[ContractFact]] = defaultdict(list)
    for contract in contracts:
        by_account[contract.account_id].append(contract)
    members: dict[tuple[str, str], list[tuple[date, list[ContractFact]]]] = defaultdict(list)
    for own in by_account.values():
        start = min(c.starts_on for c in own)
        starting = [c for c in own if c.starts_on == start]
        if start <= as_of:
            members[(_quarter(start), starting[0].currency)].append((start, own))
    curves = [
        _cohort_curve(cohort, currency, accounts, as_of, max_months)
        for (cohort, currency), accounts in sorted(members.items())
    ]
    return CohortRetention(
        as_of=as_of,
        max_months=max_months,
        cohorts=curves,
        years=yearly_cohorts(curves),
        years_all_currencies=yearly_cohorts(curves, by_currency=False),
    )


ALL_CURRENCIES = "all"


def yearly_cohorts(curves: Sequence[CohortCurve], *, by_currency: bool = True) -> list[CohortCurve]:
    """The start-quarter cohorts pooled by start year — a line a year instead of four, which a
    chart can show. Like a quarter's, a year's line stops at the last month all its quarters
    have reached, so every point has the whole year as its denominator (letting the youngest
    quarter drop out made lines jump back up when a quarter that had just lost accounts left
    the pool): logo = Σ retained accounts ÷ Σ accounts; ARR = Σ ARR then ÷ Σ ARR at start,
    within one currency. Without ``by_currency`` logos pool across currencies (an account is
    an account) and ARR is left out (it is never summed across currencies).

    >>> q = [CohortCurve(cohort="2025-Q1", currency="USD", accounts=3, start_arr=300.0,
    ...                  months=[0, 1, 2], logo_retention=[1.0, 1.0, 2 / 3],
    ...                  arr_retention=[1.0, 1.0, 0.5]),
    ...      CohortCurve(cohort="2025-Q2", currency="USD", accounts=1, start_arr=100.0,
    ...                  months=[0, 1], logo_retention=[1.0, 0.0], arr_retention=[1.0, 0.0])]
    >>> year = yearly_cohorts(q)[0]
    >>> (year.cohort, year.accounts, year.logo_retention, year.arr_retention)
    ('2025', 4, [1.0, 0.75], [1.0, 0.75])
    """
    groups: dict[tuple[str, str], list[CohortCurve]] = defaultdict(list)
    for curve in curves:
        currency = curve.currency if by_currency else ALL_CURRENCIES
        groups[(curve.cohort[:4], currency)].append(curve)
    pooled = []
    for (year, currency), members in sorted(groups.items()):
        reached = min(len(c.months) for c in members)
        accounts = sum(c.accounts for c in members)
        logos: list[float] = []
        arrs: list[float | None] = []
        for m in range(reached):
            logos.append(sum(c.accounts * c.logo_retention[m] for c in members) / accounts)
            weights = [(c.start_arr, c.arr_retention[m]) for c in members]
            start = sum(w for w, _ in weights)
            known = by_currency and start > 0 and all(r is not None for _, r in weights)
            arrs.append(sum(w * (r or 0.0) for w, r in weights) / start if known else None)
        pooled.append(
            CohortCurve(
                cohort=year,
                currency=currency,
                accounts=accounts,
                start_arr=sum(c.start_arr for c in members) if by_currency else 0.0,
                months=list(range(reached)),
                logo_retention=logos,
                arr_retention=arrs,
            )
        )
    return pooled


def _arr_of(own: Sequence[ContractFact], day: date, currency: str) -> float:
    """One account's ARR in ``currency`` on ``day``, without :func:`arr_on`'s dictionary (this
    runs accounts × months times)."""
    return sum(c.arr for c in active_on(own, day) if c.currency == currency)


def _cohort_curve(
    cohort: str,
    currency: str,
    accounts: list[tuple[date, list[ContractFact]]],
    as_of: date,
    max_months: int,
) -> CohortCurve:
    latest_start = max(start for start, _ in accounts)
    months = [m for m in range(max_months + 1) if _month_day(latest_start, m) <= as_of]
    start_arr = sum(_arr_of(own, start, currency) for start, own in accounts)
    logos, arrs = [], []
    for m in months:
        values = [_arr_of(own, _month_day(start, m), currency) for start, own in accounts]
        logos.append(sum(1 for v in values if v > 0) / len(accounts))
        arrs.append(_ratio(sum(values), start_arr))
    return CohortCurve(
        cohort=cohort,
        currency=currency,
        accounts=len(accounts),
        start_arr=start_arr,
        months=months,
        logo_retention=logos,
        arr_retention=arrs,
    )


def truncate_cohorts(retention: CohortRetention, max_months: int) -> CohortRetention:
    """The curves up to ``max_months``: exactly what :func:`cohort_retention` gives with that
    limit (a curve's months are a prefix of the longer limit's, and a year stops where its
    shortest quarter does), so figures stored with a long limit serve every shorter one.
    """

    def cut(curves: list[CohortCurve]) -> list[CohortCurve]:
        return [
            c.model_copy(
                update={
                    "months": c.months[: max_months + 1],
                    "logo_retention": c.logo_retention[: max_months + 1],
                    "arr_retention": c.arr_retention[: max_months + 1],
                }
            )
            for c in curves
        ]

    return retention.model_copy(
        update={
            "max_months": max_months,
            "cohorts": cut(retention.cohorts),
            "years": cut(retention.years),
            "years_all_currencies": cut(retention.years_all_currencies),
        }
    )
