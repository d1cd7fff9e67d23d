"""Stripe subscriptions mean what they mean (issue 17): a monthly subscription is one contract
in force from the day it started until it is cancelled — not a contract that ends every month —
so GRR, NRR and logo churn count a subscriber who keeps paying as retained."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from tenure.accounts.arr import arr_by_currency
from tenure.accounts.renewal import renewal_on
from tenure.model import Contract
from tenure.success import kpis
from tenure.success.kpis_service import kpi_report
from tests.ingest.helpers import counts, run_import, write_rows
from tests.stored import stored

STRIPE = Path(__file__).parents[1] / "fixtures" / "exports" / "stripe"
CUSTOMERS = ["cus_QTwoYears", "cus_QCanceled", "cus_QPastDue"]


def imported(session: Session, tmp_path: Path) -> dict[str, int]:
    rows = [{"external_id": c, "name": c} for c in CUSTOMERS]
    run_import(session, "accounts", write_rows(tmp_path, "customers", "csv", rows))
    export = STRIPE / "subscriptions_monthly_history.jsonl"
    report = run_import(session, "contracts", export, "stripe-subscriptions")
    assert counts(report) == (3, 0, 0)
    return {
        c: stored(session, Contract, s).account_id for c, s in zip(CUSTOMERS, SUBS, strict=True)
    }


SUBS = ["sub_1QMonAbCdEfGh08", "sub_1QCanAbCdEfGh09", "sub_1QPdeAbCdEfGh10"]


def test_a_subscription_is_stored_from_the_day_it_started(session: Session, tmp_path: Path) -> None:
    imported(session, tmp_path)
    monthly, cancelled, overdue = (stored(session, Contract, s) for s in SUBS)
    # From start_date, not the month being paid for; ends_on is the last day of the current period.
    assert (str(monthly.starts_on), str(monthly.ends_on)) == ("2024-11-15", "2026-12-14")
    assert (monthly.auto_renews, monthly.billing_period, monthly.arr) == (True, "monthly", 5_940)
    assert (cancelled.status, str(cancelled.outcome_on)) == ("cancelled", "2026-03-04")
    assert (overdue.status, overdue.payment_overdue) == ("active", True)
    assert monthly.payment_overdue is False
    # A monthly subscription renewing itself has no renewal to prepare.
    assert renewal_on(monthly) is None


def test_a_monthly_subscriber_paying_for_two_years_counts_as_retained(
    session: Session, tmp_path: Path
) -> None:
    ids = imported(session, tmp_path)
    year = kpis.Period(date(2025, 11, 20), date(2026, 11, 20))
    usd = kpi_report(session, year, kpis.GroupBy.all).rows[0].by_currency[0]
    # Start cohort: all three (the two-year subscriber, the one cancelled in March, the one
    # past due). Only the cancelled one is lost: 5,940 + 1,176 of 5,940 + 5,880 + 1,176.
    assert (usd.cohort_accounts, usd.churned_accounts) == (3, 1)
    assert usd.logo_churn == 1 / 3
    assert usd.grr == (5_940 + 1_176) / (5_940 + 5_880 + 1_176)
    assert usd.nrr == usd.grr
    # Continuing ARR: in force on days its current period never covered, until cancelled.
    assert arr_by_currency(session, date(2025, 2, 1)) == {
        (ids["cus_QTwoYears"], "USD"): 5_940.0,
        (ids["cus_QCanceled"], "USD"): 5_880.0,
    }
    assert arr_by_currency(session, date(2027, 6, 1)) == {
        (ids["cus_QTwoYears"], "USD"): 5_940.0,
        (ids["cus_QPastDue"], "USD"): 1_176.0,
    }
    # The cancelled one is in force through the day it ended, not after.
    assert (ids["cus_QCanceled"], "USD") in arr_by_currency(session, date(2026, 3, 4))
    assert (ids["cus_QCanceled"], "USD") not in arr_by_currency(session, date(2026, 3, 5))
