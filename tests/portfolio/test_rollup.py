"""Parent/child roll-up on Account 360 and its API twin, hand-checked (SQLite and PostgreSQL).

Globex (USD 50,000, health 80, ARR at risk 5,000) has two children: Initech (USD 80,000, health
45, ARR at risk 20,000) and, below Initech, Umbrella (EUR 10,000, health 60, ARR at risk EUR 1,000
— its risk score's currency is set to EUR). Rolled up from Globex: USD 130,000 + EUR 10,000,
risk-weighted USD 25,000 + EUR 1,000, worst health Initech's 45, renewals Initech (90 days),
Umbrella (100), Globex (200).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts import fx_service, hierarchy
from tenure.model import Account, User
from tenure.portfolio import families
from tenure.portfolio.book import export_ids
from tenure.portfolio.families import roll_up, store_family_ranking, top_parents
from tenure.portfolio.rows import full_rows
from tenure.portfolio.schemas import AccountRow, FamilyRow, PortfolioQuery
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.factories import make_account, sign_in
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
    paged = console.client.get("/portfolio/top-parents?limit=1&page=2").text
    assert "Page 2 of 2" in paged and "Globex" in paged and ">Acme<" not in paged
    assert 'href="?limit=1&amp;page=1" rel="prev"' in paged


def test_kpis_per_group_of_companies(console: Console) -> None:
    """KPIs per top parent: Globex's family (Globex, Initech, Umbrella) is one row, Acme and
    Hooli their own; the family's cohort holds its three members' contracts."""
    build_family(console)
    headers = headers_for(console, "ada@example.com")
    reports = console.client.get(
        "/api/v1/kpis", params={"quarters": 1, "by": "top_parent"}, headers=headers
    ).json()
    rows = {r["group"]: r for r in reports[0]["rows"]}
    # The largest family first, then A–Z.
    assert list(rows) == ["Globex", "Acme", "Hooli"]
    cohort = {c["currency"]: c["cohort_accounts"] for c in rows["Globex"]["by_currency"]}
    assert cohort == {"EUR": 1, "USD": 2}
    sign_in(console.client, "ada@example.com")
    assert "group of companies (top parent)" in console.client.get("/kpis").text


def test_top_parents_paged_match_every_account_rolled_up(console: Console) -> None:
    """A page of families is ranked from its members' ARR alone and only the page is rolled up
    in full: one family a page, the pages hold exactly what rolling up every row of the
    portfolio export and ranking the families gives (the way before the pager). The extra
    accounts make ties and splits: Zeta (12,000 USD) and alpha's family (7,000 USD + its child
    Kid's 5,000) tie and rank by name; Split pays 5,000 USD + 5,000 EUR in one account (no EUR
    rate: after the convertible families, with Globex); Prospect has no contract (no ARR, last)."""
    build_family(console)
    add_ties_and_splits(console)
    book = console.book
    with console.session() as session:
        ada = session.get_one(User, book.ada.id)
        for params in ({}, {"churned": True}, {"sort": "risk", "direction": "desc"}):
            unpaged = every_family_rolled_up(session, PortfolioQuery(**params), ada, book.today)
            paged: list[FamilyRow] = []
            page = 1
            while True:
                found = top_parents(
                    session, PortfolioQuery(**params, limit=1, page=page), ada, book.today
                )
                assert (found.page, found.pages) == (page, len(unpaged))
                assert found.families_total == len(unpaged)
                paged += found.families
                if page == found.pages:
                    break
                page += 1
            assert [p.model_dump() for p in paged] == [u.model_dump() for u in unpaged]
        names = [f.name for f in every_family_rolled_up(session, PortfolioQuery(), ada, book.today)]
        assert names == ["Acme", "alpha", "Zeta", "Globex", "Split", "Prospect"]


def add_ties_and_splits(console: Console) -> None:
    """Zeta (Cleo, 12,000 USD) and alpha's family (Cleo, 7,000 USD + its child Kid's 5,000,
    Sam's, SMB) tie and rank by name; Split (Sam, SMB) pays 5,000 USD + 5,000 EUR in one account
    (no EUR rate); Prospect (unassigned) has no contract."""
    book = console.book
    with console.session() as session:
        start, end = book.today - timedelta(days=100), book.today + timedelta(days=200)
        zeta = make_account(session, name="Zeta", owner=book.cleo)
        alpha = make_account(session, name="alpha", owner=book.cleo)
        kid = make_account(session, name="Kid", owner=book.sam, segment="SMB")
        split = make_account(session, name="Split", owner=book.sam, segment="SMB")
        make_account(session, name="Prospect")
        kid.parent_id = alpha.id
        for acct, arr, currency in (
            (zeta, 12_000.0, "USD"),
            (alpha, 7_000.0, "USD"),
            (kid, 5_000.0, "USD"),
            (split, 5_000.0, "USD"),
            (split, 5_000.0, "EUR"),
        ):
            f.contract(session, acct, arr=arr, currency=currency, starts_on=start, ends_on=end)
        session.commit()


# The filters a manager uses on Top parents, alone and together (user ids filled in).
FILTERS: list[dict[str, object]] = [
    {"owner": "team"},
    {"owner": "me"},
    {"owner": "none"},
    {"owner": "cleo"},
    {"owner": "sam"},
    {"segment": "SMB"},
    {"segment": "Enterprise", "owner": "team"},
    {"band": "red"},
    {"band": "green"},
    {"q": "a"},
    {"q": "split"},
    {"renewal_within_days": 120},
    {"churned": True},
    {"churned": True, "owner": "sam"},
    {"sort": "arr", "direction": "desc"},
    {"sort": "risk", "direction": "desc", "owner": "team"},
    {"segment": "nobody"},
]


def test_filtered_top_parents_rank_from_the_stored_arr(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the daily run stored every account's ARR, a filtered selection (an owner, a segment,
    a band, a search, churned included, another sort…) is ranked from it — no contract read to
    rank — and its pages hold exactly what rolling up every selected row gives, for a manager
    (team: Cleo's accounts and his own) and an admin; Globex's family split by a filter ranks by
    its selected members' ARR. A contract booked after the run is ranked at once (the ARR read
    and stored again), then read from the store."""
    build_family(console)
    add_ties_and_splits(console)
    book = console.book
    with console.session() as session:
        store_family_ranking(session, book.today)
        session.commit()

    def ranked_again(*args: object) -> None:
        raise AssertionError("every account's ARR read again")

    def queries() -> list[PortfolioQuery]:
        ids = {"cleo": str(book.cleo.id), "sam": str(book.sam.id)}
        return [
            PortfolioQuery(
                **{k: ids.get(str(v), v) if k == "owner" else v for k, v in params.items()}
            )
            for params in FILTERS
        ]

    def all_match(session: Session) -> set[str]:
        heads = set()
        for email in ("max@example.com", "ada@example.com"):
            user = session.scalars(sa.select(User).where(User.email == email)).one()
            for query in queries():
                computed = every_family_rolled_up(session, query, user, book.today)
                for limit in (1, 2, 50):
                    shown = every_page(session, query, user, book.today, limit)
                    assert [r.model_dump() for r in shown] == [c.model_dump() for c in computed], (
                        email,
                        query.params(),
                        limit,
                    )
                heads.update(r.name for r in computed)
        return heads

    with console.session() as session, monkeypatch.context() as patched:
        patched.setattr(families, "arr_by_currency", ranked_again)
        # Not empty, not one family: each family is somewhere, the filters cut across them.
        assert all_match(session) == {
            "Acme",
            "Globex",
            "Hooli",
            "Zeta",
            "alpha",
            "Split",
            "Prospect",
        }
        max_ = session.scalars(sa.select(User).where(User.email == "max@example.com")).one()
        team = top_parents(session, PortfolioQuery(owner="team"), max_, book.today)
        assert [(f.name, f.rollup.accounts) for f in team.families] == [
            ("Acme", 1),
            ("Globex", 1),
            ("Zeta", 1),
            ("alpha", 1),
        ]
        smb = top_parents(session, PortfolioQuery(segment="SMB"), max_, book.today)
        # Kid alone is alpha's family here (5,000 USD, converted): first; Globex's Umbrella
        # (EUR) and Split (USD and EUR) have no converted figure, and follow by name.
        assert [(f.name, f.rollup.accounts) for f in smb.families] == [
            ("alpha", 1),
            ("Globex", 1),
            ("Split", 1),
        ]
    with console.session() as session:
        newco = make_account(session, name="Newco", owner=book.cleo)
        start, end = book.today - timedelta(days=100), book.today + timedelta(days=200)
        f.contract(session, newco, arr=900_000.0, starts_on=start, ends_on=end)
        session.commit()
        max_ = session.get_one(User, book.max.id)
        team = top_parents(session, PortfolioQuery(owner="team"), max_, book.today)
        session.commit()
        assert team.families[0].name == "Newco"
    with console.session() as session, monkeypatch.context() as patched:
        patched.setattr(families, "arr_by_currency", ranked_again)
        assert "Newco" in all_match(session)


def every_page(
    session: Session, query: PortfolioQuery, user: User, as_of: date, limit: int
) -> list[FamilyRow]:
    found = top_parents(session, query.model_copy(update={"limit": limit}), user, as_of)
    shown = list(found.families)
    for page in range(2, found.pages + 1):
        query_page = query.model_copy(update={"limit": limit, "page": page})
        shown += top_parents(session, query_page, user, as_of).families
    return shown


def test_top_parents_read_the_family_ranking_the_daily_run_stored(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the daily run stored the ranking, the default selection's pages are read from it
    (no account's ARR read to rank) and hold exactly what rolling up every row gives; an earlier
    day is ranked then; a contract booked after the run is ranked at once (and stored again)."""
    build_family(console)
    book = console.book
    query = PortfolioQuery()
    start, end = book.today - timedelta(days=100), book.today + timedelta(days=200)
    with console.session() as session:
        for name, arr in (("Zeta", 12_000.0), ("alpha", 7_000.0), ("Kid", 400.0)):
            acct = make_account(session, name=name, owner=book.cleo)
            f.contract(session, acct, arr=arr, starts_on=start, ends_on=end)
        make_account(session, name="Prospect")
        session.commit()
        ada = session.get_one(User, book.ada.id)
        computed = every_family_rolled_up(session, query, ada, book.today)
        assert store_family_ranking(session, book.today) == {"families": len(computed)}
        session.commit()

    def ranked_again(*args: object) -> None:
        raise AssertionError("every account's ARR read again")

    with console.session() as session, monkeypatch.context() as patched:
        patched.setattr(families, "arr_by_currency", ranked_again)
        ada = session.get_one(User, book.ada.id)
        for limit in (1, 2, 50):
            shown = every_page(session, query, ada, book.today, limit)
            assert [r.model_dump() for r in shown] == [c.model_dump() for c in computed]
        selected = len(list(session.scalars(export_ids(session, query, ada, book.today))))
        assert top_parents(session, query, ada, book.today).accounts == selected
        with pytest.raises(AssertionError, match="read again"):
            top_parents(session, query, ada, book.today - timedelta(days=1))
    with console.session() as session:
        ada = session.get_one(User, book.ada.id)
        yesterday = book.today - timedelta(days=1)
        earlier = every_page(session, query, ada, yesterday, 2)
        expected = every_family_rolled_up(session, query, ada, yesterday)
        assert [r.model_dump() for r in earlier] == [e.model_dump() for e in expected]
        # Booked after the run: the largest family at once.
        newco = make_account(session, name="Newco", owner=book.cleo)
        f.contract(session, newco, arr=900_000.0, starts_on=start, ends_on=end)
        session.commit()
        shown = every_page(session, query, ada, book.today, 2)
        session.commit()
        computed = every_family_rolled_up(session, query, ada, book.today)
        assert [r.model_dump() for r in shown] == [c.model_dump() for c in computed]
        assert shown[0].name == "Newco"
        assert [r.name for r in shown][-1] == "Prospect"
    with console.session() as session, monkeypatch.context() as patched:
        patched.setattr(families, "arr_by_currency", ranked_again)
        ada = session.get_one(User, book.ada.id)
        again = every_page(session, query, ada, book.today, 3)
        assert [r.model_dump() for r in again] == [c.model_dump() for c in computed]


def every_family_rolled_up(
    session: Session, query: PortfolioQuery, user: User, as_of: date
) -> list[FamilyRow]:
    """The families as top parents were found before the pager: every row read and rolled up."""
    rows = full_rows(session, list(session.scalars(export_ids(session, query, user, as_of))), as_of)
    accounts = {a.id: a for a in session.scalars(sa.select(Account))}
    groups: dict[int, list[AccountRow]] = defaultdict(list)
    for row in rows:
        parents = {i: a.parent_id for i, a in accounts.items()}
        groups[hierarchy.top_parent_of(parents, row.id)].append(row)
    table = fx_service.rate_table(session, on=as_of)
    families = [
        FamilyRow(
            id=head,
            name=accounts[head].name,
            external_id=accounts[head].external_id,
            rollup=roll_up(members, table, as_of),
        )
        for head, members in groups.items()
    ]

    def rank(family: FamilyRow) -> tuple[int, float, str]:
        converted = family.rollup.arr_converted
        if converted is None:
            return (2, 0.0, family.name.lower())
        if converted.amount is None:
            return (1, 0.0, family.name.lower())
        return (0, -converted.amount, family.name.lower())

    return sorted(families, key=rank)
