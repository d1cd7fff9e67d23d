"""/api/v1/renewals and the Renewals page: the risk-weighted forecast by month, quarter,
currency and category, each renewal with its category, health, churn risk and last touch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tenure.model import BillingPeriod, ContractStatus, RenewalOutcome
from tenure.model.opportunity import Opportunity, OpportunityKind, OpportunityStatus
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)
from tests.web.test_renewals_months import opened_months


def seeded(console: Console) -> None:
    """The named book (Acme 120,000 USD in 30 days, Initech 80,000 USD in 90, Umbrella 10,000
    EUR in 100, Globex 50,000 USD in 200) plus: Acme scored 45% at its renewal, Initech's renewal
    signed ahead (pending successor), Globex scored 5% with its renewal opportunity won, Umbrella
    told us it leaves, and Hooli back on a monthly subscription that renews by itself (never a
    renewal to list)."""
    book = console.book
    today = book.today
    with console.session() as session:
        f.churn_risk_score(
            session,
            book.acme,
            as_of=today,
            probability=0.2,
            renewal_probability=0.45,
            next_renewal_on=today + timedelta(days=30),
        )
        f.churn_risk_score(session, book.globex, as_of=today, probability=0.05)
        # Globex's renewal opportunity was won two days ago (the pipeline's record): booked.
        session.add(
            Opportunity(
                account_id=book.globex.id,
                kind=OpportunityKind.renewal,
                status=OpportunityStatus.won,
                amount=50_000,
                currency="USD",
                opened_on=today - timedelta(days=40),
                closed_on=today - timedelta(days=2),
            )
        )
        f.contract(
            session,
            book.initech,
            arr=90_000,
            starts_on=today + timedelta(days=91),
            ends_on=today + timedelta(days=455),
            status=ContractStatus.pending,
        )
        umbrella = f.contract(
            session,
            book.umbrella,
            arr=5_000,
            currency="EUR",
            starts_on=today - timedelta(days=200),
            ends_on=today + timedelta(days=100),
            renewal_outcome=RenewalOutcome.churned,
            notice_on=today - timedelta(days=3),
        )
        monthly = f.contract(
            session,
            book.hooli,
            arr=6_000,
            starts_on=today - timedelta(days=400),
            ends_on=today + timedelta(days=12),
        )
        monthly.billing_period = BillingPeriod.monthly
        monthly.auto_renews = True
        session.commit()
        del umbrella


def test_the_forecast_by_category_month_and_quarter(console: Console) -> None:
    seeded(console)
    body = console.client.get(
        "/api/v1/renewals", params={"months": 12}, headers=headers_for(console, "ada@example.com")
    ).json()
    rows = {
        r["account_name"] + " " + str(r["arr"]): r for m in body["months"] for r in m["renewals"]
    }
    got = {name: (r["category"], r["reason"], r["expected_arr"]) for name, r in rows.items()}
    assert got == {
        # 45% at the renewal: at risk, 120,000 × 0.55.
        "Acme 120000.0": ("at_risk", "45 % chance of churn", 66_000.0),
        "Initech 80000.0": (
            "commit",
            f"renewal signed ({console.book.today + timedelta(days=91)} to "
            f"{console.book.today + timedelta(days=455)})",
            80_000.0,
        ),
        "Globex 50000.0": (
            "commit",
            f"renewal opportunity won on {console.book.today - timedelta(days=2)}",
            50_000.0,
        ),
        "Umbrella 10000.0": ("upside", "not scored by the churn model", None),
        "Umbrella 5000.0": (
            "at_risk",
            f"cancellation announced on {console.book.today - timedelta(days=3)}",
            0.0,
        ),
    }
    # Hooli's monthly subscription renews by itself: no renewal row.
    assert not any(r["account_name"] == "Hooli" for r in rows.values())
    # Health, churn risk and last touch per row.
    acme = rows["Acme 120000.0"]
    assert (acme["churn_probability"], acme["last_touchpoint_at"] is not None) == (0.45, True)
    # Quarters per currency: USD and EUR never summed.
    quarters = {(q["currency"]): [] for q in body["quarters"]}
    for q in body["quarters"]:
        quarters[q["currency"]].append((q["arr"], q["expected_arr"], q["unscored_arr"]))
    assert {c: tuple(map(sum, zip(*v, strict=True))) for c, v in quarters.items()} == {
        "USD": (250_000.0, 196_000.0, 0.0),
        "EUR": (15_000.0, 0.0, 10_000.0),
    }
    month_rows = [p for m in body["months"] for p in m["forecast"]]
    assert sum(p["arr"] for p in month_rows if p["currency"] == "USD") == 250_000.0


def test_the_renewals_page_shows_the_forecast_collapsed_by_month(console: Console) -> None:
    seeded(console)
    sign_in(console.client, "ada@example.com")
    page = console.client.get("/renewals").text
    assert "Renewal forecast" in page and "Expected to renew" in page
    today = console.book.today
    months = {(today + timedelta(days=d)).strftime("%Y-%m") for d in (30, 90, 100, 200)}
    assert page.count('<details class="card month"') == len(months)
    assert '<details class="card month" open' not in page  # collapsed
    rows = "".join(opened_months(console))  # a month's rows come when it is opened
    assert "cancellation announced on" in rows and "renewal signed (" in rows
    for text in (page, rows):
        assert "at_risk" not in text.replace('"at_risk"', "")  # no enum key shown as text


def test_each_renewal_gives_its_arr_in_the_reporting_currency(console: Console) -> None:
    """A euro renewal beside dollar ones says what it is worth in dollars at a dated rate (the
    book reports in USD) — or that no rate is known — in the API and on the page."""
    headers = headers_for(console, "ada@example.com")
    today = console.book.today

    def umbrella() -> dict[str, Any]:
        body = console.client.get("/api/v1/renewals", params={"months": 12}, headers=headers)
        rows = [r for m in body.json()["months"] for r in m["renewals"]]
        return next(r for r in rows if r["account_name"] == "Umbrella")

    assert umbrella()["arr_converted"]["missing"] == ["EUR"]
    sign_in(console.client, "ada@example.com")
    assert "no USD total: no rate for EUR" in "".join(opened_months(console))
    rates = f"date,currency,rate\n{today - timedelta(days=2)},EUR,1.08\n"
    response = console.client.post(
        "/api/v1/fx/rates", content=rates, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    converted = umbrella()["arr_converted"]
    # 10,000 EUR × 1.08 = 10,800 USD
    assert (converted["amount"], converted["currency"]) == (10_800.0, "USD")
    assert converted["rates"] == [
        {"currency": "EUR", "rate": 1.08, "rate_on": str(today - timedelta(days=2))}
    ]
    rows = "".join(opened_months(console))
    assert f"= 10,800 USD at rates of {today - timedelta(days=2)}" in rows
    # a dollar renewal is already in the reporting currency: no second figure beside it
    assert rows.count("at rates of") == 1


def test_a_window_figure_says_nothing_of_a_renewal_beyond_the_models_reach(
    console: Console,
) -> None:
    """The model looks 30–180 days ahead: its window figure stands for Initech's renewal in 90
    days, not for Globex's in 200 (not scored there, never 'Commit: 5% chance')."""
    today = console.book.today
    with console.session() as session:
        f.churn_risk_score(session, console.book.initech, as_of=today, probability=0.3)
        f.churn_risk_score(session, console.book.globex, as_of=today, probability=0.05)
        session.commit()
    body = console.client.get(
        "/api/v1/renewals", params={"months": 12}, headers=headers_for(console, "ada@example.com")
    ).json()
    rows = {r["account_name"]: r for m in body["months"] for r in m["renewals"]}
    initech, globex = rows["Initech"], rows["Globex"]
    assert (initech["churn_probability"], initech["expected_arr"]) == (0.3, 56_000.0)
    assert (globex["churn_probability"], globex["category"], globex["expected_arr"]) == (
        None,
        "upside",
        None,
    )
    assert globex["reason"] == "not scored by the churn model"
