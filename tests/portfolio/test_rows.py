"""Portfolio rows count an account's contracts by the contract definition (tenure.accounts.arr:
in force on the day), never by the status an import stored: a term whose last day has passed
is no ARR though its row still says 'active', and a cancellation at period end is ARR until
that end though its row says 'cancelled' (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tenure.model import Contract, ContractStatus, User
from tenure.portfolio.book import export_ids, portfolio
from tenure.portfolio.schemas import PortfolioQuery
from tests import factories as f
from tests.api.test_v1 import headers_for
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def test_rows_read_the_contracts_in_force_not_their_stored_status(console: Console) -> None:
    book = console.book
    today = book.today
    with console.session() as session:
        # Globex's 50,000 term ended ten days ago; nobody updated its status (still 'active').
        globex = session.query(Contract).filter_by(account_id=book.globex.id).one()
        globex.ends_on = today - timedelta(days=10)
        # Initech cancelled at period end: 80,000 is paid until that end, 90 days away.
        initech = session.query(Contract).filter_by(account_id=book.initech.id).one()
        initech.status = ContractStatus.cancelled
        initech.outcome_on = today + timedelta(days=90)
        # Umbrella's EUR term ended yesterday with a successor (USD) that began today: only the
        # successor counts (the handover day is the new term's).
        umbrella = session.query(Contract).filter_by(account_id=book.umbrella.id).one()
        umbrella.ends_on = today
        umbrella.starts_on = today - timedelta(days=365)
        f.contract(
            session,
            session.get_one(type(book.umbrella), book.umbrella.id),
            arr=12_500,
            currency="USD",
            starts_on=today,
            ends_on=today + timedelta(days=365),
        )
        session.commit()
    headers = headers_for(console, "ada@example.com")
    # Globex, its only term over, churned by the definition: left out of the default portfolio.
    default = console.client.get("/api/v1/accounts?limit=50", headers=headers).json()["items"]
    assert "Globex" not in {r["name"] for r in default}
    listed = console.client.get("/api/v1/accounts?limit=50&churned=true", headers=headers).json()[
        "items"
    ]
    rows = {r["name"]: (r["arr"], r["currency"]) for r in listed}
    assert rows["Globex"] == (0.0, None)
    assert rows["Initech"] == (80_000.0, "USD")
    assert rows["Umbrella"] == (12_500.0, "USD")
    assert rows["Acme"] == (120_000.0, "USD")
    # Sorting and filtering by ARR read the same definition.
    ranked = console.client.get("/api/v1/accounts?sort=arr&direction=desc", headers=headers).json()[
        "items"
    ]
    assert [r["name"] for r in ranked][:3] == ["Acme", "Initech", "Umbrella"]
    one = console.client.get(f"/api/v1/accounts/{book.globex.id}", headers=headers).json()
    assert one["account"]["arr_by_currency"] == []


def test_a_page_number_counts_every_selected_account(console: Console) -> None:
    """The page's own query counts the rows it selects (a window before OFFSET and LIMIT): the
    total is every account the filters select — on each page, past the last, and with a cursor
    (counted apart) alike — the number the export's ids give."""
    book = console.book
    with console.session() as session:
        ada = session.get_one(User, book.ada.id)
        for params in (
            {},
            {"churned": True},
            {"sort": "risk", "direction": "desc"},
            {"sort": "utilization", "owner": "none"},
            {"segment": "Enterprise", "sort": "health", "direction": "desc"},
            {"q": "zzz"},
        ):
            query = PortfolioQuery(**params, limit=2)
            selected = len(session.scalars(export_ids(session, query, ada, book.today)).all())
            seen = []
            for page in (1, 2, 3, 9):
                shown = portfolio(session, query.model_copy(update={"page": page}), ada, book.today)
                assert shown.total == selected, (params, page)
                seen += [r.id for r in shown.items]
            assert len(seen) == min(selected, 6)
            cursor = portfolio(session, query, ada, book.today).next_cursor
            if cursor:
                paged = query.model_copy(update={"cursor": cursor})
                assert portfolio(session, paged, ada, book.today).total == selected
