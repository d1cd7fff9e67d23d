"""The success KPIs and cohort retention on the command line (top-level commands)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from tenure.cli.as_of import AS_OF, as_of_day
from tenure.cli.context import console, handle_errors, print_json, unit_of_work
from tenure.cli.success.common import JSON, pct, table
from tenure.errors import InvalidInput

if TYPE_CHECKING:
    from tenure.success.kpis import CurrencyKpis, KpiReport, ReportingKpis


def _last_quarter() -> str:
    today = datetime.now(UTC).date()
    quarter = (today.month - 1) // 3  # the current quarter, 0-based; the last full one is before
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


@handle_errors
def kpis_command(
    period: str | None = typer.Option(
        None, "--period", help="2025, 2025-Q3, 2025-07 or A..B (default: the last full quarter)"
    ),
    by: str = typer.Option(
        "all", "--by", help="all, segment, csm or top_parent (one row per group of companies)"
    ),
    by_currency: bool = typer.Option(
        False, "--by-currency", help="One row per currency instead of the reporting currency"
    ),
    as_json: bool = JSON,
) -> None:
    """NRR, GRR, churn, expansion, renewal rate, utilization, adoption, TTV, NPS — in the
    reporting currency (tenure fx), or per currency with --by-currency."""
    from tenure.success import kpis_service
    from tenure.success.kpis import GroupBy, parse_period

    try:
        group = GroupBy(by)
    except ValueError:
        raise InvalidInput(f"--by {by!r}: use all, segment, csm or top_parent") from None
    with unit_of_work() as session:
        report = kpis_service.kpi_report(session, parse_period(period or _last_quarter()), group)
    if as_json:
        print_json(report)
        return
    rows = []
    for r in report.rows:
        figures: list[CurrencyKpis | ReportingKpis | None]
        if by_currency or r.reporting is None:
            figures = list(r.by_currency) or [None]
        else:
            figures = [r.reporting]
        for c in figures:
            rows.append(
                [
                    r.group,
                    c.currency if c else "-",
                    c.cohort_accounts if c else 0,
                    pct(c.nrr if c else None),
                    pct(c.grr if c else None),
                    pct(c.logo_churn if c else None),
                    pct(c.arr_churn if c else None),
                    _money(c.expansion_arr) if c else "-",
                    pct(r.renewal_rate),
                    pct(r.license_utilization),
                    pct(r.feature_adoption),
                    r.time_to_value_days,
                    "n/a" if r.nps is None else f"{r.nps:.0f} ({r.nps_responses})",
                    f"{r.new_customers} ({pct(r.good_fit_share)})",
                ]
            )
    table(
        f"KPIs {report.period}",
        [
            "group",
            "cur",
            "cohort",
            "NRR",
            "GRR",
            "logo churn",
            "ARR churn",
            "expansion",
            "renewal",
            "utilization",
            "adoption",
            "TTV days",
            "NPS (n)",
            "new (good fit)",
        ],
        rows,
    )
    booked = [
        [
            r.group,
            b.kind.replace("_", " "),
            b.currency,
            b.won_deals,
            f"{b.won_amount:,.2f}",
            b.lost_deals,
            pct(b.win_rate),
        ]
        for r in report.rows
        for b in r.bookings
    ]
    if booked:
        table(
            f"Bookings {report.period}: new business and expansion",
            ["group", "kind", "cur", "won", "won amount", "lost", "win rate"],
            booked,
        )
    if not by_currency:
        console.print(_conversion_note(report))


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _conversion_note(report: KpiReport) -> str:
    """How the reporting-currency figures were made: the rates' dates, or the missing rates."""
    shown = [r.reporting for r in report.rows if r.reporting is not None]
    if not shown:
        return ""
    currency = shown[0].currency
    missing = sorted({m for k in shown for m in k.missing})
    days = sorted({rate.rate_on.isoformat() for k in shown for rate in k.rates})
    note = f"ARR figures in {currency}"
    if days:
        note += f", converted at the rates of {', '.join(days)} (constant currency)"
    if missing:
        note += f"; no rate for {', '.join(missing)}: ARR figures left out (tenure fx import)"
    return note + "; --by-currency shows each currency apart."


@handle_errors
def cohorts_command(
    months: int = typer.Option(24, "--months", min=1, max=120, help="Months since start to show"),
    as_of: str | None = AS_OF,
    as_json: bool = JSON,
) -> None:
    """Cohort retention: logo and ARR retention by start quarter over months since start."""
    from tenure.success.kpis_service import cohort_retention

    with unit_of_work() as session:
        report = cohort_retention(
            session, as_of_day(session, as_of, quiet=as_json), max_months=months
        )
    if as_json:
        print_json(report)
        return
    marks = [m for m in (0, 3, 6, 12, 18, 24, 36) if m <= months]
    rows = [
        [c.cohort, c.currency, c.accounts, f"{c.start_arr:,.0f}"]
        + [
            f"{pct(c.logo_retention[m])} / {pct(c.arr_retention[m])}" if m < len(c.months) else "-"
            for m in marks
        ]
        for c in report.cohorts
    ]
    columns = ["cohort", "cur", "accounts", "start ARR"] + [f"M{m} logo / ARR" for m in marks]
    table(f"Cohort retention as of {report.as_of}", columns, rows)
