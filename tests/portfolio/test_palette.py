"""The command palette finds pages, actions, owners and accounts, typos forgiven, and offers only
what the reader may open."""

from __future__ import annotations

import pytest

from tests.web.factories import token_headers
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)


def found(console: Console, who: str, text: str) -> list[tuple[str, str]]:
    with console.session() as session:
        headers = token_headers(session, getattr(console.book, who))
        session.commit()
    answer = console.client.get("/api/v1/search", params={"q": text}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [(e["kind"], e["label"]) for e in answer.json()]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("globx", ("account", "Globex")),  # a letter missing
        ("umbrela", ("account", "Umbrella")),
        ("Initech", ("account", "Initech")),
        ("renwals", ("page", "Renewals")),  # a typo in a page
        ("kpi", ("page", "KPIs")),
        ("cleo", ("owner", "Cleo CSM")),  # an owner: their accounts
        ("at risk", ("page", "Accounts at risk")),  # the Risk page
        ("csv", ("action", "Export the portfolio as CSV")),
    ],
)
def test_finds_each_kind_with_typos(console: Console, text: str, first: tuple[str, str]) -> None:
    assert found(console, "max", text)[0] == first


def test_offers_only_what_the_reader_may_open(console: Console) -> None:
    assert ("page", "Import") in found(console, "ada", "import")
    assert ("action", "Import a file") in found(console, "ada", "import")
    assert not [e for e in found(console, "cleo", "import") if "Import" in e[1]]
    assert ("action", "Reassign accounts") in found(console, "max", "reassign")
    assert found(console, "cleo", "reassign") == []
    assert found(console, "cleo", "zqxj") == []
    # Actions offered to those who may take them: campaigns are a manager's, a viewer confirms
    # nothing (the pages hide those forms from them too: tests/web/test_buttons_shown.py).
    assert ("action", "Send a survey") in found(console, "max", "survey")
    assert ("action", "Send a survey") not in found(console, "cleo", "survey")
    assert ("action", "Confirm churn classes") in found(console, "cleo", "churn")
    assert ("action", "Confirm churn classes") not in found(console, "vic", "churn")


def test_an_owner_opens_the_portfolio_filtered_to_them(console: Console) -> None:
    with console.session() as session:
        headers = token_headers(session, console.book.max)
        session.commit()
    [entry] = [
        e
        for e in console.client.get("/api/v1/search?q=sam", headers=headers).json()
        if e["kind"] == "owner"
    ]
    assert entry["url"] == f"/portfolio?owner={console.book.sam.id}"


def test_an_account_found_by_a_typo_opens_it_and_shows_its_id(console: Console) -> None:
    """The typo path reads only ids and names of every account, then the kept ones' ids."""
    with console.session() as session:
        headers = token_headers(session, console.book.max)
        session.commit()
    for text, account in (("globx", console.book.globex), ("umbrela", console.book.umbrella)):
        first = console.client.get("/api/v1/search", params={"q": text}, headers=headers).json()[0]
        assert first == {
            "label": account.name,
            "url": f"/accounts/{account.id}",
            "kind": "account",
            "hint": account.external_id,
        }
