"""Reassigning owners from the console: the owner list offers exactly the people the service
accepts from the reader, the account's list starts at its current owner, the change is
confirmed on a page that says what will happen, and the page after says what did."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from tenure.model import Account, Cta, CtaEvent
from tests import factories as f
from tests.web.factories import csrf_of, sign_in, token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

OPTION = re.compile(r'<option value="(\d+)"\s*(selected)?\s*>([^<(]+)')


def offered(page: str, marker: str) -> list[tuple[str, bool]]:
    """The owners offered in the select that follows ``marker``: (name, selected)."""
    start = page.index(marker)
    select = page[start : page.index("</select>", start)]
    return [(name.strip(), bool(sel)) for _, sel, name in OPTION.findall(select)]


def test_a_manager_is_offered_their_team_only(console: Console) -> None:
    """Max manages Cleo; Sam and Ada are not on his team, so the service would refuse them —
    the portfolio's list and Acme's (Cleo's account) offer Max and Cleo only, Acme's at Cleo."""
    book = console.book
    sign_in(console.client, "max@example.com")
    portfolio = html.unescape(console.client.get("/portfolio").text)
    assert offered(portfolio, "Reassign the selected accounts to") == [
        ("Cleo CSM", False),
        ("Max Manager", False),
    ]
    account = html.unescape(console.client.get(f"/accounts/{book.acme.id}").text)
    assert offered(account, "change owner") == [("Cleo CSM", True), ("Max Manager", False)]
    # What the list leaves out, the service refuses.
    token = csrf_of(portfolio)
    refused = console.client.post(
        "/portfolio/reassign",
        data={
            "account_ids": [str(book.acme.id)],
            "owner_id": str(book.sam.id),
            "csrf_token": token,
        },
    )
    assert refused.status_code == 422 and "is not on your team" in html.unescape(refused.text)
    # A CSM may not reassign: no list at all.
    sign_in(console.client, "cleo@example.com")
    assert "Reassign the selected" not in console.client.get("/portfolio").text
    assert "change owner" not in console.client.get(f"/accounts/{book.acme.id}").text


def test_confirm_then_the_result_and_the_open_ctas_follow(console: Console) -> None:
    book = console.book
    with console.session() as session:
        cta = f.cta(session, book.acme, owner=book.cleo, title="Detractor", today=book.today)
        session.commit()
    sign_in(console.client, "max@example.com")
    token = csrf_of(console.client.get(f"/accounts/{book.acme.id}").text)
    form = {
        "account_ids": [str(book.acme.id)],
        "owner_id": str(book.max.id),
        "back": f"/accounts/{book.acme.id}",
        "csrf_token": token,
    }
    asked = html.unescape(console.client.post("/portfolio/reassign", data=form).text)
    assert "Give 1 account to Max Manager?" in asked
    assert re.search(r"Acme</a></td><td>Cleo CSM</td>\s*<td>Max Manager", asked)
    with console.session() as session:  # nothing changed before the confirmation
        assert session.get_one(Account, book.acme.id).owner_id == book.cleo.id
    done = console.client.post(
        "/portfolio/reassign", data={**form, "confirmed": "true"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"/accounts/{book.acme.id}?reassigned=1&unchanged=0&to={book.max.id}"
    )
    page = html.unescape(console.client.get(done.headers["location"]).text)
    assert "1 account now owned by Max Manager." in page
    with console.session() as session:
        assert session.get_one(Account, book.acme.id).owner_id == book.max.id
        assert session.get_one(Cta, cta.id).owner_id == book.max.id
        kinds = session.scalars(sa.select(CtaEvent.kind).where(CtaEvent.cta_id == cta.id)).all()
        assert kinds == ["reassigned"]
    cta_page = html.unescape(console.client.get(f"/ctas/{cta.id}").text)
    assert "Handed to Max Manager with the account" in cta_page


def test_nothing_selected_or_no_owner_chosen_is_said_in_words(console: Console) -> None:
    sign_in(console.client, "ada@example.com")
    token = csrf_of(console.client.get("/portfolio").text)
    none = console.client.post(
        "/portfolio/reassign", data={"owner_id": str(console.book.sam.id), "csrf_token": token}
    )
    assert none.status_code == 422 and "Select at least one account to reassign" in none.text
    no_owner = console.client.post(
        "/portfolio/reassign",
        data={"account_ids": [str(console.book.acme.id)], "owner_id": "", "csrf_token": token},
    )
    assert no_owner.status_code == 422 and "Choose the new owner" in no_owner.text


def test_the_api_offers_the_same_people(console: Console) -> None:
    with console.session() as session:
        headers = {
            email: token_headers(session, user)
            for email, user in (("max", console.book.max), ("cleo", console.book.cleo))
        }
        session.commit()
    names = {
        who: [o["name"] for o in console.client.get("/api/v1/owners/assignable", headers=h).json()]
        for who, h in headers.items()
    }
    assert names == {"max": ["Cleo CSM", "Max Manager"], "cleo": []}
