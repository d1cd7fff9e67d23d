"""The renewal forecast's arithmetic on a hand-checked book (portfolio/forecast.py is pure)."""

from __future__ import annotations

from datetime import date

from tenure.portfolio.forecast import (
    ForecastCategory,
    Renewal,
    categorize,
    forecast,
)

AS_OF = date(2026, 5, 20)

# Every category and reason once, in two currencies over May–July 2026 (Q2 and Q3).
BOOK = [
    # Booked renewal: commit, all of its ARR expected whatever the model says.
    Renewal(1, "Booked", date(2026, 5, 31), 1_000.0, "USD", churn_probability=0.6, booked=True),
    # Low churn risk: commit, 1,000 × (1 − 0.05) = 950.
    Renewal(2, "Steady", date(2026, 6, 10), 1_000.0, "USD", churn_probability=0.05),
    # Middling: upside, 2,000 × 0.8 = 1,600.
    Renewal(3, "Middling", date(2026, 6, 20), 2_000.0, "USD", churn_probability=0.2),
    # High risk: at risk, 4,000 × 0.6 = 2,400.
    Renewal(4, "Shaky", date(2026, 6, 30), 4_000.0, "USD", churn_probability=0.4),
    # Notice given: at risk, a known loss, nothing expected.
    Renewal(
        5,
        "Leaving",
        date(2026, 7, 1),
        3_000.0,
        "USD",
        churn_probability=0.2,
        notice_on=date(2026, 4, 2),
    ),
    # Red health at low risk: at risk, still weighted by its probability (500 × 0.9 = 450).
    Renewal(6, "Red", date(2026, 7, 15), 500.0, "EUR", churn_probability=0.1, health_band="red"),
    # Not scored: upside, its ARR said apart and not weighted.
    Renewal(7, "Unscored", date(2026, 7, 20), 700.0, "EUR"),
    # Payment overdue: at risk.
    Renewal(8, "Overdue", date(2026, 7, 25), 300.0, "EUR", churn_probability=0.05, past_due=True),
    # Outside the three months: left out.
    Renewal(9, "Later", date(2026, 8, 1), 9_999.0, "USD", churn_probability=0.05),
]


def test_categories_and_reasons() -> None:
    got = {r.account_name: categorize(r) for r in BOOK}
    assert got == {
        "Booked": (ForecastCategory.commit, "renewal booked"),
        "Steady": (ForecastCategory.commit, "5 % chance of churn"),
        "Middling": (ForecastCategory.upside, "20 % chance of churn"),
        "Shaky": (ForecastCategory.at_risk, "40 % chance of churn"),
        "Leaving": (ForecastCategory.at_risk, "cancellation announced on 2026-04-02"),
        "Red": (ForecastCategory.at_risk, "health is red"),
        "Unscored": (ForecastCategory.upside, "not scored by the churn model"),
        "Overdue": (ForecastCategory.at_risk, "payment overdue"),
        "Later": (ForecastCategory.commit, "5 % chance of churn"),
    }


def test_month_and_quarter_totals_per_currency() -> None:
    report = forecast(BOOK, AS_OF, months=3)
    months = {(p.period, p.currency): (p.renewals, p.arr, p.expected_arr) for p in report.months}
    assert months == {
        ("2026-05", "USD"): (1, 1_000.0, 1_000.0),
        ("2026-06", "USD"): (3, 7_000.0, 950.0 + 1_600.0 + 2_400.0),
        ("2026-07", "USD"): (1, 3_000.0, 0.0),
        ("2026-07", "EUR"): (3, 1_500.0, 450.0 + 285.0),
    }
    quarters = {
        (p.period, p.currency): (p.arr, p.expected_arr, p.unscored_arr) for p in report.quarters
    }
    assert quarters == {
        ("2026-Q2", "USD"): (8_000.0, 5_950.0, 0.0),
        ("2026-Q3", "USD"): (3_000.0, 0.0, 0.0),
        ("2026-Q3", "EUR"): (1_500.0, 735.0, 700.0),
    }
    june = next(p for p in report.months if p.period == "2026-06")
    assert [(c.category, c.renewals, c.arr, c.expected_arr) for c in june.categories] == [
        (ForecastCategory.commit, 1, 1_000.0, 950.0),
        (ForecastCategory.upside, 1, 2_000.0, 1_600.0),
        (ForecastCategory.at_risk, 1, 4_000.0, 2_400.0),
    ]
    # Renewals listed soonest first; the one after the window is not.
    assert [r.account_name for r in report.renewals][:2] == ["Booked", "Steady"]
    assert "Later" not in {r.account_name for r in report.renewals}
