"""Parent/child roll-up on Account 360 and its API twin, hand-checked (SQLite and PostgreSQL).

Globex (USD 50,000, health 80, ARR at risk 5,000) has two children: Initech (USD 80,000, health
45, ARR at risk 20,000) and, below Initech, Umbrella (EUR 10,000, health 60, ARR at risk EUR 1,000
— its risk score's currency is set to EUR). Rolled up from Globex: USD 130,000 + EUR 10,000,
risk-weighted USD 25,000 + EUR 1,000, worst health Initech's 45, renewals Initech (90 days),
Umbrella (100), Globex (200).
"""

from __future__ import annotations

from tenure.model import Account
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.factories import sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def build_family(console: Console) -> None:
    book = console.book
    with console.session() as session:
        globex, initech, umbrella = (
            session.get_one(Account, a.id) for a in (book.globex, book.initech, book.umbrella)
        )
        initech.parent_id = globex.id
        umbrella.parent_id = initech.id
        for acct, score, at_risk in (
            (globex, 80, 5_000),
            (initech, 45, 20_000),
            (umbrella, 60, 1_000),
        ):
            f.health_score(session, acct, as_of=book.today, score=score)
            risk = f.churn_risk_score(
                session, acct, as_of=book.today, probability=0.1, arr_at_risk=at_risk
            )
            if acct is umbrella:
                risk.currency = "EUR"
        session.commit()


def test_the_family_rolls_up_on_account_360(console: Console) -> None:
    build_family(console)
    headers = headers_for(console, "ada@example.com")
    body = console.client.get(f"/api/v1/accounts/{console.book.globex.id}", headers=headers).json()
    rollup = body["rollup"]
    assert rollup["accounts"] == 3
    assert rollup["arr_by_currency"] == [
        {"currency": "EUR", "arr": 10_000.0},
        {"currency": "USD", "arr": 130_000.0},
    ]
    assert rollup["arr_at_risk_by_currency"] == [
        {"currency": "EUR", "arr": 1_000.0},
        {"currency": "USD", "arr": 25_000.0},
    ]
    assert rollup["arr_converted"]["amount"] is None and rollup["arr_converted"]["missing"] == [
        "EUR"
    ]
    assert (rollup["worst_health"]["name"], rollup["worst_health"]["health_score"]) == (
        "Initech",
        45,
    )
    assert [m["name"] for m in rollup["members"]] == ["Initech", "Umbrella", "Globex"]
    # Initech sees its own branch, and its parent.
    initech = console.client.get(
        f"/api/v1/accounts/{console.book.initech.id}", headers=headers
    ).json()
    assert initech["rollup"]["accounts"] == 2 and initech["parent"]["name"] == "Globex"
    leaf = console.client.get(f"/api/v1/accounts/{console.book.umbrella.id}", headers=headers)
    assert leaf.json()["rollup"] is None
    sign_in(console.client, "ada@example.com")
    html = console.client.get(f"/accounts/{console.book.globex.id}").text
    assert "With the 2 accounts below it" in html
    assert "130,000 USD" in html and "25,000 USD" in html and "140,000" not in html


def test_the_portfolio_rolls_up_to_top_parents(console: Console) -> None:
    """Globex heads Initech and Umbrella: one family of 3 (USD 130,000 + EUR 10,000, never
    140,000), worst health Initech's 45, next renewal Initech's; Acme stands alone, and Hooli
    (churned) too when churned accounts are asked for. Filtered to Umbrella's segment (SMB), the
    family is still named after Globex."""
    build_family(console)
    headers = headers_for(console, "ada@example.com")
    url = "/api/v1/portfolio/top-parents"
    body = console.client.get(url, headers=headers).json()
    families = {f["name"]: f["rollup"] for f in body["families"]}
    assert sorted(families) == ["Acme", "Globex"] and body["accounts"] == 4
    everyone = console.client.get(url, params={"churned": "true"}, headers=headers).json()
    assert [(f["name"], f["rollup"]["accounts"]) for f in everyone["families"]] == [
        ("Acme", 1),
        ("Globex", 3),
        ("Hooli", 1),
    ]
    globex = families["Globex"]
    assert globex["accounts"] == 3
    assert globex["arr_by_currency"] == [
        {"currency": "EUR", "arr": 10_000.0},
        {"currency": "USD", "arr": 130_000.0},
    ]
    assert globex["arr_at_risk_by_currency"] == [
        {"currency": "EUR", "arr": 1_000.0},
        {"currency": "USD", "arr": 25_000.0},
    ]
    assert globex["worst_health"]["name"] == "Initech"
    assert [m["name"] for m in globex["members"]] == ["Initech", "Umbrella", "Globex"]
    assert families["Acme"]["accounts"] == 1
    # Acme (USD 120,000, all convertible) ranks before Globex, whose euros have no rate yet.
    assert [f["name"] for f in body["families"]][:2] == ["Acme", "Globex"]
    smb = console.client.get(
        "/api/v1/portfolio/top-parents", params={"segment": "SMB"}, headers=headers
    ).json()
    assert [(f["name"], f["rollup"]["accounts"]) for f in smb["families"]] == [("Globex", 1)]
    sign_in(console.client, "ada@example.com")
    assert "/portfolio/top-parents?" in console.client.get("/portfolio").text
    html = console.client.get("/portfolio/top-parents").text
    assert "130,000 USD" in html and "10,000 EUR" in html and "140,000" not in html
    assert "4 account(s) in 2 families" in html


def test_kpis_per_group_of_companies(console: Console) -> None:
    """KPIs per top parent: Globex's family (Globex, Initech, Umbrella) is one row, Acme and
    Hooli their own; the family's cohort holds its three members' contracts."""
    build_family(console)
    headers = headers_for(console, "ada@example.com")
    reports = console.client.get(
        "/api/v1/kpis", params={"quarters": 1, "by": "top_parent"}, headers=headers
    ).json()
    rows = {r["group"]: r for r in reports[0]["rows"]}
    assert sorted(rows) == ["Acme", "Globex", "Hooli"]
    cohort = {c["currency"]: c["cohort_accounts"] for c in rows["Globex"]["by_currency"]}
    assert cohort == {"EUR": 1, "USD": 2}
    sign_in(console.client, "ada@example.com")
    assert "group of companies (top parent)" in console.client.get("/kpis").text
