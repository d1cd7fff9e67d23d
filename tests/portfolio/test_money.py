"""An account paying USD and EUR never shows one summed figure: not on the portfolio page, in
the API, in the CSV export, on Account 360 or on Today; a total exists only converted at dated
rates, saying their date, and a missing rate is said (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tenure.model import Contract
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def add_euros(console: Console) -> None:
    """Acme (USD 120,000 in the named book) also pays EUR 50,000, renewing in 60 days."""
    with console.session() as session:
        acme = session.get_one(type(console.book.acme), console.book.acme.id)
        f.contract(
            session,
            acme,
            arr=50_000,
            currency="EUR",
            starts_on=console.book.today - timedelta(days=300),
            ends_on=console.book.today + timedelta(days=60),
        )
        session.commit()


def import_rates(console: Console, text: str) -> None:
    headers = {**headers_for(console, "ada@example.com"), "Content-Type": "text/csv"}
    response = console.client.post("/api/v1/fx/rates", content=text, headers=headers)
    assert response.status_code == 200, response.text


def test_a_two_currency_account_shows_both_figures_and_no_sum(console: Console) -> None:
    add_euros(console)
    headers = headers_for(console, "ada@example.com")
    acme_id = console.book.acme.id
    api = console.client.get(f"/api/v1/accounts/{acme_id}", headers=headers).json()["account"]
    assert (api["arr"], api["currency"]) == (None, "multiple")
    assert api["arr_by_currency"] == [
        {"currency": "EUR", "arr": 50_000.0},
        {"currency": "USD", "arr": 120_000.0},
    ]
    # The book is mostly USD, so USD reports; no EUR rate yet: no total, and it says why.
    assert api["arr_converted"]["amount"] is None
    assert api["arr_converted"]["missing"] == ["EUR"]

    sign_in(console.client, "ada@example.com")
    for page in (f"/accounts/{acme_id}", "/portfolio"):
        html = console.client.get(page).text
        assert "120,000 USD" in html and "50,000 EUR" in html, page
        assert "170,000" not in html, page
        assert "no USD total: no rate for EUR" in html, page
    exported = list(csv.DictReader(io.StringIO(console.client.get("/portfolio.csv").text)))
    acme = next(r for r in exported if r["name"] == "Acme")
    assert (acme["arr"], acme["currency"], acme["arr_by_currency"]) == (
        "",
        "multiple",
        "EUR 50000.0; USD 120000.0",
    )
    assert (acme["arr_in_reporting_currency"], acme["missing_rates"]) == ("", "EUR")
    listed = console.client.get("/api/v1/accounts?limit=50", headers=headers).json()["items"]
    assert all(r["arr"] != 170_000 for r in listed)


def test_with_a_dated_rate_the_total_is_converted_and_says_the_date(console: Console) -> None:
    add_euros(console)
    day = console.book.today
    import_rates(
        console,
        "date,currency,rate\n"
        f"{day - timedelta(days=9)},EUR,1.05\n{day - timedelta(days=2)},EUR,1.08\n"
        f"{day + timedelta(days=5)},EUR,2.00\n",  # a later rate is not used for today
    )
    headers = headers_for(console, "ada@example.com")
    acme_id = console.book.acme.id
    api = console.client.get(f"/api/v1/accounts/{acme_id}", headers=headers).json()["account"]
    # 120,000 USD + 50,000 EUR × 1.08 (the latest on or before today) = 174,000 USD
    assert api["arr_converted"]["amount"] == 174_000.0
    assert api["arr_converted"]["rates"] == [
        {"currency": "EUR", "rate": 1.08, "rate_on": str(day - timedelta(days=2))}
    ]
    sign_in(console.client, "ada@example.com")
    html = console.client.get(f"/accounts/{acme_id}").text
    assert f"= 174,000 USD at rates of {day - timedelta(days=2)}" in html
    exported = list(csv.DictReader(io.StringIO(console.client.get("/portfolio.csv").text)))
    acme = next(r for r in exported if r["name"] == "Acme")
    assert (acme["arr_in_reporting_currency"], acme["rate_dates"]) == (
        "174000.0",
        str(day - timedelta(days=2)),
    )
    # Ranked by ARR in USD: Acme 174,000, Initech 80,000, Globex 50,000, Umbrella EUR 10,000 ×
    # 1.08 = 10,800; Hooli (churned, shown on request) has no ARR.
    ranked = console.client.get(
        "/api/v1/accounts?sort=arr&direction=desc&churned=true", headers=headers
    ).json()["items"]
    assert [r["name"] for r in ranked] == ["Acme", "Initech", "Globex", "Umbrella", "Hooli"]
    assert ranked[3]["arr_converted"]["amount"] == 10_800.0


def test_without_a_rate_euros_are_not_ranked_among_dollars(console: Console) -> None:
    with console.session() as session:
        umbrella = session.get_one(type(console.book.umbrella), console.book.umbrella.id)
        contract = session.query(Contract).filter_by(account_id=umbrella.id).one()
        contract.arr = 1_000_000  # EUR: more than any dollar account, but not comparable
        session.commit()
    headers = headers_for(console, "ada@example.com")
    ranked = console.client.get(
        "/api/v1/accounts?sort=arr&direction=desc&churned=true", headers=headers
    ).json()["items"]
    # USD accounts rank in USD; Umbrella (no EUR rate) comes after every convertible one.
    assert [r["name"] for r in ranked] == ["Acme", "Initech", "Globex", "Hooli", "Umbrella"]
    assert ranked[-1]["arr_converted"]["missing"] == ["EUR"]


def test_kpis_give_one_figure_in_the_reporting_currency_with_the_breakdown(
    console: Console,
) -> None:
    add_euros(console)
    headers = headers_for(console, "ada@example.com")
    reports = console.client.get("/api/v1/kpis?quarters=2", headers=headers).json()
    rows = [report["rows"][0] for report in reports]
    # Acme's EUR contract began 300 days ago: in both quarters' cohorts, beside the dollars.
    assert [sorted(c["currency"] for c in row["by_currency"]) for row in rows] == [
        ["EUR", "USD"],
        ["EUR", "USD"],
    ]
    # No EUR rate: no USD ARR figure, and each KPI row says which rate is missing.
    assert [(r["reporting"]["currency"], r["reporting"]["missing"]) for r in rows] == [
        ("USD", ["EUR"]),
        ("USD", ["EUR"]),
    ]
    assert [r["reporting"]["nrr"] for r in rows] == [None, None]
    sign_in(console.client, "ada@example.com")
    html = console.client.get("/kpis").text
    assert "KPIs in the reporting currency" in html
    assert "The same KPIs per currency, unconverted" in html
