"""The pipeline view and the opportunity and advocacy lists, a page at a time: walking the pages
gives exactly the whole list, and the forecast is the one of every open deal."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.accounts.advocacy import list_advocacy
from tenure.accounts.opportunities import list_opportunities, read_opportunity
from tenure.errors import InvalidInput
from tenure.model import AdvocacyKind, Opportunity, OpportunityKind, OpportunityStatus, Referral
from tenure.portfolio import pipeline
from tenure.portfolio.pipeline import (
    ForecastDeal,
    _decimal,
    advocacy_page,
    expansion_forecast,
    opportunity_page,
    pipeline_view,
)
from tenure.portfolio.records import encode_cursor
from tests import factories as f

AS_OF = date(2026, 3, 10)
OPEN, WON = OpportunityStatus.open, OpportunityStatus.won
EXPANSION, NEW, RENEWAL = (
    OpportunityKind.expansion,
    OpportunityKind.new_business,
    OpportunityKind.renewal,
)


@pytest.fixture
def deals(session: Session) -> None:
    """Deals whose order needs every part of the key: two accounts named Acme (and one acme,
    one Äpfel), several deals closing the same day, undated ones, an overdue one, won deals and
    an open deal deleted in the CRM (listed with its account, never in the open pipeline)."""
    cleo = f.user(session, email="cleo@example.com", name="Cleo CSM")
    names = ["Acme", "Acme", "acme", "Äpfel GmbH", "Beta", "beta-2"]
    accounts = [
        f.account(session, external_id=f"a{i}", name=name, owner=cleo)
        for i, name in enumerate(names)
    ]
    rows: list[dict[str, Any]] = []
    # As-of 2026-03-10: the 5th is overdue and the 20th is not (the same month); 2027-05 is
    # past a 12-month horizon.
    closes = [
        date(2026, 4, 30),
        date(2026, 4, 30),
        None,
        date(2026, 2, 1),
        date(2026, 6, 15),
        date(2026, 3, 5),
        date(2026, 3, 20),
        date(2027, 5, 1),
    ]
    # Amounts whose float sums are not their decimal sums (0.1 + 0.2), and the largest stored.
    amounts = [0.1, 0.2, 9_999_999_999.99, 1000.10, 333.33]
    for i in range(41):
        account = accounts[(i * 5) % len(accounts)]
        rows.append(
            {
                "account_id": account.id,
                "name": f"deal {i}",
                "kind": (EXPANSION, NEW, RENEWAL)[i % 3],
                "status": WON if i % 7 == 6 else OPEN,
                "amount": None if i % 11 == 4 else amounts[i % len(amounts)] + 37 * (i % 2),
                "currency": "JPY" if i % 4 == 3 else "EUR",
                "probability": None if i % 9 == 8 else float(10 + 5 * (i % 12)),
                "opened_on": date(2026, 1, 1),
                "close_on": closes[i % len(closes)],
                "owner_id": cleo.id if i % 2 else None,
                "deleted_in_crm_on": date(2026, 3, 1) if i == 10 else None,
            }
        )
    # Alike but for the day and amount: in the as-of month, one overdue and one not; in June,
    # amounts whose float sum is not their decimal sum.
    alike = {**rows[0], "kind": EXPANSION, "status": OPEN, "deleted_in_crm_on": None}
    for close_on, amount in (
        (date(2026, 3, 5), 0.1),
        (date(2026, 3, 20), 0.2),
        *((date(2026, 6, day), 9_999_999_999.99) for day in (1, 2, 3)),
        (date(2026, 6, 4), 0.07),
    ):
        rows.append({**alike, "name": f"alike {close_on}", "close_on": close_on, "amount": amount})
    session.execute(sa.insert(Opportunity), rows)
    session.execute(
        sa.insert(Referral),
        [
            {
                "account_id": accounts[i % 3].id,
                "kind": AdvocacyKind.reference,
                "occurred_on": date(2026, 1, 1 + i % 4),
                "title": f"reference {i}",
            }
            for i in range(11)
        ],
    )
    session.flush()


def _walk(first: Any, more: Any) -> list[int]:
    """Every item's id, page after page, until next_cursor is null."""
    page = first()
    ids = [item.id for item in page.items]
    while page.next_cursor is not None:
        assert len(page.items) == page.limit
        page = more(page.next_cursor)
        ids += [item.id for item in page.items]
    return ids


@pytest.mark.usefixtures("deals")
@pytest.mark.parametrize("limit", [1, 2, 3, 100])
@pytest.mark.parametrize(
    "filters",
    [{}, {"status": OPEN}, {"status": WON}, {"kind": EXPANSION}],
    ids=["all", "open", "won", "expansion"],
)
def test_opportunity_pages_walk_the_whole_list(
    session: Session, limit: int, filters: dict[str, Any]
) -> None:
    whole = [o.id for o in list_opportunities(session, **filters)]
    assert len(whole) >= 3
    walked = _walk(
        lambda: opportunity_page(session, limit=limit, **filters),
        lambda cursor: opportunity_page(session, limit=limit, cursor=cursor, **filters),
    )
    assert walked == whole


@pytest.mark.usefixtures("deals")
def test_a_listed_deal_reads_as_the_deal_itself(session: Session) -> None:
    """The list reads only the account's and owner's names; each deal reads the same as alone."""
    listed = list_opportunities(session)
    assert any(o.owner_name for o in listed) and any(o.owner_name is None for o in listed)
    assert listed == [read_opportunity(session, o.id) for o in listed]


@pytest.mark.usefixtures("deals")
@pytest.mark.parametrize("limit", [1, 4, 100])
def test_advocacy_pages_walk_the_whole_list(session: Session, limit: int) -> None:
    whole = [r.id for r in list_advocacy(session)]
    assert len(whole) == 11
    walked = _walk(
        lambda: advocacy_page(session, limit=limit),
        lambda cursor: advocacy_page(session, limit=limit, cursor=cursor),
    )
    assert walked == whole


@pytest.mark.usefixtures("deals")
def test_pipeline_view_pages_the_open_deals_and_forecasts_them_all(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forecast of every open deal, as it was computed from the whole open list before the
    deals were paged; the pages together are that list's new business and expansion, and the
    renewal deals are their own group."""
    monkeypatch.setattr(pipeline, "OPEN_DEALS_PER_PAGE", 4)
    whole = list_opportunities(session, status=OPEN)
    growth = [o for o in whole if o.kind in (EXPANSION, NEW)]
    renewals = [o for o in whole if o.kind is RENEWAL]
    old_forecast = expansion_forecast(
        (
            ForecastDeal(
                o.kind, o.currency, _decimal(o.amount), _decimal(o.probability), o.close_on
            )
            for o in whole
        ),
        AS_OF,
        12,
    )
    first = pipeline_view(session, AS_OF)
    assert (first.open_deals, first.pages) == (len(growth), -(-len(growth) // 4))
    assert first.groups == {"growth": len(growth), "renewal": len(renewals), "advocacy": 0}
    assert first.forecast == old_forecast
    assert any(r.unweighted for r in first.forecast.rows)
    shown = [
        o
        for page in range(1, first.pages + 1)
        for o in pipeline_view(session, AS_OF, page=page).open
    ]
    assert shown == growth
    assert len(first.open) == 4
    past = pipeline_view(session, AS_OF, page=first.pages + 1)
    assert (past.open, past.open_deals) == ([], len(growth))
    renewal_pages = pipeline_view(session, AS_OF, group="renewal")
    assert renewal_pages.open == renewals[:4] and renewal_pages.forecast == old_forecast


@pytest.mark.usefixtures("deals")
def test_pipeline_view_reads_two_statements_whatever_the_number_of_deals(
    session: Session, engine: sa.Engine
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        view = pipeline_view(session, AS_OF)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert view.open_deals > 10 and len(statements) == 2


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        encode_cursor(42),
        encode_cursor([1, 2]),
        encode_cursor(["2026-13-01", "Acme", 1]),
        encode_cursor([None, 7, 1]),
        encode_cursor([None, "Acme", "1"]),
        encode_cursor([None, "Acme", 10**30]),
        encode_cursor([None, "Ac\x00me", 1]),
    ],
)
def test_a_cursor_this_api_did_not_return_is_refused(session: Session, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="is not a cursor this API returned"):
        opportunity_page(session, limit=10, cursor=cursor)


@pytest.mark.parametrize(
    "cursor",
    [encode_cursor(["2026-01-01"]), encode_cursor([None, 1]), encode_cursor(["2026-01-01", -1])],
)
def test_an_advocacy_cursor_it_did_not_return_is_refused(session: Session, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="is not a cursor this API returned"):
        advocacy_page(session, limit=10, cursor=cursor)
