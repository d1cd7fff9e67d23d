"""`tenure demo` (`make demo`): a fresh data dir, the demo customer base, a portfolio summary.

The demo is a list of steps (``STEPS``) sharing one ``DemoContext``; later features add their
own step (scores, the web console) by appending to the list.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from tenure.cli.context import console, handle_errors, settings
from tenure.config import Settings
from tenure.errors import Conflict

DEMO_MARKER = ".tenure-demo"
RENEWAL_WINDOW_DAYS = 120


@dataclass
class DemoContext:
    settings: Settings
    # Preset overrides (accounts, months); empty runs the demo preset as it is.
    overrides: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    title: str
    run: Callable[[DemoContext], None]


def _is_ours_or_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir()) or (folder / DEMO_MARKER).exists()


def prepare_data_dir(ctx: DemoContext) -> None:
    """Start from an empty data dir; only a previous demo's dir is ever wiped."""
    folder = ctx.settings.data_dir
    if not _is_ours_or_empty(folder):
        raise Conflict(
            f"{folder} holds data that is not a Tenure demo; set TENURE_DATA_DIR to a new folder "
            "to run the demo"
        )
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("created by `tenure demo`; the demo wipes this folder\n")
    console.print(f"data dir: {folder.resolve()}", highlight=False)


def simulate_demo(ctx: DemoContext) -> None:
    from tenure.cli.simulate import day_progress
    from tenure.simulate import load_config, simulate_into_stores

    config = load_config("demo", overrides=ctx.overrides)
    with day_progress(f"simulating {config.accounts} accounts over {config.months} months") as bar:
        result = simulate_into_stores(config, ctx.settings, bar)
    ctx.as_of = result.as_of
    console.print(
        f"{result.rows['accounts']:,} accounts, {result.rows['contacts']:,} contacts, "
        f"{result.rows['contracts']:,} contracts, {result.events:,} events in "
        f"{result.seconds:.1f} s (config {result.config_hash}, seed {result.seed})",
        highlight=False,
    )


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

    A customer holds a contract running on ``as_of``. Monthly subscriptions renew continuously,
    so the renewal list holds annual and multi-year terms only. ARR never sums across currencies.
    """
    import sqlalchemy as sa

    from tenure.model import Account, Contract

    running = sa.and_(Contract.starts_on <= as_of, Contract.ends_on >= as_of)
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
            Contract.billing_period != "monthly",
            Contract.ends_on < as_of + timedelta(days=RENEWAL_WINDOW_DAYS),
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


def show_portfolio(ctx: DemoContext) -> None:
    from tenure.cli.context import unit_of_work

    assert ctx.as_of is not None, "the simulation step sets as_of"
    with unit_of_work(ctx.settings) as session:
        summary = portfolio_summary(session, ctx.as_of)
    ctx.facts["portfolio"] = summary
    render_summary(summary)


STEPS: list[DemoStep] = [
    DemoStep("Fresh data dir", prepare_data_dir),
    DemoStep("Simulate the demo customer base", simulate_demo),
    DemoStep("Portfolio summary", show_portfolio),
]


@handle_errors
def command(
    accounts: int | None = typer.Option(
        None, "--accounts", help="Size of the demo base (default: the demo preset's)."
    ),
    months: int | None = typer.Option(None, "--months", help="Months simulated (default: 18)."),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="Do not serve the console at the end (or TENURE_DEMO_NO_SERVE=1)."
    ),
) -> None:
    """Simulate the demo customer base into a fresh data dir and show the portfolio."""
    ctx = DemoContext(settings=settings(), overrides={"accounts": accounts, "months": months})
    for number, step in enumerate(STEPS, start=1):
        console.rule(f"[bold]{number}. {step.title}")
        step.run(ctx)
    from tenure.web.demo import serve_console

    # Always last, after every step other features append: sign-ins, then the console.
    console.rule(f"[bold]{len(STEPS) + 1}. The web console")
    serve_console(ctx.settings, no_serve=no_serve)
    typer.echo("")
