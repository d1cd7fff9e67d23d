"""Cohort retention curves on a hand-checked book (every figure below worked out by hand)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tenure.errors import InvalidInput
from tenure.success.kpis import ContractFact, add_months_clamped, cohort_retention
from tests.success.test_cli import cli_env, run  # noqa: F401  (cli_env is a fixture)

# 2025-Q1, USD — start ARR 100 + 100 + 200 = 400:
# - A starts 2025-01-01 at 100, renews 2026-01-01 at 150 (expansion);
# - B starts 2025-02-15 at 100 for a year, then leaves (last day 2026-02-14);
# - C starts 2025-03-31 at 200 on a six-month contract and leaves (last day 2025-09-30).
# 2025-Q1, EUR — E starts 2025-01-20 at 80 for a year and renews at 80: its own cohort.
# 2025-Q2, USD — D starts 2025-04-10 at 50 for a year.
# F starts after the as-of date: in no cohort.
BOOK = [
    ContractFact(1, "USD", date(2025, 1, 1), date(2025, 12, 31), 100.0),
    ContractFact(1, "USD", date(2026, 1, 1), date(2026, 12, 31), 150.0),
    ContractFact(2, "USD", date(2025, 2, 15), date(2026, 2, 14), 100.0),
    ContractFact(3, "USD", date(2025, 3, 31), date(2025, 9, 30), 200.0),
    ContractFact(5, "EUR", date(2025, 1, 20), date(2026, 1, 19), 80.0),
    ContractFact(5, "EUR", date(2026, 1, 20), date(2027, 1, 19), 80.0),
    ContractFact(4, "USD", date(2025, 4, 10), date(2026, 4, 9), 50.0),
    ContractFact(6, "USD", date(2026, 5, 1), date(2027, 4, 30), 70.0),
]
AS_OF = date(2026, 4, 1)


def test_cohorts_by_start_quarter_and_currency() -> None:
    report = cohort_retention(BOOK, AS_OF)
    assert [(c.cohort, c.currency, c.accounts, c.start_arr) for c in report.cohorts] == [
        ("2025-Q1", "EUR", 1, 80.0),
        ("2025-Q1", "USD", 3, 400.0),
        ("2025-Q2", "USD", 1, 50.0),
    ]


def test_q1_usd_curve_by_hand() -> None:
    q1 = cohort_retention(BOOK, AS_OF).cohorts[1]
    # C, the latest starter (2025-03-31), reached month 12 on 2026-03-31 ≤ 2026-04-01; not 13.
    assert q1.months == list(range(13))
    # Months 0–6 everyone pays (C's month 6 is 2025-09-30, its last day).
    assert q1.logo_retention[:7] == [1.0] * 7 and q1.arr_retention[:7] == [1.0] * 7
    # Month 7: C gone (2025-10-31): A 100 + B 100 = 200 of 400.
    assert (q1.logo_retention[7], q1.arr_retention[7]) == (2 / 3, 0.5)
    # Month 11: A 100 (2025-12-01) + B 100 (2026-01-15) = 200.
    assert (q1.logo_retention[11], q1.arr_retention[11]) == (2 / 3, 0.5)
    # Month 12: A renewed at 150 (2026-01-01); B gone (2026-02-15): 150 of 400 = 0.375.
    assert (q1.logo_retention[12], q1.arr_retention[12]) == (1 / 3, 0.375)


def test_a_renewal_on_the_day_keeps_the_logo_and_young_cohorts_stop_early() -> None:
    eur, _, q2 = cohort_retention(BOOK, AS_OF).cohorts
    # E's month 12 is 2026-01-20, the renewal's first day: retained at 80 of 80.
    assert eur.months[-1] == 14 and eur.logo_retention[12] == 1.0 and eur.arr_retention[12] == 1.0
    # D started 2025-04-10: month 11 (2026-03-10) is the last one reached by 2026-04-01.
    assert q2.months == list(range(12)) and set(q2.arr_retention) == {1.0}


def test_max_months_and_bad_input() -> None:
    assert cohort_retention(BOOK, AS_OF, max_months=3).cohorts[1].months == [0, 1, 2, 3]
    assert cohort_retention([], AS_OF).cohorts == []
    with pytest.raises(InvalidInput, match="max_months"):
        cohort_retention(BOOK, AS_OF, max_months=-1)


def test_month_end_clamping() -> None:
    assert add_months_clamped(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months_clamped(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months_clamped(date(2025, 3, 31), 12) == date(2026, 3, 31)


@pytest.mark.usefixtures("cli_env")
def test_cli_renders_the_same_report() -> None:
    """`tenure cohorts`: acme (1000 USD, to 2026-12-31) and gone (400 USD, left 2025-12-31)
    both started 2025-01-01; at month 12 (2026-01-01) only acme pays: 1 of 2, 1000 of 1400."""
    report = json.loads(run("cohorts", "--as-of", "2026-03-01", "--months", "12", "--json"))
    (q1,) = report["cohorts"]
    assert (q1["cohort"], q1["currency"], q1["accounts"], q1["start_arr"]) == (
        "2025-Q1",
        "USD",
        2,
        1400.0,
    )
    assert q1["months"] == list(range(13))
    assert (q1["logo_retention"][12], q1["arr_retention"][12]) == (0.5, 1000 / 1400)
    table = run("cohorts", "--as-of", "2026-03-01", "--months", "12")
    assert "2025-Q1" in table and "50.0% / 71.4%" in table


def test_cohorts_pooled_by_start_year_by_hand() -> None:
    """Issue 19: ~26 quarter lines crowded the charts; a line per start year reads. 2025 in USD
    pools Q1 (A, B, C: 400) and Q2 (D: 50, which reached month 11 by 2026-04-01 — its month
    12 is 2026-04-10), so the year's line stops at month 11, as a quarter's would."""
    report = cohort_retention(BOOK, AS_OF)
    usd = next(c for c in report.years if c.currency == "USD")
    assert (usd.cohort, usd.accounts, usd.start_arr) == ("2025", 4, 450.0)
    assert usd.months == list(range(12))
    # Month 7: Q1 keeps A, B (2 of 3; 200 of 400), Q2 keeps D (1 of 1; 50 of 50).
    assert usd.logo_retention[7] == 3 / 4 and usd.arr_retention[7] == 250 / 450
    # Across currencies logos pool (E in EUR is retained at 7) and ARR is not summed.
    (every,) = report.years_all_currencies
    assert (every.currency, every.accounts) == ("all", 5)
    assert every.logo_retention[7] == 4 / 5 and set(every.arr_retention) == {None}
