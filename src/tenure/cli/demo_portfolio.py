"""The demo's portfolio summary: customers, ARR by segment, renewals due, last year's churn.

Apart from ``cli/demo.py`` so that pydantic loads when the demo runs, not on every
``tenure`` start-up.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from tenure.cli.context import console

RENEWAL_WINDOW_DAYS = 120


class SegmentArr(BaseModel):
    segment: str
    currency: str
    accounts: int
    arr: float


class UpcomingRenewal(BaseModel):
    account: str
    name: str
    segment: str | None
    ends_on: date
    arr: float
    currency: str
    notice_on: date | None


class ChurnedArr(BaseModel):
    currency: str
    accounts: int
    arr: float


class PortfolioSummary(BaseModel):
    as_of: date
    customers: int
    arr_by_segment: list[SegmentArr]
    renewals: list[UpcomingRenewal]
    churned: list[ChurnedArr]


def portfolio_summary(session: Any, as_of: date) -> PortfolioSummary:
    """Customers, ARR by segment and currency, renewals in the next 120 days, last year's churn.

    A customer holds a contract active on ``as_of`` (tenure.accounts.arr). Monthly subscriptions
    renew continuously, so the renewal list holds annual and multi-year terms only. ARR never
    sums across currencies.
    """
    import sqlalchemy as sa

    from tenure.accounts.arr import active_clause
    from tenure.accounts.renewal import renewal_on_sql
    from tenure.model import Account, Contract

    running = active_clause(as_of)
    by_segment = session.execute(
        sa.select(
            Account.segment,
            Contract.currency,
            sa.func.count(sa.distinct(Account.id)),
            sa.func.sum(Contract.arr),
        )
        .join(Contract, Contract.account_id == Account.id)
        .where(running)
        .group_by(Account.segment, Contract.currency)
        .order_by(Account.segment, Contract.currency)
    ).all()
    customers = session.execute(
        sa.select(sa.func.count(sa.distinct(Contract.account_id))).where(running)
    ).scalar_one()
    renewals = session.execute(
        sa.select(
            Account.external_id,
            Account.name,
            Account.segment,
            Contract.ends_on,
            Contract.arr,
            Contract.currency,
            Contract.notice_on,
        )
        .join(Contract, Contract.account_id == Account.id)
        .where(
            running,
            renewal_on_sql() < as_of + timedelta(days=RENEWAL_WINDOW_DAYS),
        )
        .order_by(Contract.ends_on, Account.external_id)
    ).all()
    churned = session.execute(
        sa.select(
            Contract.currency,
            sa.func.count(sa.distinct(Contract.account_id)),
            sa.func.sum(Contract.arr),
        )
        .where(
            Contract.renewal_outcome == "churned",
            Contract.outcome_on >= as_of - timedelta(days=365),
            Contract.outcome_on < as_of,
        )
        .group_by(Contract.currency)
        .order_by(Contract.currency)
    ).all()
    return PortfolioSummary(
        as_of=as_of,
        customers=customers,
        arr_by_segment=[
            SegmentArr(segment=s or "—", currency=c, accounts=n, arr=float(a or 0))
            for s, c, n, a in by_segment
        ],
        renewals=[
            UpcomingRenewal(
                account=e, name=n, segment=s, ends_on=d, arr=float(a), currency=c, notice_on=notice
            )
            for e, n, s, d, a, c, notice in renewals
        ],
        churned=[ChurnedArr(currency=c, accounts=n, arr=float(a or 0)) for c, n, a in churned],
    )


def render_summary(summary: PortfolioSummary) -> None:
    from rich.table import Table

    console.print(f"[bold]Portfolio as of {summary.as_of}[/]: {summary.customers:,} customers")
    arr = Table(title="ARR by segment")
    for column in ("segment", "currency", "accounts", "ARR"):
        arr.add_column(column, justify="right" if column in ("accounts", "ARR") else "left")
    for row in summary.arr_by_segment:
        arr.add_row(row.segment, row.currency, f"{row.accounts:,}", f"{row.arr:,.0f}")
    console.print(arr)
    noticed = sum(1 for r in summary.renewals if r.notice_on)
    renewals = Table(
        title=f"Renewals in the next {RENEWAL_WINDOW_DAYS} days: {len(summary.renewals)} "
        f"({noticed} gave notice) — largest 10"
    )
    for column in ("account", "name", "segment", "ends on", "ARR", "notice"):
        renewals.add_column(column, justify="right" if column == "ARR" else "left", no_wrap=True)
    for r in sorted(summary.renewals, key=lambda r: -r.arr)[:10]:
        renewals.add_row(
            r.account,
            r.name,
            r.segment or "—",
            str(r.ends_on),
            f"{r.arr:,.0f} {r.currency}",
            str(r.notice_on or ""),
        )
    console.print(renewals)
    if not summary.churned:
        console.print("No churn in the last 12 months.")
    for churn in summary.churned:
        console.print(
            f"Churned in the last 12 months: {churn.accounts} accounts, "
            f"{churn.arr:,.0f} {churn.currency} ARR",
            highlight=False,
        )
